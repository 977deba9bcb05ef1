package scrape

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// ticker drives one target through ticks on a harness.
type ticker struct {
	h     *harness
	addr  string
	ivMs  int64
	next  int64
	loops int
}

func newTicker(h *harness, l labels.Labels, cfg Config, loops int) *ticker {
	iv := cfg.Interval.Milliseconds()
	return &ticker{h: h, addr: l.Get("__address__"), ivMs: iv, loops: loops,
		next: firstTick(h.clock.Now().UnixMilli(), iv, gridOffset(Key(l, nil), iv))}
}

// tick advances to the next tick and waits for the target's up sample.
func (tk *ticker) tick(t *testing.T) int64 {
	t.Helper()
	at := tk.next
	tk.h.advanceTo(at, tk.loops)
	tk.h.recv.waitFor(t, "up", func(ss []sample.Sample) bool {
		for _, s := range upAt(ss, tk.addr, at) {
			if !isStale(s) {
				return true
			}
		}
		return false
	})
	tk.next += tk.ivMs
	return at
}

// skip advances past a tick that produces no up sample, waiting for the
// loop to arm its next timer.
func (tk *ticker) skip(t *testing.T) int64 {
	t.Helper()
	at := tk.next
	tk.h.advanceTo(at, tk.loops)
	tk.next += tk.ivMs
	return at
}

func staleAt(ss []sample.Sample, ms int64) []string {
	var out []string
	for _, s := range ss {
		if s.T == ms && isStale(s) {
			out = append(out, s.Labels.Get("__name__"))
		}
	}
	return out
}

func TestVanishedSeriesGetAStalenessMarkerAtTheTick(t *testing.T) {
	tgt := newTextTarget(t, "a 1\nb 2\n")
	l := targetLabels(tgt.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)
	tgt.set("a 1\n")
	t2 := tk.tick(t)
	ss := h.recv.samples()
	if got := staleAt(ss, t2); len(got) != 1 || got[0] != "b" {
		t.Fatalf("stale at %d: %v, want [b]", t2, got)
	}
	t3 := tk.tick(t)
	if got := staleAt(h.recv.samples(), t3); len(got) != 0 {
		t.Fatalf("markers repeated at the next tick: %v", got)
	}
}

func TestFailedScrapeMarksEverySeriesStale(t *testing.T) {
	tgt := newTextTarget(t, "a 1\nb 2\n")
	l := targetLabels(tgt.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)
	tgt.srv.Close()
	t2 := tk.tick(t)
	ss := h.recv.samples()
	if got := staleAt(ss, t2); len(got) != 2 {
		t.Fatalf("stale at the failed tick: %v, want a and b", got)
	}
	if up := upAt(ss, tgt.addr(), t2); up[0].V != 0 {
		t.Fatalf("up = %v after a failed scrape", up[0].V)
	}
	t3 := tk.tick(t)
	if got := staleAt(h.recv.samples(), t3); len(got) != 0 {
		t.Fatalf("a second failure repeated the markers: %v", got)
	}
}

func TestRemovedTargetGetsMarkersOnAllSeriesAtItsNextTick(t *testing.T) {
	tgt := newTextTarget(t, "a 1\nb 2\n")
	l := targetLabels(tgt.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)
	if err := h.engine.SetTargets(nil, cfg); err != nil {
		t.Fatal(err)
	}
	next := tk.next
	h.advanceTo(next, 1)
	ss := h.recv.waitFor(t, "end-of-run markers", func(ss []sample.Sample) bool { return len(staleAt(ss, next)) == 7 })
	got := map[string]bool{}
	for _, n := range staleAt(ss, next) {
		got[n] = true
	}
	for _, want := range []string{"a", "b", "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"} {
		if !got[want] {
			t.Fatalf("no end-of-run marker for %s; got %v", want, got)
		}
	}
	waitUntil(t, "the loop to retire", func() bool {
		h.engine.mu.Lock()
		defer h.engine.mu.Unlock()
		return len(h.engine.loops) == 0
	})
}

func TestNoMarkersOnShutdown(t *testing.T) {
	tgt := newTextTarget(t, "a 1\nb 2\n")
	l := targetLabels(tgt.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)
	before := len(h.recv.samples())
	h.stop()
	h.clock.set(h.clock.Now().Add(3 * cfg.Interval))
	after := h.recv.samples()
	if len(after) != before {
		t.Fatalf("shutdown wrote %d samples", len(after)-before)
	}
	for _, s := range after {
		if isStale(s) {
			t.Fatalf("staleness marker %s written", s.Labels)
		}
	}
}

func TestTargetMovingAwayWritesNoMarkersAndForgetsItsSeries(t *testing.T) {
	tgt := newTextTarget(t, "a 1\nb 2\n")
	l := targetLabels(tgt.addr())
	var movedAt int64
	cl := &fakeCluster{owns: func(_ uint64, t int64) bool { return movedAt == 0 || t < movedAt }}
	h := newHarness(t, cl)
	cfg := testConfig()
	cfg.Clustered = true
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)
	movedAt = tk.next // read by the loop only after the next advance
	tk.skip(t)
	tk.skip(t)
	h.advanceTo(tk.next, 1) // the loop has handled both ticks
	for _, s := range h.recv.samples() {
		if isStale(s) {
			t.Fatalf("a moved target wrote a marker for %s", s.Labels)
		}
		if s.T >= movedAt {
			t.Fatalf("sample %s at %d after the move", s.Labels, s.T)
		}
	}
	if got := counterValue(t, h.engine.m.targetsMoved); got != 1 {
		t.Fatalf("moved counter = %v, want 1", got)
	}
}

func TestTargetBackBeforeItsNextTickKeepsItsSeries(t *testing.T) {
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
	// Discovery flaps: the target leaves and comes back within a tick.
	if err := h.engine.SetTargets(nil, cfg); err != nil {
		t.Fatal(err)
	}
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	tk.tick(t)
	for _, s := range h.recv.samples() {
		if isStale(s) {
			t.Fatalf("marker for %s although the target came back", s.Labels)
		}
	}
}
