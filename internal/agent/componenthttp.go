package agent

import (
	"net"
	"net/http"

	"github.com/shoal-dev/shoal/internal/component"
)

// componentHandler finds the HTTP handler of a component by ID, for the
// server's /api/v0/component/<id>/ route.
func (n *node) componentHandler(id string) (http.Handler, bool) {
	if n.rt == nil {
		return nil, false
	}
	info, ok := n.rt.Component(id)
	if !ok {
		return nil, false
	}
	hc, ok := info.Instance.(component.HTTPComponent)
	if !ok {
		return nil, false
	}
	return hc.Handler(), true
}

// selfDialAddr is the address at which this node reaches its own server:
// the listen address, with an unspecified host (0.0.0.0, ::) replaced by
// loopback.
func selfDialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	return (&net.TCPAddr{IP: ip, Port: tcp.Port}).String()
}
