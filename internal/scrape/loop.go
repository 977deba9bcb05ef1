package scrape

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
)

// loopConfig is what a loop scrapes with; a new one replaces it whole.
type loopConfig struct {
	t      *target
	cfg    *Config
	client *http.Client
	accept string
}

// loop scrapes one target on its grid. Its goroutine is started and waited
// for by the engine. The engine talks to it only through its mailbox (mu,
// next, leaving, wake), and reads its status under statusMu; everything
// else belongs to the goroutine.
type loop struct {
	e *Engine

	mu      sync.Mutex
	next    *loopConfig // pending reconfiguration
	leaving bool        // the target left discovery
	wake    chan struct{}

	statusMu sync.Mutex
	status   TargetStatus
	cfg      *loopConfig // the config the engine last gave, for diffing

	// Owned by the goroutine.
	cur      *loopConfig
	last     int64 // the last tick handled, in Unix ms
	started  bool  // a tick has been decided
	owned    bool  // owned at the last decided tick
	left     bool  // the goroutine's copy of leaving, as last read
	ended    bool  // end-of-run markers are written
	fetcher  *fetcher
	parser   *parser
	report   reporter
	reported bool // report series were sent since the state was last forgotten
	// carried are the series of a previous configuration still to be
	// checked for staleness at the next scrape.
	carried []labels.Labels
	hold    holdQueue
	holding bool // counted in the engine's holding gauge
	sb      standbyBuffer
	// inflight is the tick whose batch this loop is scraping for its
	// receiver, 0 when none (see Engine.InFlight).
	inflight atomic.Int64
}

func newLoop(e *Engine, lc *loopConfig) *loop {
	l := &loop{e: e, cur: lc, cfg: lc, wake: make(chan struct{}, 1)}
	l.hold.maxSamples = e.opts.HoldMaxSamples
	l.sb.maxSamples = e.opts.HoldMaxSamples
	l.sb.total, l.sb.maxTotal = &e.standbySamples, int64(e.opts.StandbyMaxSamples)
	l.status = TargetStatus{Key: lc.t.key, Job: lc.t.job, URL: lc.t.url, Labels: lc.t.public, Health: HealthUnknown}
	return l
}

// reconfigure hands the loop a new configuration (also reviving a leaving
// target). It is called by the engine.
func (l *loop) reconfigure(lc *loopConfig) {
	l.mu.Lock()
	l.next, l.leaving = lc, false
	l.mu.Unlock()
	l.statusMu.Lock()
	l.cfg = lc
	l.status.Job, l.status.URL, l.status.Labels, l.status.Key = lc.t.job, lc.t.url, lc.t.public, lc.t.key
	l.statusMu.Unlock()
	l.poke()
}

// leave tells the loop its target left discovery.
func (l *loop) leave() {
	l.mu.Lock()
	l.leaving = true
	l.mu.Unlock()
	l.poke()
}

func (l *loop) isLeaving() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leaving
}

func (l *loop) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *loop) cluster() component.Cluster {
	if l.cur.cfg.Clustered && l.e.opts.Cluster != nil {
		return l.e.opts.Cluster
	}
	return component.Alone{}
}

func (l *loop) logger() *slog.Logger { return l.e.logger.With("target", l.cur.t.url) }

// run is the loop's goroutine.
func (l *loop) run(ctx context.Context) {
	defer func() {
		if l.fetcher != nil {
			l.fetcher.close()
		}
	}()
	clock := l.e.clock
	iv, off := l.grid()
	l.last = firstTick(unixMs(clock.Now()), iv, off) - iv
	for {
		if l.ended {
			// Only held batches keep a leaving loop alive.
			if l.hold.empty() && l.e.retire(l) {
				return
			}
			select {
			case <-ctx.Done():
				l.shutdown()
				return
			case <-l.wake:
				l.readMail()
				iv, off = l.grid()
			case <-l.hold.gate():
				l.releaseHeld(ctx)
			}
			continue
		}

		now := unixMs(clock.Now())
		t, skipped := nextTick(now, l.last, iv, off)
		if skipped > 0 {
			if l.owned {
				l.e.m.ticksSkipped.Add(float64(skipped))
			}
			// The skipped ticks are handled: a wake-up before t must not
			// count them again.
			l.last = t - iv
		}
		if d := wakeAt(t, iv, l.e.opts.WakeQuantum.Milliseconds()) - now; d > 0 {
			timer := clock.NewTimer(time.Duration(d) * time.Millisecond)
			select {
			case <-ctx.Done():
				timer.Stop()
				l.shutdown()
				return
			case <-l.wake:
				timer.Stop()
				l.readMail()
				iv, off = l.grid()
				continue
			case <-l.hold.gate():
				timer.Stop()
				l.releaseHeld(ctx)
				continue
			case <-timer.C():
			}
		}
		if tooLate(unixMs(clock.Now()), t, iv) {
			if l.owned {
				l.e.m.ticksSkipped.Inc()
			}
			l.last = t
			continue
		}
		l.last = t
		if l.left {
			l.endOfRun(ctx, t)
			continue
		}
		l.tick(ctx, t)
	}
}

func (l *loop) grid() (iv, off int64) {
	iv = l.cur.t.intervalMs()
	return iv, gridOffset(l.cur.t.key, iv)
}

// readMail applies what the engine sent.
func (l *loop) readMail() {
	l.mu.Lock()
	next, leaving := l.next, l.leaving
	l.next = nil
	l.mu.Unlock()
	if next != nil {
		l.apply(next)
	}
	l.left = leaving
	if !leaving && l.ended {
		// The target came back after its end-of-run markers: it starts
		// over as a new target.
		l.ended = false
	}
}

// apply switches to a new configuration. The schedule continues from the
// last tick; the series of the old configuration are carried so that the
// first scrape under the new one marks those it no longer produces stale.
func (l *loop) apply(next *loopConfig) {
	if l.parser != nil {
		l.parser.cache.live(func(ls labels.Labels) { l.carried = append(l.carried, ls) })
	}
	l.cur = next
	if l.fetcher != nil {
		l.fetcher.close()
	}
	l.parser, l.fetcher = nil, nil
	if l.reported {
		// The report series keep their labels only if the target labels
		// stayed; otherwise carry the old ones too.
		old := l.report
		l.report = newReporter(next.t, next.cfg.ExtraMetrics)
		for _, pair := range [][2]labels.Labels{{old.up, l.report.up}, {old.duration, l.report.duration},
			{old.scraped, l.report.scraped}, {old.postRelabel, l.report.postRelabel}, {old.seriesAdded, l.report.seriesAdded}} {
			if !labels.Equal(pair[0], pair[1]) {
				l.carried = append(l.carried, pair[0])
			}
		}
	}
}

// tick handles one tick of a target that is still discovered.
func (l *loop) tick(ctx context.Context, t int64) {
	cl := l.cluster()
	key := l.cur.t.key
	owned := cl.Owns(key, t)
	wasOwned, started := l.owned, l.started
	l.owned, l.started = owned, true
	l.setOwned(owned)
	if !owned {
		if wasOwned {
			// Moved to another node: it continues the series, so no
			// staleness markers, and this node forgets them (unless it
			// stays the target's standby).
			l.e.m.targetsMoved.Inc()
			l.logger().Debug("target moved to another node", "tick", t)
		}
		if l.standbyTick(ctx, t) {
			return
		}
		if wasOwned || l.parser != nil {
			l.forget()
		}
		return
	}
	if started && !wasOwned {
		l.e.m.targetsAcquired.Inc()
		l.logger().Debug("target moved to this node", "tick", t)
	}
	gate := cl.Hold(key, t)
	l.takeover(ctx, gate)
	l.inflight.Store(t)
	defer l.inflight.Store(0)
	b := l.e.pools.getBatch()
	if !l.scrapeInto(ctx, t, b) {
		l.e.pools.putBatch(b)
		return
	}
	l.deliver(ctx, b, gate)
}

// forget drops the series state of a target this node no longer owns.
func (l *loop) forget() {
	if l.fetcher != nil {
		// Another node scrapes it now; keep no connection open.
		l.fetcher.close()
	}
	l.parser = nil
	l.carried = nil
	l.reported = false
}

// endOfRun writes the staleness markers of a target that left discovery,
// at the tick it would have scraped next.
func (l *loop) endOfRun(ctx context.Context, t int64) {
	l.ended = true
	if !l.owned {
		// A standby's series are the owner's to end.
		l.dropStandby()
		l.forget()
	}
	b := l.e.pools.getBatch()
	n := 0
	if l.parser != nil {
		l.parser.cache.live(staleAppender(b, t, &n))
	}
	n += staleCarried(b, t, l.carried, nil)
	if l.reported {
		n += l.report.appendStale(b, t)
	}
	l.forget()
	if b.Len() == 0 {
		l.e.pools.putBatch(b)
		return
	}
	l.e.m.staleMarkers.Add(float64(n))
	l.deliver(ctx, b, nil)
}

// shutdown ends the loop when the engine stops: no markers, and held
// samples are lost (they were waiting for another node's delivery).
func (l *loop) shutdown() {
	l.dropStandby()
	if n := l.hold.drop(); n > 0 {
		l.e.m.heldDropped.Add(float64(n))
	}
	l.countHolding()
}

// scrapeInto scrapes tick t into b. It returns false when nothing must be
// sent because the engine is stopping.
func (l *loop) scrapeInto(ctx context.Context, t int64, b *sample.Batch) bool {
	tg, cfg := l.cur.t, l.cur.cfg
	if l.fetcher == nil {
		f, err := newFetcher(l.cur.client, tg, cfg, l.cur.accept, &l.e.pools)
		if err != nil {
			l.setStatus(l.e.clock.Now(), 0, err)
			return false
		}
		l.fetcher = f
	}
	if l.parser == nil {
		l.parser = newParser(tg, cfg)
		l.report = newReporter(tg, cfg.ExtraMetrics)
	}
	p := l.parser
	start := l.e.clock.Now()

	var (
		body     []byte
		ct       string
		err      error
		res      parseResult
		bodySize int
	)
	if forced := l.e.forcedError(); forced != nil {
		err = forced
	} else {
		body, ct, err = l.fetcher.fetch(ctx)
	}
	if ctx.Err() != nil {
		// Shutting down: a failed scrape now says nothing about the target.
		if err == nil {
			l.fetcher.release(body)
		}
		return false
	}
	p.cache.begin()
	if err == nil {
		bodySize = len(body)
		res, err = safeParse(p, body, ct, t, b)
		l.fetcher.release(body)
		if res.fallback != nil {
			l.logger().Debug("unusable Content-Type, parsed with the fallback protocol", "err", res.fallback)
		}
	}
	l.countError(err, res)

	n := 0
	if err != nil {
		if errors.Is(err, errBodySizeLimit) {
			bodySize = -1
		}
		b.Reset()
		p.cache.abort(staleAppender(b, t, &n))
		n += staleCarried(b, t, l.carried, nil)
	} else {
		p.cache.commit(staleAppender(b, t, &n))
		if len(l.carried) > 0 {
			n += staleCarried(b, t, l.carried, p.cache.sentHashes())
		}
	}
	l.carried = nil
	if n > 0 {
		l.e.m.staleMarkers.Add(float64(n))
	}
	dur := l.e.clock.Now().Sub(start)
	l.report.append(b, scrapeReport{
		tick: t, duration: dur, res: res, err: err,
		timeout: tg.timeout, sampleLimit: cfg.SampleLimit, bodySize: bodySize,
	})
	l.reported = true
	if err == nil && cfg.Clustered {
		if obs, ok := l.cluster().(component.LoadObserver); ok {
			obs.ObserveSeries(tg.key, res.added, time.Duration(tg.intervalMs())*time.Millisecond)
		}
	}
	l.setStatus(start, dur, err)
	if err != nil {
		l.logger().Debug("scrape failed", "err", err)
	}
	return true
}

// safeParse parses a body, turning a panic of the third-party parsers on
// hostile input into a failed scrape of this target alone.
func safeParse(p *parser, body []byte, ct string, t int64, b *sample.Batch) (res parseResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parsing body: %v", r)
		}
	}()
	return p.parse(body, ct, t, b)
}

func (l *loop) countError(err error, res parseResult) {
	m := l.e.m
	if res.duplicates > 0 {
		m.duplicateTimestamp.Add(float64(res.duplicates))
	}
	switch {
	case err == nil:
	case errors.Is(err, errBodySizeLimit):
		m.exceededBody.Inc()
	case errors.Is(err, errSampleLimit):
		m.exceededSample.Inc()
	case errors.Is(err, errBucketLimit):
		m.exceededBuckets.Inc()
	case errors.As(err, new(*labelLimitError)):
		m.exceededLabels.Inc()
	}
}

// deliver sends b now, or holds it (with everything after it) until the
// cluster releases the tick. It takes b, which goes back to the engine's
// pool once sent.
func (l *loop) deliver(ctx context.Context, b *sample.Batch, gate <-chan struct{}) {
	if gate == nil && l.hold.empty() {
		l.send(ctx, b)
		l.e.pools.putBatch(b)
		return
	}
	if n := l.hold.push(b, gate); n > 0 {
		l.e.m.heldDropped.Add(float64(n))
	}
	l.releaseHeld(ctx)
}

func (l *loop) releaseHeld(ctx context.Context) {
	l.resolveStandby(ctx)
	l.hold.release(func(b *sample.Batch) {
		l.send(ctx, b)
		l.e.pools.putBatch(b)
	})
	l.countHolding()
}

// countHolding keeps the engine's gauge of holding targets.
func (l *loop) countHolding() {
	if h := !l.hold.empty(); h != l.holding {
		l.holding = h
		if h {
			l.e.holding.Add(1)
		} else {
			l.e.holding.Add(-1)
		}
	}
}

func (l *loop) send(ctx context.Context, b *sample.Batch) {
	r := l.e.receiver()
	if r == nil || b.Len() == 0 && len(b.Metadata) == 0 {
		return
	}
	if err := r.Receive(ctx, b); err != nil && ctx.Err() == nil {
		l.e.m.sendFailures.Inc()
		l.logger().Warn("forward_to receiver failed to accept a batch", "err", err)
	}
}

func (l *loop) setOwned(owned bool) {
	l.statusMu.Lock()
	l.status.Owned = owned
	l.statusMu.Unlock()
}

func (l *loop) setStatus(start time.Time, dur time.Duration, err error) {
	l.statusMu.Lock()
	defer l.statusMu.Unlock()
	l.status.LastScrape = start
	l.status.LastScrapeDuration = dur
	if err != nil {
		l.status.Health = HealthDown
		l.status.LastError = err.Error()
	} else {
		l.status.Health = HealthUp
		l.status.LastError = ""
	}
}

func (l *loop) snapshot() (TargetStatus, *loopConfig) {
	l.statusMu.Lock()
	defer l.statusMu.Unlock()
	return l.status, l.cfg
}

func unixMs(t time.Time) int64 { return t.UnixMilli() }
