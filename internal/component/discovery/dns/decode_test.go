package dns

import (
	"testing"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestDocExampleDecodes(t *testing.T) {
	// From Alloy's docs, discovery.dns-2.alloy.
	src := `
discovery.dns "dns_lookup" {
  names = ["myservice.example.com", "myotherservice.example.com"]
  type = "A"
  port = 8080
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.dns", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Names) != 2 || a.Type != "A" || a.Port != 8080 || a.RefreshInterval != DefaultArguments.RefreshInterval {
		t.Fatalf("decoded %+v", a)
	}
	err := discoverytest.Decode(t, `discovery.dns "x" { names = ["a"]
 type = "A" }`, "discovery.dns", nil, &a)
	if err == nil {
		t.Fatal("an A lookup without a port was accepted")
	}
}
