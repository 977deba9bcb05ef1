package dns

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// The prometheus dns discoverer always asks the servers in
// /etc/resolv.conf, which a test cannot point at a loopback server, so
// these tests stop at the conversion; the refresh machinery it runs on is
// tested in the discovery package with a stand-in refresh function.

func TestDocExampleConvertsToAnARecordLookupOnPort8080(t *testing.T) {
	// discovery.dns "dns_lookup" { names = [...], type = "A", port = 8080 }
	a := DefaultArguments
	a.Names = []string{"myservice.example.com", "myotherservice.example.com"}
	a.Type = "A"
	a.Port = 8080
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	c := a.SDConfig()
	if c.Type != "A" || c.Port != 8080 || len(c.Names) != 2 || c.RefreshInterval != model.Duration(30*time.Second) {
		t.Fatalf("SDConfig = %+v", c)
	}
}

func TestLowerCaseTypeIsAccepted(t *testing.T) {
	a := DefaultArguments
	a.Names = []string{"_http._tcp.example.com"}
	a.Type = "srv"
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := a.SDConfig().Type; got != "SRV" {
		t.Fatalf("type = %q, want SRV", got)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no names", func(a *Arguments) { a.Names = nil }, "at least one name"},
		{"A without port", func(a *Arguments) { a.Type = "A" }, "a port is required"},
		{"unknown type", func(a *Arguments) { a.Type = "TXT" }, "invalid DNS-SD records type"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := DefaultArguments
			a.Names = []string{"x.example.com"}
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNewBuildsTheDiscoverer(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "discovery.dns.test")
	a := DefaultArguments
	a.Names = []string{"_x._tcp.invalid"}
	if _, err := New(opts, a); err != nil {
		t.Fatal(err)
	}
}
