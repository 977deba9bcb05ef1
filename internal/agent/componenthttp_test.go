package agent

import (
	"net"
	"testing"
)

func TestSelfDialAddr(t *testing.T) {
	for _, c := range []struct {
		in   *net.TCPAddr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 12345}, "127.0.0.1:12345"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "[::1]:80"},
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 9}, "10.1.2.3:9"},
		{&net.TCPAddr{Port: 7}, "127.0.0.1:7"},
	} {
		if got := selfDialAddr(c.in); got != c.want {
			t.Errorf("selfDialAddr(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
