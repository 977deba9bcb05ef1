package all

import (
	"slices"
	"testing"
)

func TestRegistryHoldsRoundOne(t *testing.T) {
	want := []string{
		"discovery.dns", "discovery.file", "discovery.http", "discovery.kubernetes", "discovery.relabel",
		"local.file", "prometheus.exporter.self", "prometheus.exporter.unix",
		"prometheus.relabel", "prometheus.remote_write", "prometheus.scrape",
	}
	reg := Registry()
	if got := reg.Names(); !slices.Equal(got, want) {
		t.Fatalf("registered %v, want %v", got, want)
	}
	for _, name := range want {
		r, _ := reg.Get(name)
		if r.Args == nil || r.Build == nil {
			t.Errorf("%s: registration lacks Args or Build", name)
		}
	}
}
