package cluster

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseJoinAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want joinAddr
		err  string
	}{
		{in: "10.0.0.1:12345", want: joinAddr{kind: joinHost, host: "10.0.0.1", port: 12345, ip: netip.MustParseAddr("10.0.0.1")}},
		{in: "10.0.0.1", want: joinAddr{kind: joinHost, host: "10.0.0.1", ip: netip.MustParseAddr("10.0.0.1")}},
		{in: "[::1]:80", want: joinAddr{kind: joinHost, host: "::1", port: 80, ip: netip.MustParseAddr("::1")}},
		{in: "::1", want: joinAddr{kind: joinHost, host: "::1", ip: netip.MustParseAddr("::1")}},
		{in: "alloy-cluster.ns.svc", want: joinAddr{kind: joinHost, host: "alloy-cluster.ns.svc"}},
		{in: " peers:9000 ", want: joinAddr{kind: joinHost, host: "peers", port: 9000}},
		{in: "dns+peers.example:80", want: joinAddr{kind: joinDNS, host: "peers.example", port: 80}},
		{in: "dnssrv+_http._tcp.peers.example", want: joinAddr{kind: joinSRV, host: "_http._tcp.peers.example"}},
		{in: "dnssrvnoa+_http._tcp.peers.example:81", want: joinAddr{kind: joinSRVNoA, host: "_http._tcp.peers.example", port: 81}},
		{in: "", err: "empty host"},
		{in: "dns+", err: "empty host"},
		{in: "host:0", err: "bad port"},
		{in: "host:99999", err: "bad port"},
		{in: "host:http", err: "bad port"},
		{in: "dns+10.0.0.1", err: "needs a name"},
		{in: "bad host!", err: "neither an IP nor a host name"},
		{in: "http://peer:80", err: "neither an IP nor a host name"},
	} {
		got, err := parseJoinAddress(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseJoinAddress(%q) error = %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseJoinAddress(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("parseJoinAddress(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// fakeResolver answers from tables.
type fakeResolver struct {
	a   map[string][]string
	srv map[string][]*net.SRV
}

func (r fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := r.a[host]
	if !ok {
		return nil, errors.New("no such host " + host)
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func (r fakeResolver) LookupSRV(_ context.Context, _, _, name string) (string, []*net.SRV, error) {
	recs, ok := r.srv[name]
	if !ok {
		return "", nil, errors.New("no SRV for " + name)
	}
	return name, recs, nil
}

func TestResolveJoinAddresses(t *testing.T) {
	res := fakeResolver{
		a: map[string][]string{
			"peers.svc":   {"10.0.0.1", "10.0.0.2", "10.0.0.3"},
			"pod-0.peers": {"10.0.0.1"},
			"pod-1.peers": {"10.0.0.4"},
		},
		srv: map[string][]*net.SRV{
			"_http._tcp.peers": {{Target: "pod-0.peers.", Port: 80}, {Target: "pod-1.peers.", Port: 80}},
			"onlysrv":          {{Target: "pod-1.peers", Port: 80}},
		},
	}
	self := netip.MustParseAddrPort("10.0.0.3:12345")
	for _, tc := range []struct {
		name    string
		entries []string
		want    []string
	}{
		{"a name resolving to several records, without this node", []string{"peers.svc"}, []string{"10.0.0.1:12345", "10.0.0.2:12345"}},
		{"an explicit port wins", []string{"peers.svc:9000"}, []string{"10.0.0.1:9000", "10.0.0.2:9000", "10.0.0.3:9000"}},
		{"SRV ports are ignored, as in Alloy", []string{"dnssrv+_http._tcp.peers"}, []string{"10.0.0.1:12345", "10.0.0.4:12345"}},
		{"dnssrvnoa keeps the targets' names", []string{"dnssrvnoa+_http._tcp.peers:81"}, []string{"pod-0.peers:81", "pod-1.peers:81"}},
		{"a name without address records falls back to SRV", []string{"onlysrv"}, []string{"10.0.0.4:12345"}},
		{"duplicates are removed", []string{"10.0.0.1:12345", "pod-0.peers", "dns+pod-0.peers"}, []string{"10.0.0.1:12345"}},
		{"this node's own address is skipped", []string{"10.0.0.3:12345", "10.0.0.1"}, []string{"10.0.0.1:12345"}},
		{"a failing entry does not stop the others", []string{"nowhere", "10.0.0.9"}, []string{"10.0.0.9:12345"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := resolveJoin(context.Background(), res, tc.entries, self, 0)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("resolved %v to %v, want %v", tc.entries, got, tc.want)
			}
		})
	}
	t.Run("max join peers picks that many", func(t *testing.T) {
		got, _ := resolveJoin(context.Background(), res, []string{"peers.svc", "pod-1.peers"}, self, 2)
		if len(got) != 2 {
			t.Errorf("got %v, want 2 of the 3 peers", got)
		}
	})
	t.Run("an unresolvable entry is reported", func(t *testing.T) {
		if _, err := resolveJoin(context.Background(), res, []string{"nowhere"}, self, 0); err == nil {
			t.Error("no error for a name that does not resolve")
		}
	})
}

func TestAdvertiseAddress(t *testing.T) {
	res := fakeResolver{a: map[string][]string{"node.example": {"10.1.2.3"}, "localhost": {"127.0.0.1"}}}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name, listen, flag, want string
	}{
		{"a specific listen IP is advertised", "10.9.8.7:12345", "", "10.9.8.7:12345"},
		{"a listen host name is resolved", "localhost:8080", "", "127.0.0.1:8080"},
		{"the flag wins, taking the listen port", "0.0.0.0:12345", "10.0.0.5", "10.0.0.5:12345"},
		{"the flag's own port wins", "0.0.0.0:12345", "10.0.0.5:80", "10.0.0.5:80"},
		{"the flag may be a name", "0.0.0.0:12345", "node.example:9", "10.1.2.3:9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.AdvertiseAddress = tc.flag
			got, err := advertiseAddress(context.Background(), &cfg, tc.listen, res, log)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want {
				t.Errorf("advertise address %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("0.0.0.0 picks an interface address that is not loopback", func(t *testing.T) {
		cfg := DefaultConfig()
		got, err := advertiseAddress(context.Background(), &cfg, "0.0.0.0:12345", res, log)
		if err != nil {
			t.Fatal(err)
		}
		if got.Port() != 12345 || got.Addr().IsUnspecified() {
			t.Errorf("advertise address %s", got)
		}
		if _, ok := interfaceAddress([]string{"all"}); ok && got.Addr().IsLoopback() {
			t.Errorf("advertised loopback %s although the host has another address", got)
		}
	})
}

func TestUnresolvableJoinAddressIsAWarningOnce(t *testing.T) {
	var buf bytes.Buffer
	n := &Node{
		log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})),
		res: fakeResolver{},
		cfg: Config{JoinAddresses: []string{"nowhere.example:12345"}},
	}
	for range 3 {
		if n.joinOnce(context.Background(), false) {
			t.Fatal("joined through an address that does not resolve")
		}
	}
	out := buf.String()
	if got := strings.Count(out, "cannot resolve some join addresses"); got != 1 {
		t.Errorf("%d warnings over three retries, want 1:\n%s", got, out)
	}
	if !strings.Contains(out, "nowhere.example") {
		t.Errorf("the warning does not name the address:\n%s", out)
	}
}
