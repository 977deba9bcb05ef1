// Package discovery runs one of prometheus' service discoverers as a shoal
// component and turns what it finds into the `targets` export: a sorted,
// deduplicated list of label maps. The components discovery.file,
// discovery.http, discovery.dns and discovery.kubernetes are thin folders
// below this one that convert their Alloy arguments into a prometheus SD
// config and hand it to New; discovery.relabel, which discovers nothing,
// lives below it too because it owns the same Target type.
//
// This package owns the discoverer's lifecycle (start, restart on changed
// arguments, stop), the merge of target groups into targets, readiness (the
// first complete refresh, which a node waits for before it takes part in a
// cluster) and health (the last refresh failed, the last good targets are
// kept). It does not discover anything itself, relabel, or decide which
// node scrapes what.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/shoal-dev/shoal/internal/component"
)

// Mechanism says how to tell from outside that a prometheus discoverer
// finished a full refresh, for the discoverers that do not use prometheus'
// refresh package (those are recognised by themselves).
type Mechanism struct {
	// ScanMetric names a summary or histogram that the discoverer observes
	// at the end of every full refresh, after it has sent the groups of
	// that refresh (file_sd's prometheus_sd_file_scan_duration_seconds).
	ScanMetric string
	// FailureMetrics name counters the discoverer increments when a
	// refresh, a lookup or a watch fails.
	FailureMetrics []string
	// SettleQuiet and SettleTimeout are for discoverers that stream
	// updates without ever marking the end of a full list (Kubernetes
	// informers). The first refresh counts as complete once updates have
	// been quiet for SettleQuiet after the first one, or after
	// SettleTimeout without any update (an empty result).
	SettleQuiet   time.Duration
	SettleTimeout time.Duration
	// PollInterval is how often the metrics above are read. Default 250ms.
	PollInterval time.Duration
	// StopWait bounds how long stopping waits for the discoverer's Run to
	// return, for discoverers that notice cancellation only after a sleep
	// (consul_sd waits out its refresh interval, or 15s after a failed
	// request). Past it the old discoverer is left to finish on its own:
	// its sends are no longer read and it gives them up on cancellation.
	// Zero waits for as long as it takes.
	StopWait time.Duration
}

func (m Mechanism) settles() bool { return m.ScanMetric == "" && m.SettleTimeout > 0 }

func (m Mechanism) polls() bool { return m.ScanMetric != "" || len(m.FailureMetrics) > 0 }

// Converter turns a component's decoded arguments into a prometheus SD
// config. It is called from New and Update.
type Converter func(args component.Arguments) (promdiscovery.Config, error)

// publishDelay coalesces bursts of updates (an informer's initial list, a
// file rewritten in several writes) into one new export.
const publishDelay = 100 * time.Millisecond

// failureMemory is how long a streaming discoverer (no refresh cycle) stays
// unhealthy after its last failure when no update proves it well again.
const failureMemory = time.Minute

// Component runs one prometheus discoverer. It implements
// component.Component, component.ReadyComponent and
// component.HealthComponent.
type Component struct {
	opts    component.Options
	convert Converter
	mech    Mechanism
	refresh promdiscovery.RefreshMetricsManager

	ready   atomic.Bool
	restart chan struct{}

	mu        sync.Mutex
	cfg       promdiscovery.Config // of the newest instance
	pending   *instance            // built by New or Update, not yet started
	health    component.Health
	published []Target
	everSent  bool

	// Sharing (share.go): share is nil unless the cluster shares
	// discovery; hash identifies cfg; version is the exported list's.
	share   component.DiscoveryShare
	shareM  *shareMetrics
	hash    string
	version uint64
	// sharedHash is the hash of the list served now.
	sharedHash string
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.ReadyComponent  = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// New builds a discovery component: it converts args and constructs the
// discoverer, so that a bad config (an unreadable kubeconfig, say) fails
// here, and starts it when Run is called.
func New(opts component.Options, args component.Arguments, convert Converter, mech Mechanism) (*Component, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if mech.PollInterval <= 0 {
		mech.PollInterval = 250 * time.Millisecond
	}
	c := &Component{
		opts:    opts,
		convert: convert,
		mech:    mech,
		refresh: promdiscovery.NewRefreshMetrics(opts.Registerer),
		restart: make(chan struct{}, 1),
		health: component.Health{
			State:   component.HealthUnknown,
			Message: "waiting for the first refresh",
			Updated: time.Now(),
		},
	}
	cfg, err := convert(args)
	if err != nil {
		return nil, err
	}
	inst, err := c.build(cfg)
	if err != nil {
		return nil, err
	}
	c.cfg, c.pending = cfg, inst
	if ds, ok := opts.Cluster.(component.DiscoveryShare); ok && ds.SharesDiscovery() {
		if c.hash = configHash(cfg); c.hash != "" {
			c.share = ds
			c.shareM = newShareMetrics(opts.Registerer)
		} else {
			opts.Logger.Warn("this discovery's config cannot be hashed, so it is not shared: every node runs it")
		}
	}
	opts.LiveDebug.SetSnapshot(func() []string { return TargetLines(c.Targets()) })
	return c, nil
}

// Update converts args and restarts the discoverer if its config changed.
// The targets found so far stay exported until the new discoverer has
// finished its first refresh.
func (c *Component) Update(args component.Arguments) error {
	cfg, err := c.convert(args)
	if err != nil {
		return err
	}
	c.mu.Lock()
	same := reflect.DeepEqual(cfg, c.cfg)
	c.mu.Unlock()
	if same {
		return nil
	}
	inst, err := c.build(cfg)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg, c.pending = cfg, inst
	if c.share != nil {
		c.hash = configHash(cfg)
	}
	c.mu.Unlock()
	select {
	case c.restart <- struct{}{}:
	default:
	}
	return nil
}

// Ready reports whether the first complete refresh has finished. An empty
// or failed refresh counts: its result is known, and every node sees the
// same.
func (c *Component) Ready() bool { return c.ready.Load() }

// CurrentHealth is unhealthy, with the error, while the last refresh
// failed.
func (c *Component) CurrentHealth() component.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

// Targets returns the targets last exported.
func (c *Component) Targets() []Target {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.published
}

// instance is one constructed discoverer with its probes.
type instance struct {
	cfg     promdiscovery.Config
	disc    promdiscovery.Discoverer
	metrics promdiscovery.DiscovererMetrics
	probe   *probe
}

func (c *Component) build(cfg promdiscovery.Config) (*instance, error) {
	p := newProbe(c.opts.Logger.Warn)
	metrics := cfg.NewDiscovererMetrics(p.registerer(c.opts.Registerer), p.instantiator(c.refresh))
	disc, err := cfg.NewDiscoverer(promdiscovery.DiscovererOptions{
		Logger:  slog.New(p.handler(c.opts.Logger.Handler())),
		Metrics: metrics,
		SetName: c.opts.ID,
	})
	if err != nil {
		return nil, fmt.Errorf("creating %s discovery: %w", cfg.Name(), err)
	}
	return &instance{cfg: cfg, disc: disc, metrics: metrics, probe: p}, nil
}

// run is the state of one started instance inside Run.
type run struct {
	*instance
	cancel  context.CancelFunc
	done    chan struct{}
	up      chan []*targetgroup.Group
	groups  map[string]*targetgroup.Group
	seen    probeState // as of the last reconcile
	first   bool       // the first refresh is complete: results may be exported
	dirty   bool       // groups changed since the last export
	waiting uint64     // successful refreshes whose groups have not arrived
	started time.Time
	updates int
	// healthyAt is when a streaming discoverer's failure is forgotten.
	healthyAt time.Time
	// scanFailed remembers a failure counted before the scan or refresh it
	// belongs to was observed: the two counters move at different moments,
	// and a reconcile between them must not lose the failure.
	scanFailed bool
	scanMsg    string
}

// Run runs the discoverer until ctx is cancelled, restarting it when
// Update changes its config. When the cluster shares discovery it runs
// the discoverer only while this node serves the list or no peer can
// (see share.go), and follows the serving peer otherwise.
func (c *Component) Run(ctx context.Context) error {
	if err := c.refresh.Register(); err != nil {
		c.opts.Logger.Warn("registering refresh metrics", "err", err)
	}
	defer c.refresh.Unregister()

	var r *run
	defer func() {
		if r != nil {
			r.stop(c.mech.StopWait)
		}
	}()

	publish := newTimer()
	settle := newTimer()
	var poll <-chan time.Time
	if c.mech.polls() {
		t := time.NewTicker(c.mech.PollInterval)
		defer t.Stop()
		poll = t.C
	}

	start := func() {
		c.mu.Lock()
		inst := c.pending
		c.pending = nil
		c.mu.Unlock()
		if inst == nil {
			return
		}
		if r != nil {
			r.stop(c.mech.StopWait)
		}
		r = c.start(ctx, inst)
		publish.stop()
		settle.stop()
		if !r.refreshBased() && c.mech.settles() {
			settle.reset(c.mech.SettleTimeout)
		}
	}
	// startLocal starts the discoverer if it is not running, building a
	// fresh instance when the last one was stopped.
	startLocal := func() {
		if r != nil {
			return
		}
		c.mu.Lock()
		if c.pending == nil {
			inst, err := c.build(c.cfg)
			if err != nil {
				c.mu.Unlock()
				c.opts.Logger.Error("restarting the discoverer", "err", err)
				return
			}
			c.pending = inst
		}
		c.mu.Unlock()
		start()
		if c.shareM != nil {
			c.shareM.local.Set(1)
		}
	}
	stopLocal := func() {
		if r == nil {
			return
		}
		r.stop(c.mech.StopWait)
		r = nil
		publish.stop()
		settle.stop()
		c.shareM.local.Set(0)
	}

	// Sharing state: fol is the running fetch loop, if any.
	var (
		shareTick <-chan time.Time
		fol       *follower
		fetched   = make(chan fetchResult)
		retryAt   time.Time
		lastErr   string
	)
	stopFollowing := func() {
		if fol != nil {
			fol.cancel()
			fol = nil
		}
	}
	defer stopFollowing()
	checkShare := func() {
		server, self := c.share.DiscoveryServer(c.opts.ID)
		if self {
			c.shareM.server.Set(1)
		} else {
			c.shareM.server.Set(0)
		}
		if server == "" || self {
			stopFollowing()
			startLocal()
			return
		}
		if fol != nil && fol.node != server {
			stopFollowing()
		}
		if fol == nil && !time.Now().Before(retryAt) {
			c.mu.Lock()
			hash := c.hash
			c.mu.Unlock()
			fctx, cancel := context.WithCancel(ctx)
			fol = &follower{node: server, cancel: cancel}
			go c.follow(fctx, fol, hash, fetched)
		}
	}
	if c.share != nil {
		t := time.NewTicker(shareCheck)
		defer t.Stop()
		shareTick = t.C
		defer c.share.PublishDiscovery(c.opts.ID, nil)
		checkShare()
		if fol == nil {
			startLocal()
		}
	} else {
		start()
	}

	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.restart:
			if c.share == nil {
				start()
				break
			}
			if r != nil {
				start()
			} else {
				// Following: the instance is built again if it is
				// needed.
				c.mu.Lock()
				c.pending = nil
				c.mu.Unlock()
			}
			// The server is asked at once for the new config's list.
			stopFollowing()
			retryAt = time.Time{}
			checkShare()
		case <-shareTick:
			checkShare()
		case res := <-fetched:
			if res.f != fol {
				break // from a follower already stopped
			}
			if res.err != nil {
				fol = nil
				c.shareM.fallbacks.Inc()
				wait := shareRetry
				if errors.Is(res.err, component.ErrShareConfigDiffers) {
					wait = shareRetryRefused
				}
				retryAt = time.Now().Add(wait)
				if msg := res.err.Error(); msg != lastErr {
					lastErr = msg
					c.opts.Logger.Warn("the serving peer's list cannot be used; running the discoverer here", "peer", res.f.node, "err", res.err)
				}
				startLocal()
				break
			}
			lastErr = ""
			c.adopt(res.l, res.ts)
			if _, self := c.share.DiscoveryServer(c.opts.ID); !self {
				stopLocal()
			}
		case groups := <-r.upCh():
			if r.refreshBased() {
				c.reconcile(r)
			}
			r.apply(groups)
			switch {
			case r.waiting > 0:
				// The groups of a refresh that finished without failing.
				r.waiting--
				c.complete(r, false, "")
			case r.first:
				publish.arm(publishDelay)
			case !r.refreshBased() && c.mech.settles():
				settle.reset(c.mech.SettleQuiet)
			}
			if c.mech.settles() && !r.refreshBased() && r.first {
				c.setHealthy(r)
			}
		case <-r.notifyCh():
			c.reconcile(r)
		case <-poll:
			if r != nil && !r.refreshBased() {
				// Refresh-based discoverers report through the probe.
				c.reconcile(r)
			}
		case <-publish.c():
			publish.fired()
			if r != nil {
				c.publish(r)
			}
		case <-settle.c():
			settle.fired()
			if r != nil && !r.first {
				// Failures seen while settling (an unreachable API
				// server) keep the component unhealthy.
				failed := !r.healthyAt.IsZero()
				c.complete(r, failed, c.CurrentHealth().Message)
			}
		}
	}
}

// upCh is the run's channel of updates; nil (never ready) without a run.
func (r *run) upCh() <-chan []*targetgroup.Group {
	if r == nil {
		return nil
	}
	return r.up
}

// notifyCh is the run's probe notifications; nil without a run.
func (r *run) notifyCh() <-chan struct{} {
	if r == nil {
		return nil
	}
	return r.probe.notify
}

func (r *run) refreshBased() bool {
	r.probe.mu.Lock()
	defer r.probe.mu.Unlock()
	return r.probe.st.refreshBased
}

func (c *Component) start(ctx context.Context, inst *instance) *run {
	if err := inst.metrics.Register(); err != nil {
		c.opts.Logger.Warn("registering discovery metrics", "err", err)
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &run{
		instance: inst,
		cancel:   cancel,
		done:     make(chan struct{}),
		up:       make(chan []*targetgroup.Group),
		groups:   make(map[string]*targetgroup.Group),
		started:  time.Now(),
	}
	r.seen = inst.probe.state(c.mech)
	go func() {
		defer close(r.done)
		r.disc.Run(rctx, r.up)
	}()
	c.opts.Logger.Debug("discovery started", "mechanism", inst.cfg.Name())
	return r
}

// stop cancels the discoverer and waits for it, at most wait if wait is
// positive. Its sends are not read any more; every prometheus discoverer
// gives up a send on cancellation.
func (r *run) stop(wait time.Duration) {
	r.cancel()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
		}
	} else {
		<-r.done
	}
	r.metrics.Unregister()
}

func (r *run) apply(groups []*targetgroup.Group) {
	for _, g := range groups {
		if g == nil {
			continue
		}
		if len(g.Targets) == 0 {
			delete(r.groups, g.Source)
		} else {
			r.groups[g.Source] = g
		}
	}
	r.updates++
	r.dirty = true
}

// reconcile compares what the probe has seen with the last time and acts
// on refreshes that finished or failed since.
func (c *Component) reconcile(r *run) {
	st := r.probe.state(c.mech)
	prev := r.seen
	r.seen = st
	failed := st.failures > prev.failures || st.counted > prev.counted
	msg := "refresh failed"
	if st.errors > prev.errors {
		msg = st.lastError
	}

	switch {
	case st.refreshBased:
		done := st.refreshes - prev.refreshes
		if failed {
			r.scanFailed, r.scanMsg = true, msg
		}
		if done == 0 {
			break
		}
		if failed = r.scanFailed; failed {
			msg = r.scanMsg
			r.scanFailed, r.scanMsg = false, ""
			// A failed refresh sends nothing (http) or a partial result
			// (dns, which then arrives as an ordinary update): either way
			// this refresh is over.
			done--
			c.complete(r, true, msg)
		}
		r.waiting += done
	case c.mech.ScanMetric != "":
		if failed {
			r.scanFailed, r.scanMsg = true, msg
		}
		if st.scans > prev.scans {
			// All groups of the scan were received before it was observed.
			c.complete(r, r.scanFailed, r.scanMsg)
			r.scanFailed, r.scanMsg = false, ""
		}
	default:
		now := time.Now()
		if failed {
			r.healthyAt = now.Add(failureMemory)
			c.setHealth(component.HealthUnhealthy, msg)
		} else if !r.healthyAt.IsZero() && now.After(r.healthyAt) {
			c.setHealthy(r)
		}
	}

	// Error logs may follow the failure they describe (the refresh package
	// logs after counting): keep the message current while unhealthy.
	if st.errors > prev.errors {
		c.mu.Lock()
		if c.health.State == component.HealthUnhealthy {
			c.health.Message = st.lastError
		}
		c.mu.Unlock()
	}
}

// complete marks the end of a refresh: its result is exported, the
// component is ready, and healthy unless the refresh failed.
func (c *Component) complete(r *run, failed bool, msg string) {
	r.first = true
	c.publish(r)
	if failed {
		c.setHealth(component.HealthUnhealthy, msg)
	} else {
		c.setHealthy(r)
	}
	if !c.ready.Load() {
		c.ready.Store(true)
		c.opts.Logger.Debug("discovery ready", "targets", len(c.Targets()))
	}
}

func (c *Component) setHealthy(r *run) {
	r.healthyAt = time.Time{}
	c.setHealth(component.HealthHealthy, "")
}

func (c *Component) setHealth(s component.HealthState, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.health.State == s && c.health.Message == msg {
		return
	}
	c.health = component.Health{State: s, Message: msg, Updated: time.Now()}
}

// publish exports the run's targets if they changed. Nothing is exported
// before the run's first refresh is complete, so that a restarted
// discoverer does not flash an empty list (which would make every
// downstream scrape write staleness markers).
func (c *Component) publish(r *run) {
	if !r.first {
		return
	}
	r.dirty = false
	ts := targetsFromGroups(r.groups)
	c.mu.Lock()
	if c.everSent && sameTargets(ts, c.published) {
		if c.share != nil && c.sharedHash != c.hash {
			// The config changed but not the list: serve it under the
			// new config's hash, or peers with the new config refuse it.
			c.shareLocalLocked()
		}
		c.mu.Unlock()
		return
	}
	c.published, c.everSent = ts, true
	c.shareLocalLocked()
	c.mu.Unlock()
	c.opts.LiveDebug.PublishTargets(len(ts), func(i int) string { return ts[i].Labels().String() })
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(Exports{Targets: ts})
	}
}

// timer is a one-shot timer usable in a select: c is nil while unarmed.
type timer struct {
	t     *time.Timer
	armed bool
}

func newTimer() *timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timer{t: t}
}

func (t *timer) c() <-chan time.Time {
	if !t.armed {
		return nil
	}
	return t.t.C
}

// arm starts the timer unless it is already running.
func (t *timer) arm(d time.Duration) {
	if !t.armed {
		t.reset(d)
	}
}

// reset (re)starts the timer.
func (t *timer) reset(d time.Duration) {
	t.t.Reset(d)
	t.armed = true
}

func (t *timer) stop() {
	t.t.Stop()
	t.armed = false
}

func (t *timer) fired() { t.armed = false }

// TargetLines renders targets as live debugging shows them, one label set
// a line.
func TargetLines(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = "target: " + t.Labels().String()
	}
	return out
}
