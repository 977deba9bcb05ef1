package scrape

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// fakeStandby is a cluster in which this node owns the target from
// takeover on and is its standby before, with a primary whose watermark
// and liveness the test sets.
type fakeStandby struct {
	fakeCluster
	mu       sync.Mutex
	takeover int64 // 0: never
	wm       int64
	alive    bool
	gate     <-chan struct{} // the hold of the takeover tick
	replicas map[string]int
}

func newFakeStandby() *fakeStandby {
	f := &fakeStandby{alive: true, replicas: map[string]int{}}
	f.owns = func(_ uint64, t int64) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.takeover != 0 && t >= f.takeover
	}
	f.hold = func(_ uint64, t int64) <-chan struct{} {
		f.mu.Lock()
		defer f.mu.Unlock()
		if t == f.takeover {
			return f.gate
		}
		return nil
	}
	return f
}

func (f *fakeStandby) Standby(_ uint64, t int64) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "primary", f.takeover == 0 || t < f.takeover
}

func (f *fakeStandby) Delivered(peer string) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wm, f.alive && peer == "primary"
}

func (f *fakeStandby) SetReplicas(id string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replicas[id] = n
}

func (f *fakeStandby) set(fn func(f *fakeStandby)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (tt *textTarget) hitCount() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.hits
}

func upTicks(ss []sample.Sample) (ts []int64) {
	for _, s := range find(ss, "up") {
		if !isStale(s) {
			ts = append(ts, s.T)
		}
	}
	return ts
}

func standbyRig(t *testing.T, f *fakeStandby, replicas int) (*harness, *textTarget, *ticker) {
	tgt := newTextTarget(t, "a 1\n")
	l := targetLabels(tgt.addr())
	cfg := testConfig()
	cfg.Clustered = true
	cfg.Replicas = replicas
	h := newHarness(t, f)
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	return h, tgt, newTicker(h, l, cfg, 1)
}

// A standby scrapes every tick, sends none while its primary lives, and
// when the primary dies sends the ticks after its last watermark, in
// order, before its own: the receiver sees every tick once.
func TestStandbyTakesOverADeadPrimaryWithoutAGap(t *testing.T) {
	f := newFakeStandby()
	h, tgt, tk := standbyRig(t, f, 2)
	var standby []int64
	for range 5 {
		standby = append(standby, tk.skip(t))
	}
	// The primary delivered the first three ticks, then died.
	f.set(func(f *fakeStandby) { f.wm = standby[2]; f.alive = false; f.takeover = tk.next })
	waitUntil(t, "the standby to scrape its ticks", func() bool { return tgt.hitCount() >= 5 })
	if n := len(h.recv.samples()); n != 0 {
		t.Fatalf("a standby sent %d samples while its primary lived", n)
	}
	own := tk.tick(t)
	own2 := tk.tick(t)
	ss := h.recv.samples()
	got := upTicks(ss)
	want := []int64{standby[3], standby[4], own, own2}
	if !slices.Equal(got, want) {
		t.Fatalf("the receiver got ticks %v, want %v: those after the dead primary's watermark, in order, then the new owner's", got, want)
	}
	for _, s := range ss {
		if isStale(s) {
			t.Fatalf("a takeover wrote a staleness marker: %v", s.Labels)
		}
	}
	if got := counterValue(t, h.engine.sm.takeover); got != 2 {
		t.Fatalf("takeover batches %v, want the 2 past the watermark", got)
	}
	if got := counterValue(t, h.engine.sm.covered); got != 3 {
		t.Fatalf("covered batches %v, want the 3 the watermark covered", got)
	}
}

// A standby drops what its primary's watermark covers as the watermark
// moves, and sends nothing of it.
func TestStandbyDropsWhatTheWatermarkCovers(t *testing.T) {
	f := newFakeStandby()
	h, _, tk := standbyRig(t, f, 2)
	for range 3 {
		at := tk.skip(t)
		f.set(func(f *fakeStandby) { f.wm = at })
	}
	tk.skip(t)
	// The fourth tick's scrape trims the first three.
	waitUntil(t, "the covered ticks to be dropped", func() bool { return counterValue(t, h.engine.sm.covered) == 3 })
	if n := len(h.recv.samples()); n != 0 {
		t.Fatalf("a standby sent %d samples", n)
	}
}

// Handed off by a live primary (it terminates), the new owner waits on the
// hold as any new owner does and sends nothing from its buffer: the
// primary delivers its own ticks.
func TestStandbyHandedOffAliveSendsOnlyItsOwnTicks(t *testing.T) {
	f := newFakeStandby()
	gate := make(chan struct{})
	h, _, tk := standbyRig(t, f, 2)
	for range 3 {
		tk.skip(t)
	}
	f.set(func(f *fakeStandby) { f.takeover = tk.next; f.gate = gate })
	held := tk.skip(t)
	held2 := tk.skip(t)
	waitUntil(t, "the first owned ticks to be held", func() bool { return h.engine.holdingCount() == 1 })
	if n := len(h.recv.samples()); n != 0 {
		t.Fatalf("%d samples sent before the hold was released", n)
	}
	// The primary delivered up to the handoff and says so.
	f.set(func(f *fakeStandby) { f.wm = held - 1 })
	close(gate)
	ss := h.recv.waitFor(t, "the held ticks", func(ss []sample.Sample) bool { return len(upTicks(ss)) >= 2 })
	if got := upTicks(ss); !slices.Equal(got, []int64{held, held2}) {
		t.Fatalf("the receiver got ticks %v, want only the new owner's %v", got, []int64{held, held2})
	}
	if got := counterValue(t, h.engine.sm.takeover); got != 0 {
		t.Fatalf("takeover batches %v after a live handoff, want 0", got)
	}
}

// If the primary dies while the new owner waits on its hold, what its
// last watermark does not cover goes first.
func TestStandbyPrimaryDyingDuringTheHoldIsCoveredByTheBuffer(t *testing.T) {
	f := newFakeStandby()
	gate := make(chan struct{})
	h, _, tk := standbyRig(t, f, 2)
	var standby []int64
	for range 3 {
		standby = append(standby, tk.skip(t))
	}
	f.set(func(f *fakeStandby) { f.takeover = tk.next; f.gate = gate; f.wm = standby[0] })
	held := tk.skip(t)
	waitUntil(t, "the first owned tick to be held", func() bool { return h.engine.holdingCount() == 1 })
	f.set(func(f *fakeStandby) { f.alive = false })
	close(gate) // released as "dead"
	ss := h.recv.waitFor(t, "the buffered and held ticks", func(ss []sample.Sample) bool { return len(upTicks(ss)) >= 3 })
	want := []int64{standby[1], standby[2], held}
	if got := upTicks(ss); !slices.Equal(got, want) {
		t.Fatalf("the receiver got ticks %v, want %v", got, want)
	}
}

// Without replicas = 2 a node that does not own a target does not scrape
// it, even if the cluster names it standby.
func TestNoStandbyWithOneReplica(t *testing.T) {
	f := newFakeStandby()
	h, tgt, tk := standbyRig(t, f, 1)
	for range 3 {
		tk.skip(t)
	}
	tk.skip(t)
	if n := tgt.hitCount(); n != 0 {
		t.Fatalf("scraped %d times with one replica", n)
	}
	if got := counterValue(t, h.engine.sm.ticks); got != 0 {
		t.Fatalf("standby ticks %v with one replica", got)
	}
}

func TestStandbyBufferIsBounded(t *testing.T) {
	sb := standbyBuffer{maxSamples: 4}
	mk := func(n int) *sample.Batch {
		b := &sample.Batch{}
		for range n {
			b.Samples = append(b.Samples, sample.Sample{})
		}
		return b
	}
	var dropped int
	for i := range 4 {
		for _, d := range sb.push(int64(i), mk(2)) {
			dropped += d.Len()
		}
	}
	if dropped != 4 || sb.samples != 4 || len(sb.q) != 2 || sb.q[0].t != 2 {
		t.Fatalf("dropped %d, kept %d samples in %d batches from t=%d; want 4 dropped and ticks 2, 3 kept", dropped, sb.samples, len(sb.q), sb.q[0].t)
	}
	// The newest batch stays even when it alone passes the bound.
	sb.push(9, mk(10))
	if len(sb.q) != 1 || sb.q[0].t != 9 {
		t.Fatalf("kept %d batches, want only the newest", len(sb.q))
	}
	if got := sb.trim(9); len(got) != 1 || sb.samples != 0 {
		t.Fatalf("trim(9) returned %d batches, left %d samples", len(got), sb.samples)
	}
}

func TestReplicasAreValidated(t *testing.T) {
	cfg := testConfig()
	cfg.Replicas = 3
	if err := cfg.Validate(); err == nil {
		t.Fatal("replicas = 3 accepted")
	}
	cfg.Replicas = 2
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// The engine's watermark stays below a tick being scraped, so that a
// standby never drops a tick its primary has not yet handed on.
func TestInFlightWatermarkStaysBelowTheTickBeingScraped(t *testing.T) {
	f := newFakeStandby()
	h, _, _ := standbyRig(t, f, 2)
	now := h.clock.Now().UnixMilli()
	d := h.engine.InFlight()
	if wm := d.Watermark(); wm != now-1 {
		t.Fatalf("watermark %d with nothing in flight, want now−1 = %d", wm, now-1)
	}
	h.engine.mu.Lock()
	for _, l := range h.engine.loops {
		l.inflight.Store(now - 5000)
	}
	h.engine.mu.Unlock()
	if wm := d.Watermark(); wm != now-5001 {
		t.Fatalf("watermark %d with tick %d in flight, want %d", wm, now-5000, now-5001)
	}
}

// The buffers of all targets share a bound too: past it, a pushing
// target drops its own oldest batches, and the shared count follows.
func TestStandbyBuffersShareAnEngineWideBound(t *testing.T) {
	var total atomic.Int64
	a := standbyBuffer{maxSamples: 100, total: &total, maxTotal: 6}
	b := standbyBuffer{maxSamples: 100, total: &total, maxTotal: 6}
	mk := func() *sample.Batch { return &sample.Batch{Samples: make([]sample.Sample, 2)} }
	a.push(1, mk())
	a.push(2, mk())
	b.push(1, mk())
	if d := b.push(2, mk()); len(d) != 1 || total.Load() != 6 {
		t.Fatalf("dropped %d batches, %d samples held; want 1 dropped and 6 held", len(d), total.Load())
	}
	a.trim(2)
	b.take()
	if total.Load() != 0 {
		t.Fatalf("%d samples counted once every buffer is empty", total.Load())
	}
}
