package enrich

import (
	"context"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/stability"
)

type sink struct {
	mu        sync.Mutex
	samples   []sample.Sample
	exemplars []sample.Exemplar
}

func (s *sink) Receive(_ context.Context, b *sample.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, b.Samples...)
	s.exemplars = append(s.exemplars, b.Exemplars...)
	return nil
}

func TestIsExperimentalAsInAlloy(t *testing.T) {
	if Registration.Stability != stability.Experimental {
		t.Errorf("stability %v, want experimental", Registration.Stability)
	}
}

func TestDecodeAndValidate(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.enrich "e" {
  targets                = [{"hostname" = "h1", "rack" = "r1"}]
  target_to_metric_match = {"hostname" = "host"}
  target_match_label     = "ignored"
  metrics_match_label    = "ignored_too"
  labels_to_copy         = ["rack"]
  forward_to             = []
}`, "prometheus.enrich", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Targets) != 1 || a.TargetToMetricMatch["hostname"] != "host" || a.TargetMatchLabel != "ignored" ||
		a.MetricsMatchLabel != "ignored_too" || len(a.LabelsToCopy) != 1 {
		t.Errorf("arguments = %+v", a)
	}
	// target_to_metric_match wins over the deprecated pair.
	if tl, ml := a.matchPairs(); len(tl) != 1 || tl[0] != "hostname" || ml[0] != "host" {
		t.Errorf("match = %v → %v", tl, ml)
	}
	for name, src := range map[string]string{
		"no match":           ``,
		"metrics label only": `metrics_match_label = "x"`,
	} {
		var a Arguments
		err := discoverytest.Decode(t, "prometheus.enrich \"e\" {\ntargets = []\nforward_to = []\n"+src+"\n}", "prometheus.enrich", nil, &a)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func series(kv ...string) labels.Labels { return labels.FromStrings(kv...) }

// TestEnrichesMatchedSeries: a series whose match labels equal a target's
// gets the target's labels (all, or labels_to_copy); one that matches no
// target, or lacks a match label, passes unchanged; exemplars are enriched
// too; the batch given is not changed; new targets take effect on Update.
func TestEnrichesMatchedSeries(t *testing.T) {
	out := &sink{}
	opts, _, reg := discoverytest.Options(t, "prometheus.enrich.e")
	targets := []discovery.Target{
		{"hostname": "h1", "dc": "east", "rack": "r1"},
		{"hostname": "h2", "dc": "west", "rack": "r9"},
		{"dc": "nowhere"}, // no match label: never matches
	}
	a := Arguments{
		Targets:             targets,
		TargetToMetricMatch: map[string]string{"hostname": "host", "dc": "region"},
		ForwardTo:           []sample.Receiver{out},
	}
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	in := &sample.Batch{
		Samples: []sample.Sample{
			{Labels: series("__name__", "up", "host", "h1", "region", "east"), T: 1, V: 1},
			{Labels: series("__name__", "up", "host", "h1", "region", "west"), T: 1, V: 2},
			{Labels: series("__name__", "up", "host", "h2"), T: 1, V: 3},
			{Labels: series("__name__", "up", "host", "h2", "region", "west", "rack", "old"), T: 1, V: 4},
		},
		Exemplars: []sample.Exemplar{{Labels: series("__name__", "req", "host", "h1", "region", "east"), Exemplar: exemplar.Exemplar{Value: 1}}},
	}
	before := in.Samples[0].Labels.String()
	if err := c.Receive(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{__name__="up", dc="east", host="h1", hostname="h1", rack="r1", region="east"}`,
		`{__name__="up", host="h1", region="west"}`,
		`{__name__="up", host="h2"}`,
		`{__name__="up", dc="west", host="h2", hostname="h2", rack="r9", region="west"}`,
	}
	for i, w := range want {
		if got := out.samples[i].Labels.String(); got != w {
			t.Errorf("sample %d = %s, want %s", i, got, w)
		}
	}
	if got := out.exemplars[0].Labels.Get("rack"); got != "r1" {
		t.Errorf("exemplar not enriched: %s", out.exemplars[0].Labels)
	}
	if in.Samples[0].Labels.String() != before {
		t.Errorf("the batch given was changed: %s", in.Samples[0].Labels)
	}
	if n := gauge(t, reg, "prometheus_target_cache_size"); n != 2 {
		t.Errorf("cache size %v, want 2", n)
	}

	// Deprecated single-label match with labels_to_copy, after Update.
	out.samples = nil
	a = Arguments{
		Targets:          []discovery.Target{{"ip": "10.0.0.1", "owner": "team-a", "rack": "r1"}},
		TargetMatchLabel: "ip", MetricsMatchLabel: "addr",
		LabelsToCopy: []string{"owner", "missing"},
		ForwardTo:    []sample.Receiver{out},
	}
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	if err := c.Receive(context.Background(), &sample.Batch{Samples: []sample.Sample{{Labels: series("__name__", "x", "addr", "10.0.0.1")}}}); err != nil {
		t.Fatal(err)
	}
	if got := out.samples[0].Labels.String(); got != `{__name__="x", addr="10.0.0.1", owner="team-a"}` {
		t.Errorf("labels_to_copy: %s", got)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s gathered", name)
	return 0
}
