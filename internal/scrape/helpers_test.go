package scrape

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
)

// fakeClock is a Clock that moves only when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c        chan time.Time
	deadline time.Time
	done     bool
	clock    *fakeClock
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	ft := &fakeTimer{c: make(chan time.Time, 1), deadline: c.now.Add(d), clock: c}
	if d <= 0 {
		ft.done = true
		ft.c <- c.now
		return ft
	}
	c.timers = append(c.timers, ft)
	return ft
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// set moves the clock to at and fires the timers due.
func (c *fakeClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
	keep := c.timers[:0]
	for _, ft := range c.timers {
		switch {
		case ft.done:
		case !ft.deadline.After(at):
			ft.done = true
			ft.c <- at
		default:
			keep = append(keep, ft)
		}
	}
	c.timers = keep
}

// pending is the number of armed timers.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ft := range c.timers {
		if !ft.done {
			n++
		}
	}
	return n
}

// collector is a Receiver that keeps copies of what it receives.
type collector struct {
	mu      sync.Mutex
	batches []sample.Batch
	changed chan struct{}
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) Receive(_ context.Context, b *sample.Batch) error {
	cp := sample.Batch{Samples: slices.Clone(b.Samples), Exemplars: slices.Clone(b.Exemplars), Metadata: slices.Clone(b.Metadata)}
	c.mu.Lock()
	c.batches = append(c.batches, cp)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return nil
}

func (c *collector) snapshot() []sample.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.batches)
}

// samples returns every sample received, in order.
func (c *collector) samples() []sample.Sample {
	var out []sample.Sample
	for _, b := range c.snapshot() {
		out = append(out, b.Samples...)
	}
	return out
}

// waitFor waits until cond holds for the samples received, or fails.
func (c *collector) waitFor(t *testing.T, what string, cond func([]sample.Sample) bool) []sample.Sample {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s := c.samples()
		if cond(s) {
			return s
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %d samples", what, len(s))
		}
	}
}

// waitUntil polls cond until it holds, or fails after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// fakeCluster owns by a function of key and tick, and holds by another.
type fakeCluster struct {
	component.Alone
	owns func(key uint64, t int64) bool
	hold func(key uint64, t int64) <-chan struct{}
}

func (f *fakeCluster) Enabled() bool { return true }
func (f *fakeCluster) Owns(k uint64, t int64) bool {
	if f.owns == nil {
		return true
	}
	return f.owns(k, t)
}
func (f *fakeCluster) Hold(k uint64, t int64) <-chan struct{} {
	if f.hold == nil {
		return nil
	}
	return f.hold(k, t)
}

// textTarget serves a text body that the test can change.
type textTarget struct {
	mu   sync.Mutex
	body string
	srv  *httptest.Server
	hits int
	last *http.Request
}

func newTextTarget(t *testing.T, body string) *textTarget {
	tt := &textTarget{body: body}
	tt.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tt.mu.Lock()
		b := tt.body
		tt.hits++
		tt.last = r.Clone(context.Background())
		tt.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(b))
	}))
	t.Cleanup(tt.srv.Close)
	return tt
}

func (tt *textTarget) set(body string) {
	tt.mu.Lock()
	tt.body = body
	tt.mu.Unlock()
}

func (tt *textTarget) addr() string { return tt.srv.Listener.Addr().String() }

func (tt *textTarget) lastRequest() *http.Request {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.last
}

// targetLabels are discovered labels for an address.
func targetLabels(addr string, extra ...string) labels.Labels {
	return labels.FromStrings(append([]string{"__address__", addr}, extra...)...)
}

// harness runs an engine on a fake clock.
type harness struct {
	t      *testing.T
	clock  *fakeClock
	engine *Engine
	recv   *collector
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T, cl component.Cluster) *harness {
	t.Helper()
	// Start on a round second so that ticks are easy to read.
	h := &harness{t: t, clock: newFakeClock(time.UnixMilli(1_700_000_000_000)), recv: newCollector(), done: make(chan struct{})}
	h.engine = New(Options{Cluster: cl, Clock: h.clock})
	h.engine.SetReceiver(h.recv)
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		_ = h.engine.Run(ctx)
	}()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
}

// advanceTo moves the fake clock to ms once n loops wait on timers.
func (h *harness) advanceTo(ms int64, loops int) {
	h.t.Helper()
	waitUntil(h.t, "loops to wait for their tick", func() bool { return h.clock.pending() >= loops })
	h.clock.set(time.UnixMilli(ms))
}

func isStale(s sample.Sample) bool {
	return math.Float64bits(s.V) == value.StaleNaN
}

// find returns the samples of metric name (and optionally one label).
func find(ss []sample.Sample, name string, kv ...string) []sample.Sample {
	var out []sample.Sample
	for _, s := range ss {
		if s.Labels.Get("__name__") != name {
			continue
		}
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if s.Labels.Get(kv[i]) != kv[i+1] {
				ok = false
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.JobName = "test"
	cfg.Interval = 10 * time.Second
	cfg.Timeout = 2 * time.Second
	return cfg
}

func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
