package all

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/alloycatalog"
	"github.com/shoal-dev/shoal/internal/stability"
)

func TestRegistryHoldsRoundOne(t *testing.T) {
	want := []string{
		"discovery.dns", "discovery.file", "discovery.http", "discovery.kubernetes", "discovery.relabel",
		"local.file", "local.file_match",
		"prometheus.enrich", "prometheus.exporter.self", "prometheus.exporter.unix",
		"prometheus.relabel", "prometheus.remote_write", "prometheus.scrape",
		"remote.http", "remote.kubernetes.configmap", "remote.kubernetes.secret",
	}
	for _, r := range more() {
		want = append(want, r.Name)
	}
	slices.Sort(want)
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

// TestRegistrationsCarryAlloysStability checks every registered component
// against Alloy's reference: it must be an Alloy component, in scope, with
// the stability level and community mark Alloy's page gives it, so that
// --stability.level refuses exactly what Alloy refuses.
func TestRegistrationsCarryAlloysStability(t *testing.T) {
	reg := Registry()
	for _, name := range reg.Names() {
		r, _ := reg.Get(name)
		e, ok := alloycatalog.Component(name)
		if !ok {
			t.Errorf("%s is not a component of Alloy's reference", name)
			continue
		}
		if _, out := alloycatalog.OutOfScope(name); out {
			t.Errorf("%s is registered but out of scope", name)
		}
		level := r.Stability
		if level == stability.Undefined {
			level = stability.GenerallyAvailable
		}
		if level != e.Stability || r.Community != e.Community {
			t.Errorf("%s: registered at %v (community %v), Alloy has %v (community %v)", name, r.Stability, r.Community, e.Stability, e.Community)
		}
	}
}

// TestMigrationDocListsWhatIsMissing keeps docs/migrating-from-alloy.md
// naming every in-scope Alloy component shoal does not have, and every
// otelcol component it counts as in scope, since the errors point there.
func TestMigrationDocListsWhatIsMissing(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/migrating-from-alloy.md")
	if err != nil {
		t.Fatal(err)
	}
	reg := Registry()
	for _, name := range alloycatalog.ComponentNames() {
		if _, ok := reg.Get(name); ok {
			continue
		}
		if _, out := alloycatalog.OutOfScope(name); out {
			continue
		}
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/migrating-from-alloy.md does not list %s, which shoal does not implement yet", name)
		}
	}
}
