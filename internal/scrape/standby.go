package scrape

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
)

// Hot standby (Config.Replicas = 2). At each tick a target's standby, the
// node that would own it were its owner (the primary) not eligible,
// scrapes it exactly as the owner does: same grid, same timestamps, and it
// keeps the series state, so that its batch of tick t is what the primary
// sends for t. It sends nothing: it keeps the batch in a bounded buffer,
// tagged with t, and drops every batch whose t the primary's gossiped
// delivery watermark covers. When it becomes the owner:
//   - the primary died: the buffered batches after its last watermark go
//     first, in order, then the new ticks; a dead giver has no hold to wait
//     for. Those batches are counted, since the primary may have delivered
//     some of them without its watermark saying so yet (the receiver
//     rejects such a tick as a duplicate);
//   - the primary is alive (it is terminating, or the eligible set
//     changed): the new ticks wait on the handoff hold as any handoff's do,
//     and the buffer is dropped when the hold is released, unless the
//     primary died meanwhile, in which case what its last watermark does
//     not cover is sent first.
// A standby never sends a tick its primary's watermark covers: the
// receiver would get two different values at one timestamp.

// standbyBuffer is a target's batches scraped as standby, oldest first.
type standbyBuffer struct {
	primary    string // the owner this node is standby of, "" when none
	q          []standbyBatch
	samples    int
	maxSamples int
	// total counts the samples of every buffer of the engine, bounded by
	// maxTotal: during a receiver outage the primaries' watermarks stall
	// and every standby buffer fills at once.
	total    *atomic.Int64
	maxTotal int64
	// awaiting: the node took the target over from a live primary; the
	// buffer waits for the handoff hold to be resolved.
	awaiting bool
}

type standbyBatch struct {
	t int64
	b *sample.Batch
}

// push keeps b, tick t's batch, and returns the batches dropped, oldest
// first, to stay within maxSamples. The newest batch always stays.
func (s *standbyBuffer) push(t int64, b *sample.Batch) (dropped []*sample.Batch) {
	s.q = append(s.q, standbyBatch{t: t, b: b})
	s.samples += b.Len()
	if s.total != nil {
		s.total.Add(int64(b.Len()))
	}
	for len(s.q) > 1 && (s.maxSamples > 0 && s.samples > s.maxSamples ||
		s.total != nil && s.maxTotal > 0 && s.total.Load() > s.maxTotal) {
		dropped = append(dropped, s.pop())
	}
	return dropped
}

func (s *standbyBuffer) pop() *sample.Batch {
	b := s.q[0].b
	s.q[0] = standbyBatch{}
	s.q = s.q[1:]
	s.samples -= b.Len()
	if s.total != nil {
		s.total.Add(-int64(b.Len()))
	}
	return b
}

// reset empties a buffer whose batches are gone, keeping its bounds.
func (s *standbyBuffer) reset() {
	*s = standbyBuffer{maxSamples: s.maxSamples, total: s.total, maxTotal: s.maxTotal}
}

// trim returns the batches the watermark covers (t ≤ wm), oldest first,
// removing them.
func (s *standbyBuffer) trim(wm int64) (covered []*sample.Batch) {
	for len(s.q) > 0 && s.q[0].t <= wm {
		covered = append(covered, s.pop())
	}
	return covered
}

// take removes and returns every batch, oldest first.
func (s *standbyBuffer) take() []*sample.Batch {
	out := make([]*sample.Batch, 0, len(s.q))
	for len(s.q) > 0 {
		out = append(out, s.pop())
	}
	s.q = nil
	return out
}

// standbyMetrics count what the standby does.
type standbyMetrics struct {
	ticks    prometheus.Counter
	takeover prometheus.Counter
	dropped  prometheus.Counter
	covered  prometheus.Counter
}

func newStandbyMetrics(reg prometheus.Registerer, buffered func() float64) *standbyMetrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &standbyMetrics{
		ticks:    c("shoal_scrape_standby_ticks_total", "Ticks scraped by this node as a target's standby (replicas = 2), not sent unless it takes over."),
		takeover: c("shoal_scrape_standby_takeover_batches_total", "Ticks a standby sent from its buffer when it took over a dead primary's target: ticks past the primary's last gossiped watermark, of which those the primary had delivered reach the receiver twice."),
		dropped:  c("shoal_scrape_standby_dropped_samples_total", "Samples a standby dropped because a target's buffer exceeded its bound."),
		covered:  c("shoal_scrape_standby_covered_batches_total", "Ticks a standby dropped because its primary's watermark covered them or it handed off alive."),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.ticks, m.takeover, m.dropped, m.covered,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "shoal_scrape_standby_buffered_samples", Help: "Samples a standby holds until its primaries' watermarks cover them.",
			}, buffered)} {
			register(reg, col)
		}
	}
	return m
}

// standbyCluster returns the cluster's standby side when this loop's
// target is replicated, or nil.
func (l *loop) standbyCluster() component.StandbyCluster {
	if l.cur.cfg.Replicas < 2 {
		return nil
	}
	sc, _ := l.cluster().(component.StandbyCluster)
	return sc
}

// standbyTick handles tick t of a target this node does not own. It
// returns true when the node is the target's standby and scraped t into
// its buffer; false when the node has nothing to do with the target (and
// its buffer is dropped).
func (l *loop) standbyTick(ctx context.Context, t int64) bool {
	sc := l.standbyCluster()
	if sc == nil {
		l.dropStandby()
		return false
	}
	primary, ok := sc.Standby(l.cur.t.key, t)
	if !ok {
		l.dropStandby()
		return false
	}
	if l.sb.primary != primary || l.sb.awaiting {
		l.dropStandby()
		l.sb.primary = primary
	}
	wm, _ := sc.Delivered(primary)
	l.recycleCovered(l.sb.trim(wm))
	b := l.e.pools.getBatch()
	if !l.scrapeInto(ctx, t, b) {
		l.e.pools.putBatch(b)
		return true
	}
	l.e.sm.ticks.Inc()
	for _, d := range l.sb.push(t, b) {
		l.e.sm.dropped.Add(float64(d.Len()))
		l.e.pools.putBatch(d)
	}
	return true
}

// takeover runs at the first owned tick after this node was the
// target's standby, before the tick is scraped. gate is the tick's
// handoff hold.
func (l *loop) takeover(ctx context.Context, gate <-chan struct{}) {
	if l.sb.primary == "" || l.sb.awaiting {
		return
	}
	sc := l.standbyCluster()
	if sc == nil {
		l.dropStandby()
		return
	}
	wm, alive := sc.Delivered(l.sb.primary)
	l.recycleCovered(l.sb.trim(wm))
	switch {
	case !alive:
		l.sendStandby(ctx)
	case gate == nil || len(l.sb.q) == 0:
		// Handed off alive, and nothing waits: the primary delivers
		// its own ticks.
		l.dropStandby()
	default:
		l.sb.awaiting = true
		l.logger().Debug("took over from a live primary; standby ticks wait for its hold", "primary", l.sb.primary)
	}
}

// resolveStandby decides, once the hold the takeover waits on is
// released, what becomes of the buffer: sent if the primary died
// meanwhile (what its watermark does not cover), dropped otherwise. It
// runs before the held batches are released, so that the order holds.
func (l *loop) resolveStandby(ctx context.Context) {
	if !l.sb.awaiting || l.hold.gate() != nil && !closed(l.hold.gate()) {
		return
	}
	sc := l.standbyCluster()
	if sc == nil {
		l.dropStandby()
		return
	}
	wm, alive := sc.Delivered(l.sb.primary)
	l.recycleCovered(l.sb.trim(wm))
	if alive {
		l.dropStandby()
		return
	}
	for _, b := range l.sb.take() {
		l.e.sm.takeover.Inc()
		l.send(ctx, b)
		l.e.pools.putBatch(b)
	}
	l.sb.reset()
}

// sendStandby sends the buffer, in order, ahead of anything later.
func (l *loop) sendStandby(ctx context.Context) {
	bs := l.sb.take()
	if len(bs) > 0 {
		l.logger().Info("took over a dead primary's target; sending the ticks after its last watermark",
			"primary", l.sb.primary, "ticks", len(bs))
	}
	for _, b := range bs {
		l.e.sm.takeover.Inc()
		l.deliver(ctx, b, nil)
	}
	l.sb.reset()
}

// dropStandby forgets the buffer.
func (l *loop) dropStandby() {
	if len(l.sb.q) == 0 && l.sb.primary == "" && !l.sb.awaiting {
		return
	}
	for _, b := range l.sb.take() {
		l.e.pools.putBatch(b)
	}
	l.sb.reset()
}

func (l *loop) recycleCovered(bs []*sample.Batch) {
	for _, b := range bs {
		l.e.sm.covered.Inc()
		l.e.pools.putBatch(b)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A node's delivery watermark (the minimum over its remote_write
// components) says that every sample stamped at or before it was
// acknowledged, but only of the samples those components had received:
// a tick being scraped is in none of them yet, and a remote_write
// component with nothing pending reports now. A standby that trusted it
// could drop tick t while its primary is still scraping t, and lose t if
// the primary then crashed. With replicas = 2 the engine therefore takes
// part in the watermark too (Engine.InFlight): it stays below the oldest
// tick an owned target is scraping until its batch is handed on.

// InFlight is the engine's side of the node's delivery watermark: below
// the oldest tick whose batch this node is scraping and has not yet
// handed to its receiver. The component registers it with the cluster
// (Cluster.AddDelivery) while it runs with replicas = 2.
func (e *Engine) InFlight() component.Delivery { return inFlight{e} }

type inFlight struct{ e *Engine }

// Watermark is the oldest tick in flight minus 1ms, or now − 1ms.
func (f inFlight) Watermark() int64 {
	e := f.e
	wm := unixMs(e.clock.Now()) - 1
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.loops {
		if t := l.inflight.Load(); t != 0 {
			wm = min(wm, t-1)
		}
	}
	return wm
}

// Flush has nothing to send: the batches go to the receivers at once.
func (inFlight) Flush() {}
