package alloycatalog

import (
	"testing"

	"github.com/shoal-dev/shoal/internal/stability"
)

// TestCatalogKnowsAlloysLevels checks the generated list against facts of
// Alloy's reference at the pinned commit.
func TestCatalogKnowsAlloysLevels(t *testing.T) {
	for name, want := range map[string]stability.Level{
		"prometheus.scrape":                   stability.GenerallyAvailable,
		"prometheus.operator.scrapeconfigs":   stability.Experimental,
		"prometheus.enrich":                   stability.Experimental,
		"otelcol.processor.deltatocumulative": stability.Experimental,
		"prometheus.exporter.unix":            stability.GenerallyAvailable,
	} {
		e, ok := Component(name)
		if !ok || e.Stability != want {
			t.Errorf("Component(%q) = %+v, %v; want level %v", name, e, ok, want)
		}
	}
	if e, ok := Block("foreach"); !ok || e.Stability != stability.Experimental {
		t.Errorf("Block(foreach) = %+v, %v", e, ok)
	}
	if e, _ := Component("otelcol.exporter.datadog"); !e.Community {
		t.Error("otelcol.exporter.datadog is not marked as a community component")
	}
	if n := len(ComponentNames()); n < 150 {
		t.Errorf("only %d components in the catalog", n)
	}
}

func TestOutOfScope(t *testing.T) {
	for name, want := range map[string]bool{
		"loki.write":                  true,
		"loki.wirte":                  true,
		"pyroscope.scrape":            true,
		"faro.receiver":               true,
		"beyla.ebpf":                  true,
		"otelcol.receiver.jaeger":     true,
		"otelcol.exporter.otlp":       true,
		"otelcol.receiver.otlp":       false,
		"otelcol.exporter.prometheus": false,
		"prometheus.exporter.unix":    false,
		"discovery.ec2":               false,
	} {
		if _, got := OutOfScope(name); got != want {
			t.Errorf("OutOfScope(%q) = %v, want %v", name, got, want)
		}
	}
	for _, n := range OTLPMetrics {
		if _, ok := Component(n); !ok {
			t.Errorf("OTLPMetrics names %q, which Alloy does not have", n)
		}
	}
}
