package scrape

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

func TestReloadKeepsUnchangedTargetsAndRestartsChangedOnes(t *testing.T) {
	tgt := newTextTarget(t, "a 1\n")
	l := targetLabels(tgt.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)

	// The same targets again: the series state survives, so nothing is
	// new at the next scrape.
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	t2 := tk.tick(t)
	added := find(h.recv.samples(), "scrape_series_added", "instance", tgt.addr())
	if last := added[len(added)-1]; last.T != t2 || last.V != 0 {
		t.Fatalf("scrape_series_added = %v at %d after an unchanged reload, want 0", last.V, last.T)
	}

	// A new job name changes every series' labels: the old ones go stale
	// at the first scrape under the new config, on the same grid.
	cfg.JobName = "renamed"
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	t3 := tk.tick(t)
	ss := h.recv.samples()
	var staleJobs, freshJobs []string
	for _, s := range ss {
		if s.T != t3 {
			continue
		}
		if isStale(s) {
			staleJobs = append(staleJobs, s.Labels.Get("job"))
		} else {
			freshJobs = append(freshJobs, s.Labels.Get("job"))
		}
	}
	if len(staleJobs) == 0 || len(freshJobs) == 0 {
		t.Fatalf("at the first tick after the change: stale %v, fresh %v", staleJobs, freshJobs)
	}
	for _, j := range staleJobs {
		if j != "test" {
			t.Fatalf("a series of job %q was marked stale", j)
		}
	}
	for _, j := range freshJobs {
		if j != "renamed" {
			t.Fatalf("a series of job %q was sent", j)
		}
	}
}

func TestNewTargetsStartAndRemovedTargetsStop(t *testing.T) {
	a := newTextTarget(t, "a 1\n")
	b := newTextTarget(t, "b 1\n")
	la, lb := targetLabels(a.addr()), targetLabels(b.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{la}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	newTicker(h, la, cfg, 1).tick(t)
	if err := h.engine.SetTargets([]labels.Labels{lb}, cfg); err != nil {
		t.Fatal(err)
	}
	if keys := h.engine.Keys(); len(keys) != 1 || keys[0] != Key(lb, nil) {
		t.Fatalf("keys %x, want only the new target's", keys)
	}
	// Both loops run until the removed one writes its markers.
	for _, tk := range upcoming(h.clock.Now().UnixMilli()+1, []labels.Labels{la, lb}, cfg.Interval, 1) {
		h.advanceTo(tk.ms, 2)
	}
	h.recv.waitFor(t, "the new target's first scrape", func(ss []sample.Sample) bool { return len(find(ss, "b")) == 1 })
	h.recv.waitFor(t, "the removed target's markers", func(ss []sample.Sample) bool {
		for _, s := range find(ss, "a") {
			if isStale(s) {
				return true
			}
		}
		return false
	})
}

func TestKeyCollisionsAreReportedAndBothTargetsScraped(t *testing.T) {
	a := newTextTarget(t, "a 1\n")
	b := newTextTarget(t, "b 1\n")
	cfg := testConfig()
	cfg.ExcludedLabels = []string{"__address__"}
	la, lb := targetLabels(a.addr()), targetLabels(b.addr())
	h := newHarness(t, nil)
	if err := h.engine.SetTargets([]labels.Labels{la, lb}, cfg); err != nil {
		t.Fatal(err)
	}
	p := h.engine.Problems()
	if len(p.Collisions) != 1 || !strings.Contains(p.Collisions[0], "share cluster key") {
		t.Fatalf("collisions %v", p.Collisions)
	}
	h.start()
	// Same key, same grid: both scrape at the same tick.
	first := firstTick(h.clock.Now().UnixMilli(), cfg.Interval.Milliseconds(), gridOffset(Key(la, cfg.ExcludedLabels), cfg.Interval.Milliseconds()))
	h.advanceTo(first, 2)
	h.recv.waitFor(t, "both targets", func(ss []sample.Sample) bool { return len(find(ss, "a")) == 1 && len(find(ss, "b")) == 1 })
	for _, st := range h.engine.Targets() {
		if !st.Collision {
			t.Fatalf("target %s not marked as colliding", st.URL)
		}
	}
}

func TestDuplicateTargetsDifferingOnlyInMetaLabelsAreOne(t *testing.T) {
	h := newHarness(t, nil)
	l1 := labels.FromStrings("__address__", "h:1", "__meta_a", "1")
	l2 := labels.FromStrings("__address__", "h:1", "__meta_a", "2")
	if err := h.engine.SetTargets([]labels.Labels{l1, l2}, testConfig()); err != nil {
		t.Fatal(err)
	}
	if p := h.engine.Problems(); len(p.Collisions) != 0 {
		t.Fatalf("collisions %v", p.Collisions)
	}
	if n := len(h.engine.Keys()); n != 1 {
		t.Fatalf("%d keys, want 1", n)
	}
}

func TestTargetLimitFailsEveryTarget(t *testing.T) {
	a := newTextTarget(t, "a 1\n")
	b := newTextTarget(t, "b 1\n")
	cfg := testConfig()
	cfg.TargetLimit = 1
	targets := []labels.Labels{targetLabels(a.addr()), targetLabels(b.addr())}
	h := newHarness(t, nil)
	if err := h.engine.SetTargets(targets, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	for _, tk := range upcoming(h.clock.Now().UnixMilli(), targets, cfg.Interval, 1) {
		h.advanceTo(tk.ms, 2)
		addr := targets[tk.target].Get("__address__")
		h.recv.waitFor(t, "up", func(ss []sample.Sample) bool { return len(upAt(ss, addr, tk.ms)) == 1 })
	}
	for _, st := range h.engine.Targets() {
		if st.Health != HealthDown || !strings.Contains(st.LastError, "target_limit exceeded (number of targets: 2, limit: 1)") {
			t.Fatalf("target %s: %s %q", st.URL, st.Health, st.LastError)
		}
	}
}

func TestInvalidTargetsAreLeftOutAndReported(t *testing.T) {
	h := newHarness(t, nil)
	err := h.engine.SetTargets([]labels.Labels{
		labels.FromStrings("job", "no-address"),
		labels.FromStrings("__address__", "h:1", "__scrape_interval__", "soon"),
		labels.FromStrings("__address__", "h:2"),
	}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if p := h.engine.Problems(); p.Invalid != 2 || !strings.Contains(p.FirstInvalid, "__address__") {
		t.Fatalf("problems %+v", p)
	}
}

func TestTargetSettingsAndRequestHeaders(t *testing.T) {
	tgt := newTextTarget(t, "a 1\n")
	l := labels.FromStrings("__address__", tgt.addr(), "__scrape_interval__", "1s", "__param_module", "x", "__metrics_path__", "/probe")
	h := newHarness(t, nil)
	cfg := testConfig() // timeout 2s > the target's 1s interval: clamped
	cfg.Params = map[string][]string{"module": {"default"}, "other": {"1"}}
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	ivMs := int64(1000)
	first := firstTick(h.clock.Now().UnixMilli(), ivMs, gridOffset(Key(l, nil), ivMs))
	h.advanceTo(first, 1)
	h.recv.waitFor(t, "the scrape", func(ss []sample.Sample) bool { return len(upAt(ss, tgt.addr(), first)) == 1 })
	r := tgt.lastRequest()
	if got := r.URL.String(); got != "/probe?module=x&other=1" {
		t.Fatalf("requested %s", got)
	}
	if got := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"); got != "1" {
		t.Fatalf("timeout header %q, want the clamped 1", got)
	}
	if got := r.Header.Get("Accept-Encoding"); got != "gzip" {
		t.Fatalf("Accept-Encoding %q", got)
	}
	want := "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.7," +
		"application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"
	if got := r.Header.Get("Accept"); got != want {
		t.Fatalf("Accept\n got %s\nwant %s", got, want)
	}
}

func TestAcceptHeaderWithEveryProtocol(t *testing.T) {
	got := acceptHeader([]Protocol{PrometheusProto, OpenMetricsText1_0_0, OpenMetricsText0_0_1, PrometheusText1_0_0, PrometheusText0_0_4}, model.NoEscaping)
	want := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7," +
		"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6," +
		"application/openmetrics-text;version=0.0.1;q=0.5," +
		"text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4," +
		"text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestConfigValidation(t *testing.T) {
	cfg := testConfig()
	cfg.Protocols = []Protocol{"Carrier pigeon"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "unknown scrape protocol") {
		t.Fatalf("err = %v", err)
	}
	cfg = testConfig()
	cfg.Interval = 0
	h := newHarness(t, nil)
	if err := h.engine.SetTargets(nil, cfg); err == nil {
		t.Fatal("a zero interval was accepted")
	}
	_ = time.Second
}

// Batches are pooled across the targets of an engine: a target with few
// series scraped after one with many must receive only its own samples.
func TestPooledBatchesCarryOnlyTheirTargetsSamples(t *testing.T) {
	big := newTextTarget(t, "big_a 1\nbig_b 2\nbig_c 3\nbig_d 4\n")
	small := newTextTarget(t, "small 1\n")
	lbig, lsmall := targetLabels(big.addr()), targetLabels(small.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{lbig, lsmall}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	ticks := upcoming(h.clock.Now().UnixMilli()+1, []labels.Labels{lbig, lsmall}, cfg.Interval, 3)
	for i, tk := range ticks {
		h.advanceTo(tk.ms, 2)
		h.recv.waitFor(t, "the tick's batch", func([]sample.Sample) bool { return len(h.recv.snapshot()) == i+1 })
	}
	for i, b := range h.recv.snapshot() {
		want := map[string]int{big.addr(): 4 + 5, small.addr(): 1 + 5}
		inst := b.Samples[0].Labels.Get("instance")
		if len(b.Samples) != want[inst] {
			t.Fatalf("batch %d of %s has %d samples, want %d", i, inst, len(b.Samples), want[inst])
		}
		for _, s := range b.Samples {
			if s.Labels.Get("instance") != inst {
				t.Fatalf("batch %d of %s carries %s", i, inst, s.Labels)
			}
		}
	}
}
