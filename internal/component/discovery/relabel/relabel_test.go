package relabel

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func rule(f func(c *relabel.Config)) relabel.Config {
	var c relabel.Config
	c.SetToDefault()
	f(&c)
	return c
}

func TestKeepsRelabelsAndExportsTheRules(t *testing.T) {
	opts, rec, _ := discoverytest.Options(t, "discovery.relabel.test")
	rules := []relabel.Config{
		rule(func(c *relabel.Config) {
			c.Action = relabel.Keep
			c.SourceLabels = []string{"__meta_kubernetes_pod_label_app"}
			c.Regex = "web"
		}),
		rule(func(c *relabel.Config) {
			c.SourceLabels = []string{"__meta_kubernetes_pod_name"}
			c.TargetLabel = "pod"
		}),
	}
	in := []discovery.Target{
		{"__address__": "10.0.0.1:80", "__meta_kubernetes_pod_label_app": "web", "__meta_kubernetes_pod_name": "web-1"},
		{"__address__": "10.0.0.2:80", "__meta_kubernetes_pod_label_app": "db", "__meta_kubernetes_pod_name": "db-1"},
	}
	c, err := New(opts, Arguments{Targets: in, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := rec.Last().(Exports)
	if !ok {
		t.Fatal("New did not publish exports")
	}
	if len(e.Output) != 1 || e.Output[0]["pod"] != "web-1" || e.Output[0]["__address__"] != "10.0.0.1:80" {
		t.Fatalf("output = %v, want only the web pod, with pod=web-1", e.Output)
	}
	if len(e.Rules) != 2 || e.Rules[1].TargetLabel != "pod" {
		t.Fatalf("rules export = %+v", e.Rules)
	}

	// New targets arrive through Update.
	in = append(in, discovery.Target{"__address__": "10.0.0.3:80", "__meta_kubernetes_pod_label_app": "web", "__meta_kubernetes_pod_name": "web-2"})
	if err := c.Update(Arguments{Targets: in, Rules: rules}); err != nil {
		t.Fatal(err)
	}
	if got := c.Exports().Output; len(got) != 2 || got[1]["pod"] != "web-2" {
		t.Fatalf("output after update = %v", got)
	}

	// Invalid rules are refused and the last output stays.
	bad := []relabel.Config{rule(func(c *relabel.Config) { c.Action = "bogus" })}
	if err := c.Update(Arguments{Targets: in, Rules: bad}); err == nil || !strings.Contains(err.Error(), "unknown relabel action") {
		t.Fatalf("Update with a bad rule = %v", err)
	}
	if got := c.Exports().Output; len(got) != 2 {
		t.Fatalf("output after a failed update = %v, want the previous 2 targets", got)
	}
}

func TestNoRulesPassesTargetsThrough(t *testing.T) {
	in := []discovery.Target{{"__address__": "a"}, {"__address__": "b"}}
	if got := Relabel(in, nil); fmt.Sprint(got) != fmt.Sprint(in) {
		t.Fatalf("Relabel without rules = %v, want %v", got, in)
	}
}

func TestTargetWithEveryLabelDroppedDisappears(t *testing.T) {
	rules, err := relabel.Rules{rule(func(c *relabel.Config) { c.Action = relabel.LabelDrop; c.Regex = ".*" })}.Prometheus()
	if err != nil {
		t.Fatal(err)
	}
	if got := Relabel([]discovery.Target{{"__address__": "a"}}, rules); len(got) != 0 {
		t.Fatalf("Relabel = %v, want no target", got)
	}
}

func BenchmarkRelabelTargets(b *testing.B) {
	rules, err := relabel.Rules{
		rule(func(c *relabel.Config) {
			c.Action = relabel.Keep
			c.SourceLabels = []string{"app"}
			c.Regex = "web|api"
		}),
		rule(func(c *relabel.Config) { c.Action = relabel.LabelMap; c.Regex = "__meta_(.+)" }),
	}.Prometheus()
	if err != nil {
		b.Fatal(err)
	}
	in := make([]discovery.Target, 1000)
	for i := range in {
		in[i] = discovery.Target{"__address__": fmt.Sprintf("10.0.%d.%d:80", i/256, i%256), "app": []string{"web", "api", "db"}[i%3], "__meta_pod": fmt.Sprint("p", i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		Relabel(in, rules)
	}
}
