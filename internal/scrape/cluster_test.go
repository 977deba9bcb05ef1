package scrape

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/shoal-dev/shoal/internal/sample"
)

func TestOwnershipScrapesExactlyTheOwnedTicks(t *testing.T) {
	tgt := newTextTarget(t, "a 1\n")
	l := targetLabels(tgt.addr())
	cfg := testConfig()
	cfg.Clustered = true
	ivMs := cfg.Interval.Milliseconds()
	// Own two ticks out of three.
	owns := func(_ uint64, t int64) bool { return (t/ivMs)%3 != 0 }
	h := newHarness(t, &fakeCluster{owns: owns})
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	var want []int64
	var moved, acquired float64
	for i := range 9 {
		at := tk.next
		if i > 0 && owns(0, at-ivMs) != owns(0, at) {
			if owns(0, at) {
				acquired++
			} else {
				moved++
			}
		}
		if owns(0, at) {
			tk.tick(t)
			want = append(want, at)
		} else {
			tk.skip(t)
		}
	}
	waitUntil(t, "the last tick to be handled", func() bool { return h.clock.pending() == 1 })
	var got []int64
	for _, s := range find(h.recv.samples(), "a") {
		got = append(got, s.T)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("scraped ticks %v, want the owned ones %v", got, want)
	}
	if m, a := counterValue(t, h.engine.m.targetsMoved), counterValue(t, h.engine.m.targetsAcquired); m != moved || a != acquired {
		t.Fatalf("moved %v, acquired %v; want %v and %v", m, a, moved, acquired)
	}
}

func TestHeldSamplesAreReleasedInOrder(t *testing.T) {
	tgt := newTextTarget(t, "a 1\n")
	l := targetLabels(tgt.addr())
	cfg := testConfig()
	cfg.Clustered = true

	var mu sync.Mutex
	var takeover int64
	gate := make(chan struct{})
	asked := 0
	cl := &fakeCluster{
		owns: func(_ uint64, t int64) bool {
			mu.Lock()
			defer mu.Unlock()
			return takeover != 0 && t >= takeover
		},
		hold: func(_ uint64, t int64) <-chan struct{} {
			mu.Lock()
			defer mu.Unlock()
			asked++
			if t == takeover {
				return gate
			}
			return nil
		},
	}
	h := newHarness(t, cl)
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.skip(t)
	mu.Lock()
	takeover = tk.next
	mu.Unlock()
	var held []int64
	for range 3 {
		held = append(held, tk.skip(t))
	}
	h.advanceTo(tk.next, 1)
	waitUntil(t, "three held ticks", func() bool { return h.engine.holdingCount() == 1 && len(h.recv.samples()) == 0 })
	if n := len(h.recv.samples()); n != 0 {
		t.Fatalf("%d samples delivered while held", n)
	}
	close(gate)
	ss := h.recv.waitFor(t, "the held ticks", func(ss []sample.Sample) bool { return len(find(ss, "a")) >= 3 })
	var got []int64
	for _, s := range find(ss, "a") {
		got = append(got, s.T)
	}
	if !slices.Equal(got[:3], held) {
		t.Fatalf("released ticks %v, want %v in order", got, held)
	}
	waitUntil(t, "the hold gauge to drop", func() bool { return h.engine.holdingCount() == 0 })
}

func TestHoldQueueDropsOldestBeyondItsBound(t *testing.T) {
	gate := make(chan struct{})
	q := holdQueue{maxSamples: 4}
	mk := func(n int, ts int64) *sample.Batch {
		b := &sample.Batch{}
		for range n {
			b.Samples = append(b.Samples, sample.Sample{T: ts})
		}
		return b
	}
	dropped := q.push(mk(2, 1), gate)
	dropped += q.push(mk(2, 2), nil)
	dropped += q.push(mk(2, 3), nil)
	if dropped != 2 {
		t.Fatalf("dropped %d samples, want the oldest batch's 2", dropped)
	}
	var out []int64
	q.release(func(b *sample.Batch) { out = append(out, b.Samples[0].T) })
	if len(out) != 0 {
		t.Fatal("released before the gate closed: the dropped batch's gate must pass on")
	}
	close(gate)
	q.release(func(b *sample.Batch) { out = append(out, b.Samples[0].T) })
	if !slices.Equal(out, []int64{2, 3}) {
		t.Fatalf("released %v, want [2 3]", out)
	}
}

// observingCluster is a fakeCluster that places by load: it records what
// the scrape loop reports.
type observingCluster struct {
	fakeCluster
	mu       sync.Mutex
	observed map[uint64][]int
	interval time.Duration
}

func (o *observingCluster) ObserveSeries(key uint64, series int, interval time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.observed[key] = append(o.observed[key], series)
	o.interval = interval
}

// With placement by series, every owned scrape reports the target's
// series (after metric relabeling) to the cluster, and a tick the node
// does not own reports nothing.
func TestOwnedScrapesReportTheirSeriesToTheCluster(t *testing.T) {
	tgt := newTextTarget(t, "a 1\nb 2\nc 3\ndropped 4\n")
	l := targetLabels(tgt.addr())
	cfg := testConfig()
	cfg.Clustered = true
	cfg.MetricRelabel = []*relabel.Config{{
		SourceLabels: model.LabelNames{"__name__"}, Regex: relabel.MustNewRegexp("dropped"), Action: relabel.Drop,
		Separator: ";", Replacement: "$1", NameValidationScheme: cfg.ValidationScheme,
	}}
	ivMs := cfg.Interval.Milliseconds()
	owns := func(_ uint64, t int64) bool { return (t/ivMs)%2 == 0 }
	cl := &observingCluster{fakeCluster: fakeCluster{owns: owns}, observed: map[uint64][]int{}}
	h := newHarness(t, cl)
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	owned := 0
	for range 4 {
		if owns(0, tk.next) {
			tk.tick(t)
			owned++
		} else {
			tk.skip(t)
		}
	}
	waitUntil(t, "the last tick to be handled", func() bool { return h.clock.pending() == 1 })
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if len(cl.observed) != 1 {
		t.Fatalf("observed %d targets, want 1: %v", len(cl.observed), cl.observed)
	}
	for _, got := range cl.observed {
		if len(got) != owned {
			t.Fatalf("%d observations, want one per owned tick (%d)", len(got), owned)
		}
		for _, s := range got {
			if s != 3 {
				t.Fatalf("observed %d series, want 3 (the dropped one not counted)", s)
			}
		}
	}
	if cl.interval != cfg.Interval {
		t.Fatalf("observed with interval %s, want %s", cl.interval, cfg.Interval)
	}
}
