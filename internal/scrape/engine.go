package scrape

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
)

// Options are fixed for the life of an engine.
type Options struct {
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Registerer registers the self-metrics; nil skips them.
	Registerer prometheus.Registerer
	// Cluster decides ownership of targets while Config.Clustered is set.
	// Nil behaves as component.Alone.
	Cluster component.Cluster
	// Clock drives the tick grid; nil is the wall clock.
	Clock Clock
	// HoldMaxSamples bounds the samples one target holds during a handoff;
	// beyond it the oldest batches are dropped. 0 means 100,000.
	HoldMaxSamples int
	// StandbyMaxSamples bounds the samples all targets' standby buffers
	// hold together (replicas = 2); each target's is also bounded by
	// HoldMaxSamples. 0 means 1,000,000.
	StandbyMaxSamples int
	// WakeQuantum lets loops wake for their ticks only on multiples of it,
	// the last one at or before the tick (at most a tenth of the interval
	// earlier), so that ticks close together start together and the
	// process wakes less often; samples keep their grid timestamps (see
	// schedule.go). 0 wakes at each tick exactly.
	WakeQuantum time.Duration
}

// Engine scrapes a component's targets: one loop per target, diffed on
// every SetTargets. It is safe for concurrent use.
type Engine struct {
	opts   Options
	logger *slog.Logger
	clock  Clock
	m      *metrics
	sm     *standbyMetrics
	pools  pools

	receiverBox atomic.Pointer[receiverBox]
	forced      atomic.Pointer[error]
	holding     atomic.Int64 // loops holding samples now
	// standbySamples is what the standby buffers hold (standby.go).
	standbySamples atomic.Int64

	mu       sync.Mutex
	cfg      *Config
	client   *http.Client
	accept   string
	loops    map[uint64]*loop // by target id
	order    []uint64         // ids of the current targets, in the given order
	problems Problems
	collided map[uint64]bool // ids of targets whose key collides
	ctx      context.Context // set by Run; nil before, cancelled after
	stopped  bool
	wg       sync.WaitGroup
}

type receiverBox struct{ r sample.Receiver }

// New returns an engine that scrapes nothing until SetTargets and Run.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Cluster == nil {
		opts.Cluster = component.Alone{}
	}
	if opts.HoldMaxSamples <= 0 {
		opts.HoldMaxSamples = 100_000
	}
	if opts.StandbyMaxSamples <= 0 {
		opts.StandbyMaxSamples = 1_000_000
	}
	e := &Engine{opts: opts, logger: opts.Logger, clock: opts.Clock, loops: map[uint64]*loop{}}
	if e.clock == nil {
		e.clock = realClock{}
	}
	e.m = newMetrics(opts.Registerer, e.ownedCount, e.holdingCount)
	e.sm = newStandbyMetrics(opts.Registerer, func() float64 { return float64(e.standbySamples.Load()) })
	return e
}

// SetReceiver sets where batches go (the fanout of forward_to). It takes
// effect at the next batch of every target.
func (e *Engine) SetReceiver(r sample.Receiver) {
	e.receiverBox.Store(&receiverBox{r: r})
}

func (e *Engine) receiver() sample.Receiver {
	if b := e.receiverBox.Load(); b != nil {
		return b.r
	}
	return nil
}

func (e *Engine) forcedError() error {
	if p := e.forced.Load(); p != nil {
		return *p
	}
	return nil
}

// SetTargets replaces the targets and the config. An unchanged target keeps
// its schedule and series state; a changed one continues its schedule
// under the new settings; a removed one gets staleness markers at its next
// tick; a new one starts at its next tick. An invalid cfg is rejected whole
// and changes nothing. Invalid targets are left out and reported in
// Problems.
func (e *Engine) SetTargets(discovered []labels.Labels, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	if e.cfg == nil || !reflect.DeepEqual(*e.cfg, cfg) {
		if e.cfg == nil || !reflect.DeepEqual(e.cfg.HTTPClient, cfg.HTTPClient) {
			client, err := commoncfg.NewClientFromConfig(cfg.HTTPClient, "scrape")
			if err != nil {
				return fmt.Errorf("building the HTTP client: %w", err)
			}
			if e.client != nil {
				e.client.CloseIdleConnections()
			}
			e.client = client
		}
		c := cfg
		e.cfg = &c
		e.accept = acceptHeader(c.Protocols, c.EscapingScheme)
	}

	var problems Problems
	targets := make([]*target, 0, len(discovered))
	seen := make(map[uint64]bool, len(discovered))
	byKey := make(map[uint64]*target, len(discovered))
	collided := map[uint64]bool{}
	for _, d := range discovered {
		t, err := newTarget(d, e.cfg)
		if err != nil {
			if problems.Invalid == 0 {
				problems.FirstInvalid = err.Error()
			}
			problems.Invalid++
			continue
		}
		if seen[t.id] {
			// The same target twice (differing at most in __meta_*
			// labels): it is one target.
			continue
		}
		seen[t.id] = true
		if other, ok := byKey[t.key]; ok {
			collided[t.id], collided[other.id] = true, true
			problems.Collisions = append(problems.Collisions, fmt.Sprintf("%s and %s share cluster key %016x; both are scraped", other.url, t.url, t.key))
		} else {
			byKey[t.key] = t
		}
		targets = append(targets, t)
	}
	if problems.Invalid > 0 {
		e.logger.Warn("targets left out", "count", problems.Invalid, "err", problems.FirstInvalid)
	}
	for _, c := range problems.Collisions {
		e.logger.Warn("target key collision", "err", c)
	}
	e.m.collisions.Set(float64(len(collided)))
	if lim := e.cfg.TargetLimit; lim > 0 && len(targets) > lim {
		err := fmt.Errorf("target_limit exceeded (number of targets: %d, limit: %d)", len(targets), lim)
		problems.TargetLimit = err.Error()
		e.forced.Store(&err)
		e.m.exceededTargets.Inc()
	} else {
		e.forced.Store(nil)
	}
	e.problems = problems
	e.collided = collided

	if e.ctx == nil {
		// Not running yet: the loops are built, and started by Run.
		clear(e.loops)
	}
	e.sync(targets)
	return nil
}

// sync diffs the running loops against targets. e.mu is held.
func (e *Engine) sync(targets []*target) {
	want := make(map[uint64]bool, len(targets))
	e.order = e.order[:0]
	var clamped []*target
	for _, t := range targets {
		want[t.id] = true
		e.order = append(e.order, t.id)
		lc := &loopConfig{t: t, cfg: e.cfg, client: e.client, accept: e.accept}
		l, ok := e.loops[t.id]
		if !ok {
			if t.clamped {
				clamped = append(clamped, t)
			}
			l = newLoop(e, lc)
			e.loops[t.id] = l
			if ctx := e.ctx; ctx != nil {
				e.wg.Go(func() { l.run(ctx) })
			}
			continue
		}
		_, old := l.snapshot()
		if old.cfg == lc.cfg && old.client == lc.client && old.accept == lc.accept && old.t.sameAs(t) && !l.isLeaving() {
			continue
		}
		if t.clamped && (!old.t.clamped || old.t.timeout != t.timeout) {
			clamped = append(clamped, t)
		}
		l.reconfigure(lc)
	}
	if len(clamped) > 0 {
		// Once per change of target configuration, not once per target:
		// a fleet of targets with a short interval would flood the log.
		e.logger.Warn("scrape_timeout is longer than the scrape interval; using the interval",
			"targets", len(clamped), "target", clamped[0].url, "interval", clamped[0].interval, "timeout", e.cfg.Timeout)
	}
	for id, l := range e.loops {
		if !want[id] && !l.isLeaving() {
			l.leave()
		}
	}
}

// retire removes a loop whose target left, unless the target came back.
// It reports whether the loop may exit.
func (e *Engine) retire(l *loop) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.leaving || l.next != nil {
		return false
	}
	if e.loops[l.cur.t.id] == l {
		delete(e.loops, l.cur.t.id)
	}
	return true
}

// Run runs the loops until ctx is cancelled, then waits for them. Nothing
// is written on shutdown: no staleness markers, no held samples.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	for _, l := range e.loops {
		e.wg.Go(func() { l.run(ctx) })
	}
	e.mu.Unlock()

	<-ctx.Done()

	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
	e.wg.Wait()
	e.mu.Lock()
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	e.mu.Unlock()
	return nil
}

// Keys returns the cluster keys of the current targets, sorted, without
// duplicates: what the component publishes to the cluster.
func (e *Engine) Keys() []uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var keys []uint64
	for _, id := range e.order {
		if l, ok := e.loops[id]; ok {
			_, lc := l.snapshot()
			keys = append(keys, lc.t.key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Targets returns the status of every current target in the order given,
// with Owned computed for now.
func (e *Engine) Targets() []TargetStatus {
	e.mu.Lock()
	loops := make([]*loop, 0, len(e.order))
	for _, id := range e.order {
		if l, ok := e.loops[id]; ok {
			loops = append(loops, l)
		}
	}
	clustered := e.cfg != nil && e.cfg.Clustered
	collided := e.collided
	e.mu.Unlock()

	now := unixMs(e.clock.Now())
	out := make([]TargetStatus, 0, len(loops))
	for _, l := range loops {
		st, lc := l.snapshot()
		st.Owned = !clustered || e.opts.Cluster.Owns(lc.t.key, now)
		st.Collision = collided[lc.t.id]
		out = append(out, st)
	}
	return out
}

// Problems returns the component-level troubles of the last SetTargets.
func (e *Engine) Problems() Problems {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.problems
	p.Collisions = slices.Clone(p.Collisions)
	return p
}

func (e *Engine) ownedCount() float64 {
	n := 0
	for _, st := range e.Targets() {
		if st.Owned {
			n++
		}
	}
	return float64(n)
}

func (e *Engine) holdingCount() float64 { return float64(e.holding.Load()) }
