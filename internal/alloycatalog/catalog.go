// Package alloycatalog knows every component and top-level block of Grafana
// Alloy's reference, with its stability level, and sorts the names shoal
// does not implement into three cases so that an error can say which: out
// of shoal's scope (logs, traces, profiles: run them in Alloy), in scope
// but not implemented yet, or not an Alloy name at all. The list is
// generated from Alloy's documentation (gen/, catalog_gen.go); the scope
// rules are written here by hand and mirrored in docs/migrating-from-alloy.md.
// It decides nothing about components shoal has: those are in the registry
// of internal/component.
package alloycatalog

import (
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/internal/stability"
)

//go:generate go run ./gen -mirror /work/.mirror/grafana+alloy/repo -out catalog_gen.go

// Entry is what Alloy's reference says of one component or block.
type Entry struct {
	Stability stability.Level
	// Community components need --feature.community-components.enabled.
	Community bool
}

// Doc is the document that explains how to split a config between shoal
// and Alloy; errors point to it.
const Doc = "docs/migrating-from-alloy.md"

// Component returns Alloy's entry for a component name.
func Component(name string) (Entry, bool) {
	e, ok := components[name]
	return e, ok
}

// Block returns Alloy's entry for a top-level block name.
func Block(name string) (Entry, bool) {
	e, ok := blocks[name]
	return e, ok
}

// ComponentNames lists every Alloy component name, sorted.
func ComponentNames() []string {
	names := make([]string, 0, len(components))
	for n := range components {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BlockNames lists every Alloy top-level block name, sorted.
func BlockNames() []string {
	names := make([]string, 0, len(blocks))
	for n := range blocks {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// OTLPMetrics lists the otelcol components on the path of OTLP metrics into
// Prometheus remote write: receive OTLP, batch, limit memory, filter and
// transform, add Kubernetes or resource attributes, turn deltas into
// cumulative counters, convert to Prometheus samples, and the
// authenticators an OTLP receiver uses. They are in shoal's scope; every
// other otelcol component is not.
var OTLPMetrics = []string{
	"otelcol.auth.basic",
	"otelcol.auth.bearer",
	"otelcol.auth.headers",
	"otelcol.exporter.prometheus",
	"otelcol.processor.attributes",
	"otelcol.processor.batch",
	"otelcol.processor.deltatocumulative",
	"otelcol.processor.filter",
	"otelcol.processor.k8sattributes",
	"otelcol.processor.memory_limiter",
	"otelcol.processor.resourcedetection",
	"otelcol.processor.transform",
	"otelcol.receiver.otlp",
}

// outOfScope maps a name's first fragment to what it handles, for the
// namespaces that are out of scope as a whole.
var outOfScope = map[string]string{
	"loki":                   "logs",
	"pyroscope":              "profiles",
	"faro":                   "frontend logs and traces",
	"beyla":                  "eBPF traces",
	"database_observability": "database query logs sent to Loki",
}

// OutOfScope reports whether name is a component for logs, traces or
// profiles, which shoal refuses; why says what it handles. It holds for
// every name in an out-of-scope namespace, Alloy's or not, so that a typo
// in a loki block is still told to go to Alloy.
func OutOfScope(name string) (why string, out bool) {
	root, _, _ := strings.Cut(name, ".")
	if w, ok := outOfScope[root]; ok {
		return w, true
	}
	if root == "otelcol" {
		for _, n := range OTLPMetrics {
			if n == name {
				return "", false
			}
		}
		return "OpenTelemetry pipelines other than OTLP metrics into Prometheus remote write", true
	}
	return "", false
}
