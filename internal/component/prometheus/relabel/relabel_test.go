package relabel

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/sample"
)

// sink records what it receives, copying it as a real receiver must.
type sink struct {
	mu        sync.Mutex
	samples   []sample.Sample
	exemplars []sample.Exemplar
	metadata  []sample.Metadata
	batches   int
}

func (s *sink) Receive(_ context.Context, b *sample.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches++
	s.samples = append(s.samples, b.Samples...)
	s.exemplars = append(s.exemplars, b.Exemplars...)
	s.metadata = append(s.metadata, b.Metadata...)
	return nil
}

func (s *sink) lines() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, x := range s.samples {
		v := fmt.Sprint(x.V)
		if value.IsStaleNaN(x.V) {
			v = "stale"
		}
		out = append(out, fmt.Sprintf("%s@%d=%s", x.Labels, x.T, v))
	}
	return strings.Join(out, "\n")
}

func rule(f func(c *relabel.Config)) relabel.Config {
	var c relabel.Config
	c.SetToDefault()
	f(&c)
	return c
}

// dropDebugAndTagEnv drops series with level="debug" and sets env="prod".
var dropDebugAndTagEnv = []relabel.Config{
	rule(func(c *relabel.Config) {
		c.Action = relabel.Drop
		c.SourceLabels = []string{"level"}
		c.Regex = "debug"
	}),
	rule(func(c *relabel.Config) { c.TargetLabel = "env"; c.Replacement = "prod" }),
}

func newComponent(t testing.TB, rules []relabel.Config, to ...sample.Receiver) (*Component, *discoverytest.Recorder, *prometheus.Registry) {
	t.Helper()
	opts, rec, reg := discoverytest.Options(t, "prometheus.relabel.test")
	var a Arguments
	a.SetToDefault()
	a.ForwardTo = to
	a.Rules = rules
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec, reg
}

func stale() float64 { return math.Float64frombits(value.StaleNaN) }

func TestDroppedSeriesAreRemovedAndKeptOnesRelabelledInOrder(t *testing.T) {
	out := &sink{}
	c, rec, _ := newComponent(t, dropDebugAndTagEnv, out)
	if e, ok := rec.Last().(Exports); !ok || e.Receiver != c || len(e.Rules) != 2 {
		t.Fatalf("exports = %#v, want the component as receiver and the 2 rules", rec.Last())
	}
	b := &sample.Batch{Samples: []sample.Sample{
		{Labels: labels.FromStrings("__name__", "logs", "level", "info"), T: 1, V: 10},
		{Labels: labels.FromStrings("__name__", "logs", "level", "debug"), T: 1, V: 99},
		{Labels: labels.FromStrings("__name__", "up"), T: 1, V: 1},
		{Labels: labels.FromStrings("__name__", "logs", "level", "info"), T: 2, V: stale()},
		{Labels: labels.FromStrings("__name__", "logs", "level", "debug"), T: 2, V: stale()},
	}}
	if err := c.Receive(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		`{__name__="logs", env="prod", level="info"}@1=10`,
		`{__name__="up", env="prod"}@1=1`,
		`{__name__="logs", env="prod", level="info"}@2=stale`,
	}, "\n")
	if got := out.lines(); got != want {
		t.Fatalf("forwarded:\n%s\nwant:\n%s", got, want)
	}
	if b.Samples[0].Labels.Get("env") != "" {
		t.Fatal("the input batch was modified")
	}
}

func TestSteadySeriesAreServedFromTheCache(t *testing.T) {
	out := &sink{}
	c, _, reg := newComponent(t, dropDebugAndTagEnv, out)
	b := batch(100)
	for range 3 {
		if err := c.Receive(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if h, m := value1(c.metrics.hits), value1(c.metrics.misses); h != 200 || m != 100 {
		t.Fatalf("cache hits %v, misses %v; want 200 and 100", h, m)
	}
	if n := value1(c.metrics.cacheSize); n != 100 {
		t.Fatalf("cache size %v, want 100", n)
	}
	if p, w := value1(c.metrics.processed), value1(c.metrics.written); p != 300 || w != 300 {
		t.Fatalf("processed %v, written %v; want 300 and 300", p, w)
	}
	// The names are Alloy's.
	names := gathered(t, reg)
	for _, n := range []string{"prometheus_relabel_metrics_processed", "prometheus_relabel_metrics_written",
		"prometheus_relabel_cache_hits", "prometheus_relabel_cache_misses", "prometheus_relabel_cache_size", "prometheus_fanout_latency"} {
		if !names[n] {
			t.Errorf("metric %s is not registered", n)
		}
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	if got := out.samples[250].Labels.Get("env"); got != "prod" {
		t.Fatalf("a cached result lost the relabelling: env=%q", got)
	}
}

func TestUpdateWithNewRulesInvalidatesTheCacheAndReexports(t *testing.T) {
	out := &sink{}
	c, rec, _ := newComponent(t, dropDebugAndTagEnv, out)
	b := batch(10)
	_ = c.Receive(context.Background(), b)

	// Only forward_to changes: the cache stays, the exports stay.
	out2 := &sink{}
	a := c.args
	a.ForwardTo = []sample.Receiver{out2}
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	_ = c.Receive(context.Background(), b)
	if h := value1(c.metrics.hits); h != 10 {
		t.Fatalf("hits after a forward_to change = %v, want 10 (cache kept)", h)
	}
	if out2.batches != 1 {
		t.Fatalf("the new forward_to got %d batches, want 1", out2.batches)
	}
	if rec.Count() != 1 {
		t.Fatalf("exports published %d times, want once (rules unchanged)", rec.Count())
	}

	a.Rules = []relabel.Config{rule(func(c *relabel.Config) { c.TargetLabel = "env"; c.Replacement = "dev" })}
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	_ = c.Receive(context.Background(), b)
	out2.mu.Lock()
	got := out2.samples[len(out2.samples)-1].Labels.Get("env")
	out2.mu.Unlock()
	if got != "dev" {
		t.Fatalf("env = %q after new rules, want dev (stale cache?)", got)
	}
	if rec.Count() != 2 {
		t.Fatalf("exports published %d times, want again after the rules changed", rec.Count())
	}
}

func TestExemplarsAreRelabelledWithTheirSeries(t *testing.T) {
	out := &sink{}
	c, _, _ := newComponent(t, dropDebugAndTagEnv, out)
	b := &sample.Batch{Exemplars: []sample.Exemplar{
		{Labels: labels.FromStrings("__name__", "req", "level", "debug"), Exemplar: exemplar.Exemplar{Value: 1}},
		{Labels: labels.FromStrings("__name__", "req"), Exemplar: exemplar.Exemplar{Value: 2, Labels: labels.FromStrings("trace_id", "abc")}},
	}}
	_ = c.Receive(context.Background(), b)
	if len(out.exemplars) != 1 || out.exemplars[0].Labels.Get("env") != "prod" || out.exemplars[0].Exemplar.Labels.Get("trace_id") != "abc" {
		t.Fatalf("exemplars = %+v", out.exemplars)
	}
}

func TestWithoutRulesBatchesPassUnchanged(t *testing.T) {
	out := &sink{}
	c, _, _ := newComponent(t, nil, out)
	b := batch(3)
	_ = c.Receive(context.Background(), b)
	if len(out.samples) != 3 || !labels.Equal(out.samples[2].Labels, b.Samples[2].Labels) {
		t.Fatalf("forwarded %v", out.samples)
	}
}

func TestEverySeriesDroppedForwardsNothing(t *testing.T) {
	out := &sink{}
	c, _, _ := newComponent(t, []relabel.Config{rule(func(c *relabel.Config) {
		c.Action = relabel.Drop
		c.SourceLabels = []string{"__name__"}
		c.Regex = ".+"
	})}, out)
	_ = c.Receive(context.Background(), batch(5))
	if out.batches != 0 {
		t.Fatalf("%d empty batches forwarded", out.batches)
	}
}

func TestArgumentsValidation(t *testing.T) {
	doc := Arguments{MaxCacheSize: 0, CacheTTL: 10 * time.Minute} // prometheus.relabel-2.alloy
	if err := doc.Validate(); err != nil {
		t.Fatalf("the doc example is rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		args Arguments
		want string
	}{
		{"no cache bound at all", Arguments{}, "max_cache_size must be greater than 0 when cache_ttl is not set"},
		{"negative size", Arguments{MaxCacheSize: -1}, "must not be negative"},
		{"bad rule", Arguments{MaxCacheSize: 1, Rules: []relabel.Config{{Action: "replace"}}}, "rule 1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.args.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRunUnregistersMetricsWhenItEnds(t *testing.T) {
	c, _, reg := newComponent(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if names := gathered(t, reg); len(names) != 0 {
		t.Fatalf("metrics still registered after Run returned: %v", names)
	}
	var _ component.Component = c
}

// value1 reads a counter or gauge.
func value1(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// gathered names the metric families in reg.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names
}

// batch returns n series of a typical scrape.
func batch(n int) *sample.Batch {
	b := &sample.Batch{Samples: make([]sample.Sample, n)}
	for i := range b.Samples {
		b.Samples[i] = sample.Sample{
			Labels: labels.FromStrings("__name__", fmt.Sprintf("metric_%d", i%50), "instance", "10.0.0.1:9100", "job", "node", "series", fmt.Sprint(i)),
			T:      1000,
			V:      float64(i),
		}
	}
	return b
}

// BenchmarkRelabelBatch relabels a 1,000-series batch whose results are
// all cached, as in a steady scrape.
func BenchmarkRelabelBatch(b *testing.B) {
	c, _, _ := newComponent(b, dropDebugAndTagEnv, sample.ReceiverFunc(func(context.Context, *sample.Batch) error { return nil }))
	in := batch(1000)
	ctx := context.Background()
	_ = c.Receive(ctx, in)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Receive(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/sample")
}

// TestMetadataPassesThrough: metric metadata is forwarded untouched, with
// rules and without, and alone in a batch with no samples.
func TestMetadataPassesThrough(t *testing.T) {
	md := []sample.Metadata{{Family: "logs", Type: "counter", Help: "Log lines."}}
	for _, rules := range [][]relabel.Config{nil, dropDebugAndTagEnv} {
		out := &sink{}
		c, _, _ := newComponent(t, rules, out)
		b := &sample.Batch{Samples: []sample.Sample{{Labels: labels.FromStrings("__name__", "logs", "level", "debug"), T: 1, V: 1}}, Metadata: md}
		if err := c.Receive(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if err := c.Receive(context.Background(), &sample.Batch{Metadata: md}); err != nil {
			t.Fatal(err)
		}
		if len(out.metadata) != 2 || out.metadata[0] != md[0] || out.metadata[1] != md[0] {
			t.Fatalf("rules %d: metadata forwarded %+v", len(rules), out.metadata)
		}
		if len(b.Metadata) != 1 || b.Metadata[0] != md[0] {
			t.Fatalf("the input batch's metadata was modified: %+v", b.Metadata)
		}
	}
}
