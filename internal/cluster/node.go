package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-dev/shoal/internal/component"
)

// Options are what a Node needs besides its Config.
type Options struct {
	// ListenAddr is the HTTP server's listen address
	// (--server.http.listen-addr). Gossip shares it: the advertise address
	// and the default join port derive from it.
	ListenAddr string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the cluster metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Resolver resolves join and advertise addresses; nil is
	// net.DefaultResolver.
	Resolver Resolver
	// Now is the wall clock; nil is time.Now. Tests skew it.
	Now func() time.Time
	// DataDir is --storage.path: the node remembers the peers it has seen
	// in DataDir/cluster/peers.json (see memory.go). Empty keeps nothing.
	DataDir string
}

// Node is this process's membership in the fleet: it gossips its record,
// tracks its peers' records, and answers who owns which target at which
// tick. It implements component.Cluster. Run owns every goroutine.
type Node struct {
	cfg       Config
	enabled   bool
	name      string
	log       *slog.Logger
	now       func() time.Time
	delta     int64 // Δ in ms
	res       Resolver
	advertise netip.AddrPort
	metrics   *metrics
	memory    *peerMemory
	transport *transport
	handler   http.Handler
	// ident signs this node's record and verifies its peers' (nil: no
	// TLS with a CA, so records are not signed); gossipKeys encrypt
	// gossip (--cluster.gossip-key-file). See identity.go.
	ident      *identity
	gossipKeys [][]byte
	// credFetch queues the addresses of nodes whose record was refused
	// because their credential is not known yet (see credLoop).
	credFetch chan string
	refuseLog refuseLog

	view   atomic.Pointer[view]
	tables atomic.Pointer[map[string]*Ownership]

	// rebuildMu serialises view rebuilds, which read mu-guarded state and
	// publish the view.
	rebuildMu sync.Mutex

	mu             sync.Mutex
	ml             *memberlist.Memberlist
	local          record
	readyRequested bool
	bootstrapped   bool
	// viewerReason says why a node asked to participate is still a
	// viewer (or stepped back); skewOut is true while it is out because
	// its clock disagrees with the fleet's; clockWaitFrom is when it
	// started waiting for its peers' clocks to be measured.
	viewerReason  string
	skewOut       bool
	clockWaitFrom time.Time
	// leaving: Leave was called; the node never participates again.
	leaving        bool
	peers          map[string]*peer
	targets        map[string][]uint64
	trackers       map[string]component.Delivery
	holds          map[holdKey]*hold
	lastLoss       int64 // start of the last epoch in which this node lost keys
	lastMetaWM     time.Time
	belowSince     time.Time
	selfConflictAt time.Time
	// lastResolveErr is the last join-address resolution error logged at
	// warning level; only the join loop touches it.
	lastResolveErr string
	changeDue      bool
	lastChange     time.Time
	tablesEpoch    int64
	// announcePending: the state changed and the record should be sent
	// to every peer directly, not only gossiped.
	announcePending bool
	crashed         bool
	// memoryErrLogged: a failure to save the peer memory was logged.
	memoryErrLogged bool
	// place is placement by load (placement_node.go).
	place placementState

	// replicas: components with a hot standby (standby.go).
	replicas replicated

	recompute   chan struct{}
	metaPush    chan struct{}
	refuted     chan struct{}
	wake        chan struct{}
	tablesDirty chan struct{}
	changes     chan struct{}
	// clockReplies are answers to peers' clock probes, sent by the main
	// loop.
	clockReplies chan clockReply

	// shares are the discovery lists this node serves (discoshare.go).
	shares shares

	stopOnce sync.Once
	stop     chan struct{}
	started  atomic.Bool
	done     chan struct{}
}

var _ component.Cluster = (*Node)(nil)

// New builds a node from cfg. With cfg.Enabled false it behaves like
// component.Alone, and Peers lists only itself.
func New(cfg Config, opts Options) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	n := &Node{
		cfg:          cfg,
		enabled:      cfg.Enabled,
		name:         cfg.NodeName,
		log:          opts.Logger.With("component", "cluster"),
		now:          opts.Now,
		delta:        cfg.HandoffDelay.Milliseconds(),
		res:          opts.Resolver,
		metrics:      newMetrics(cfg.Name),
		peers:        make(map[string]*peer),
		targets:      make(map[string][]uint64),
		trackers:     make(map[string]component.Delivery),
		holds:        make(map[holdKey]*hold),
		recompute:    make(chan struct{}, 1),
		metaPush:     make(chan struct{}, 1),
		refuted:      make(chan struct{}, 1),
		wake:         make(chan struct{}, 1),
		tablesDirty:  make(chan struct{}, 1),
		changes:      make(chan struct{}, 1),
		clockReplies: make(chan clockReply, 64),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}
	n.local = record{State: Viewer, Since: n.nowMs(), HandoffDelay: n.delta}
	n.place.obs = make(map[uint64]loadObs)
	n.place.reports = make(map[string]*loadReport)
	n.memory = newPeerMemory(opts.DataDir, cfg.Name, cfg.NodeName)
	empty := map[string]*Ownership{}
	n.tables.Store(&empty)
	if !n.enabled {
		// Alone, the node is the only eligible one at every tick.
		n.view.Store(buildView(n.name, []candidate{{name: n.name, from: minTime, until: maxTime}}))
		n.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "clustering is disabled", http.StatusNotFound)
		})
		return n, nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adv, err := advertiseAddress(ctx, &cfg, opts.ListenAddr, n.res, n.log)
	if err != nil {
		return nil, err
	}
	n.advertise = adv
	if err := n.memory.load(); err != nil {
		n.log.Warn("cannot read the remembered peers; starting without them", "err", err)
	}
	var clientTLS *tls.Config
	if cfg.EnableTLS {
		if clientTLS, err = ClientTLS(cfg); err != nil {
			return nil, err
		}
	}
	if n.ident, err = newIdentity(cfg, n.now); err != nil {
		return nil, err
	}
	if cfg.GossipKeyFile != "" {
		if n.gossipKeys, err = loadGossipKeys(cfg.GossipKeyFile); err != nil {
			return nil, err
		}
	}
	n.credFetch = make(chan string, 16)
	n.transport = newTransport(n.log, n.metrics, adv, clientTLS, cfg.EnableTLS && cfg.TLSCAPath != "")
	n.transport.onRefused = n.peerRefused
	if n.ident != nil {
		n.transport.credential = n.ident.cred6
		n.transport.onCredential = n.addCredential
	}
	n.handler = n.withShare(n.transport)
	n.metrics.minimumSize.Set(float64(cfg.WaitForSize))
	n.metrics.addFuncs(cfg.Name, n.healthScore, n.aliveCount, func() float64 { return float64(len(n.transport.packetCh)) })
	if opts.Registerer != nil {
		if err := n.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("registering cluster metrics: %w", err)
		}
	}
	n.rebuild()
	return n, nil
}

// Name is this node's name.
func (n *Node) Name() string { return n.name }

// AdvertiseAddr is the host:port peers reach this node at ("" when
// clustering is disabled).
func (n *Node) AdvertiseAddr() string {
	if !n.enabled {
		return ""
	}
	return n.advertise.String()
}

// Handler serves the gossip routes under TransportPathPrefix. The web
// server mounts it; with clustering disabled it answers 404.
func (n *Node) Handler() http.Handler { return n.handler }

func (n *Node) nowMs() int64 { return n.now().UnixMilli() }

// memberlistConfig maps the Config onto memberlist's. The values not
// taken from flags are chosen for a LAN over HTTP/2; each says why.
func (n *Node) memberlistConfig() *memberlist.Config {
	mc := memberlist.DefaultLANConfig()
	mc.Name = n.name
	mc.Transport = n.transport
	mc.AdvertiseAddr = n.advertise.Addr().String()
	mc.AdvertisePort = int(n.advertise.Port())
	mc.BindAddr = mc.AdvertiseAddr
	mc.BindPort = mc.AdvertisePort
	mc.Label = n.cfg.Name
	mc.ProbeInterval = n.cfg.ProbeInterval
	mc.ProbeTimeout = n.cfg.ProbeTimeout
	mc.SuspicionMult = n.cfg.SuspicionMult
	// With SuspicionMult ≥ 3 memberlist waits for confirmations and starts
	// the timer at max; keep max close to min so a crash is still
	// declared within seconds.
	mc.SuspicionMaxTimeoutMult = 3
	// Packets travel over HTTP/2, which is already reliable: a failed
	// probe means the peer (or its network) failed, and a fallback stream
	// "TCP ping" would only add load.
	mc.DisableTcpPings = true
	// Gossip faster than memberlist's LAN default so that a state change
	// reaches 100 nodes well within Δ (see docs/clustering.md).
	mc.GossipInterval = 100 * time.Millisecond
	mc.GossipNodes = 4
	mc.GossipToTheDeadTime = 15 * time.Second
	mc.PushPullInterval = 15 * time.Second
	mc.TCPTimeout = 5 * time.Second
	mc.UDPBufferSize = packetBufferSize
	// A node restarted at a new address may take its name back once its
	// old address has been declared dead.
	mc.DeadNodeReclaimTime = time.Second
	if len(n.gossipKeys) > 0 {
		// Memberlist encrypts and authenticates every packet and stream
		// with the first key and accepts any of them.
		kr, err := memberlist.NewKeyring(n.gossipKeys, n.gossipKeys[0])
		if err == nil {
			mc.Keyring = kr
			mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
		} else {
			n.log.Error("gossip keys not usable; gossip is not encrypted", "err", err)
		}
	}
	d := &delegate{n: n}
	mc.Delegate = d
	mc.Events = d
	mc.Conflict = d
	mc.Ping = d
	mc.Alive = d
	mc.LogOutput = nil
	mc.Logger = log.New(&memberlistLog{n: n}, "", 0)
	return mc
}

// Run joins the fleet and keeps this node's view of it current until ctx
// is cancelled or Stop is called. It leaves the fleet on the way out.
func (n *Node) Run(ctx context.Context) error {
	if !n.started.CompareAndSwap(false, true) {
		return errors.New("cluster: Run called twice")
	}
	defer close(n.done)
	if !n.enabled {
		select {
		case <-ctx.Done():
		case <-n.stop:
		}
		return nil
	}
	ml, err := memberlist.Create(n.memberlistConfig())
	if err != nil {
		return fmt.Errorf("starting gossip on %s: %w", n.advertise, err)
	}
	n.mu.Lock()
	n.ml = ml
	n.mu.Unlock()
	n.log.Info("gossip started", "name", n.name, "advertise", n.advertise.String(), "cluster_name", n.cfg.Name)

	inner, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, f := range []func(context.Context){n.joinLoop, n.metaLoop, n.mainLoop, n.tablesLoop, n.credLoop, n.memoryLoop, n.clockReplyLoop, n.placementLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(inner)
		}()
	}
	select {
	case <-ctx.Done():
	case <-n.stop:
	}
	cancel()
	wg.Wait()

	n.mu.Lock()
	crashed := n.crashed
	n.mu.Unlock()
	if !crashed {
		// The peers alive now are the ones to look for at the next start.
		n.rememberPeers(true)
		if err := ml.Leave(2 * time.Second); err != nil {
			n.log.Debug("leave broadcast not confirmed", "err", err)
		}
	}
	if err := ml.Shutdown(); err != nil {
		n.log.Warn("gossip shutdown", "err", err)
	}
	n.holdsShutdown()
	return nil
}

// Stop leaves the fleet (memberlist Leave, then Shutdown) and waits for Run
// to return. Call Leave first for a handoff without gaps.
func (n *Node) Stop() {
	n.stopOnce.Do(func() { close(n.stop) })
	if n.started.Load() {
		<-n.done
	}
}

// halt stops without telling anyone, as a crash would. For tests.
func (n *Node) halt() {
	n.mu.Lock()
	n.crashed = true
	n.mu.Unlock()
	n.Stop()
}

// memberlistNow returns the running memberlist, or nil.
func (n *Node) memberlistNow() *memberlist.Memberlist {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ml
}

func (n *Node) healthScore() float64 {
	if ml := n.memberlistNow(); ml != nil {
		return float64(ml.GetHealthScore())
	}
	return 0
}

func (n *Node) aliveCount() float64 {
	if ml := n.memberlistNow(); ml != nil {
		return float64(ml.NumMembers())
	}
	return 1
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// SetReady tells the node that its configuration is loaded and every
// discovery component has finished its first refresh. The node becomes a
// participant as soon as bootstrap has completed and its peers' clocks
// agree with its own within Δ/4.
func (n *Node) SetReady() {
	n.mu.Lock()
	n.readyRequested = true
	n.mu.Unlock()
	if !n.enabled {
		return
	}
	signal(n.wake)
}

// tryParticipate moves a viewer that was asked to participate into
// participant once it may.
func (n *Node) tryParticipate() {
	now := n.now()
	n.mu.Lock()
	if !n.readyRequested || n.local.State != Viewer || !n.bootstrapped || n.leaving {
		n.mu.Unlock()
		return
	}
	ok, reason, measuring := n.clockVerdictLocked(now, false)
	if !ok {
		if reason != n.viewerReason {
			if measuring {
				n.log.Debug("staying a viewer until the peers' clocks are measured", "reason", reason)
			} else {
				n.log.Warn("staying a viewer: this node's clock is too far off the fleet's", "reason", reason)
			}
			n.viewerReason = reason
		}
		if !measuring {
			n.skewOut = true
			n.metrics.skewExcluded.Set(1)
		}
		n.mu.Unlock()
		return
	}
	if n.skewOut {
		n.log.Info("this node's clock agrees with the fleet's again; participating")
	}
	n.viewerReason, n.skewOut, n.clockWaitFrom = "", false, time.Time{}
	n.metrics.skewExcluded.Set(0)
	n.local.State = Participant
	n.local.Since = n.nextSinceLocked(n.nowMs())
	n.local.Joined = 0
	n.local.Prev = 0
	since := n.local.Since
	n.mu.Unlock()
	n.log.Info("participating", "since", time.UnixMilli(since).UTC(), "owns_from", time.UnixMilli(since+n.delta).UTC())
	n.stateChanged()
}

// nextSinceLocked is the since of a new state entered at now: now, or
// just after the current since if the clock went back (a clock that had
// run ahead and was stepped back). Peers keep the record with the later
// since, so a since must never go backwards.
func (n *Node) nextSinceLocked(now int64) int64 {
	return max(now, n.local.Since+1)
}

// stateChanged publishes a change of this node's own record.
func (n *Node) stateChanged() {
	n.rebuild()
	n.mu.Lock()
	n.announcePending = true
	n.mu.Unlock()
	signal(n.metaPush)
	n.updateInfoMetric()
}

func (n *Node) updateInfoMetric() {
	n.mu.Lock()
	st := n.local.State
	n.mu.Unlock()
	for i, s := range stateNames {
		v := 0.0
		if State(i) == st {
			v = 1
		}
		n.metrics.nodeInfo.WithLabelValues(s).Set(v)
	}
}

// Leave starts a graceful departure: the node enters terminating at s and
// returns at s+Δ, having owned its share of every tick before s+Δ. The
// caller then flushes its queues and calls Stop.
func (n *Node) Leave(ctx context.Context) error {
	if !n.enabled {
		return nil
	}
	n.mu.Lock()
	n.leaving = true
	if n.local.State != Terminating {
		joined := int64(0)
		if n.local.State == Participant {
			joined = n.local.Since
			if n.local.Prev != 0 && n.nowMs() < n.local.Since+n.delta {
				joined = n.local.Prev // still in a re-entry's fallback window
			}
		}
		n.local.Prev = 0
		n.local.State, n.local.Since, n.local.Joined = Terminating, n.nextSinceLocked(n.nowMs()), joined
		since := n.local.Since
		n.mu.Unlock()
		n.log.Info("terminating", "owns_until", time.UnixMilli(since+n.delta).UTC())
		n.stateChanged()
		n.mu.Lock()
	}
	until := n.local.Since + n.delta
	owned := n.local.Joined != 0
	n.mu.Unlock()
	if !owned {
		return nil
	}
	wait := time.Duration(until-n.nowMs()) * time.Millisecond
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// onRefuted handles this node learning that peers had declared it dead:
// they have taken its targets, so it stops owning them and comes back as a
// participant with a new since, like a joining node.
func (n *Node) onRefuted() {
	n.mu.Lock()
	if n.local.State != Participant {
		n.mu.Unlock()
		return
	}
	now := n.nowMs()
	if n.local.Prev == 0 || now >= n.local.Since+n.delta {
		n.local.Prev = n.local.Since
	}
	n.local.Since = n.nextSinceLocked(now)
	since := n.local.Since
	// Its targets go now, not on an agreed tick: gossip its watermark at
	// full rate for a while, as after a loss, for the next owners' holds.
	n.lastLoss = now
	n.mu.Unlock()
	n.metrics.refutations.Inc()
	n.log.Warn("peers had declared this node dead; re-entering participant", "owns_from", time.UnixMilli(since+n.delta).UTC())
	n.stateChanged()
}

// metaLoop pushes this node's record to gossip whenever it changes, at
// most every metaMinInterval.
func (n *Node) metaLoop(ctx context.Context) {
	const metaMinInterval = 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.metaPush:
		}
		if ml := n.memberlistNow(); ml != nil {
			n.announce(ml)
			if err := ml.UpdateNode(2 * time.Second); err != nil {
				n.log.Debug("record update not confirmed by a peer", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(metaMinInterval):
		}
	}
}

// mainLoop keeps the view current: it rebuilds it when records change,
// acts at epoch boundaries (flushing deliveries when this node loses
// targets) and does the periodic work (watermark, holds, readiness).
func (n *Node) mainLoop(ctx context.Context) {
	const period = 250 * time.Millisecond
	tick := time.NewTicker(period)
	defer tick.Stop()
	boundary := time.NewTimer(time.Hour)
	defer boundary.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.recompute:
			n.rebuild()
		case <-n.refuted:
			n.onRefuted()
		case <-n.wake:
		case <-tick.C:
			n.periodic()
		case <-boundary.C:
			n.onBoundary()
		}
		n.tryParticipate()
		n.sendClockProbes()
		n.sendDeathNotices()
		n.sendChanges(false)
		now := n.nowMs()
		next := n.view.Load().nextBoundary(now)
		d := time.Hour
		if next != maxTime && time.Duration(next-now)*time.Millisecond < d {
			d = time.Duration(next-now) * time.Millisecond
		}
		boundary.Reset(max(d, time.Millisecond))
	}
}

// sendChanges delivers a coalesced notification on Changes, at most every
// changesMinInterval unless forced.
func (n *Node) sendChanges(force bool) {
	const changesMinInterval = 100 * time.Millisecond
	n.mu.Lock()
	due := n.changeDue && (force || time.Since(n.lastChange) >= changesMinInterval)
	if due {
		n.changeDue = false
		n.lastChange = time.Now()
	}
	n.mu.Unlock()
	if due {
		signal(n.changes)
	}
}

func (n *Node) markChanged() {
	n.mu.Lock()
	n.changeDue = true
	n.mu.Unlock()
}

// onBoundary runs when an epoch starts: ownership moves now.
func (n *Node) onBoundary() {
	now := n.nowMs()
	v := n.view.Load()
	i := v.index(now)
	if v.losesAt(i) {
		n.mu.Lock()
		n.lastLoss = v.epochs[i].start
		n.mu.Unlock()
		n.flushDeliveries()
	}
	n.markChanged()
	n.sendChanges(true)
	signal(n.tablesDirty)
}

// rebuild recomputes the eligibility view from the current records and
// publishes it.
func (n *Node) rebuild() {
	n.rebuildMu.Lock()
	defer n.rebuildMu.Unlock()
	now := n.now()
	n.mu.Lock()
	var cands []candidate
	if c, ok := candidateOf(n.name, n.local, n.delta); ok {
		cands = append(cands, c)
	}
	byState := map[State]int{n.local.State: 1}
	for _, p := range n.peers {
		if !p.alive {
			continue
		}
		byState[p.rec.State]++
		if p.suppressed(now, n.delta) || p.refused {
			continue
		}
		if c, ok := candidateOf(p.name, p.rec, n.delta); ok {
			cands = append(cands, c)
		}
	}
	plans := n.plansForViewLocked()
	n.mu.Unlock()
	v := buildView(n.name, cands, plans...)
	old := n.view.Swap(v)
	if old == nil || !sameView(old, v) {
		n.log.Info("eligible nodes changed", "view", describeView(v, now.UnixMilli()))
		n.markChanged()
		signal(n.tablesDirty)
	}
	for i, s := range stateNames {
		n.metrics.nodePeers.WithLabelValues(s).Set(float64(byState[State(i)]))
	}
}

// candidateOf gives a node's eligibility intervals, if it has any.
func candidateOf(name string, r record, delta int64) (candidate, bool) {
	from, until, ok := eligibility(r, delta)
	fbFrom, fbUntil, fb := fallbackEligibility(r, delta)
	if !ok && !fb {
		return candidate{}, false
	}
	c := candidate{name: name, from: maxTime, until: maxTime}
	if ok {
		c.from, c.until = from, until
	}
	if fb {
		c.fbFrom, c.fbUntil = fbFrom, fbUntil
	}
	return c, true
}

func sameView(a, b *view) bool {
	if len(a.epochs) != len(b.epochs) {
		return false
	}
	for i := range a.epochs {
		if a.epochs[i].start != b.epochs[i].start || !slices.Equal(a.epochs[i].names, b.epochs[i].names) ||
			a.epochs[i].planOf() != b.epochs[i].planOf() {
			return false
		}
	}
	return true
}

// periodic is the main loop's timed work.
func (n *Node) periodic() {
	now := n.now()
	n.checkClock()
	n.refreshWatermark(now)
	n.expireHolds(now)
	n.mu.Lock()
	expired := false
	for name, p := range n.peers {
		if p.revived && !p.suppressed(now, n.delta) {
			p.revived = false
			expired = true
		}
		if !p.alive && now.Sub(p.leftAt) > deadPeerMemory {
			delete(n.peers, name)
		}
	}
	tablesStale := n.view.Load().at(now.UnixMilli()).start != n.tablesEpoch
	n.mu.Unlock()
	if expired {
		n.rebuild()
	}
	if n.enabled {
		// See "Delivery delay" in handoff.go.
		n.flushDeliveries()
	}
	if tablesStale {
		signal(n.tablesDirty)
	}
	ready := 0.0
	if n.Ready() {
		ready = 1
	}
	n.metrics.ready.Set(ready)
}

// deadPeerMemory is how long a dead or departed peer stays listed (as not
// alive) and remembered, so that its return is seen as a revival.
const deadPeerMemory = 10 * time.Minute

// tablesLoop recomputes the ownership tables when the view or the target
// sets change.
func (n *Node) tablesLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.tablesDirty:
		}
		n.computeTables()
	}
}

func (n *Node) computeTables() {
	now := n.nowMs()
	e := n.view.Load().at(now)
	n.mu.Lock()
	comps := make(map[string][]uint64, len(n.targets))
	for id, keys := range n.targets {
		comps[id] = keys
	}
	n.tablesEpoch = e.start
	n.mu.Unlock()
	out := make(map[string]*Ownership, len(comps))
	for id, keys := range comps {
		o := computeOwnership(e, keys)
		out[id] = o
		n.metrics.targetsOwned.WithLabelValues(id).Set(float64(o.Count(n.name)))
	}
	old := n.tables.Swap(&out)
	for id := range *old {
		if _, ok := out[id]; !ok {
			n.metrics.targetsOwned.DeleteLabelValues(id)
		}
	}
}

// Enabled reports whether clustering is on.
func (n *Node) Enabled() bool { return n.enabled }

// Owns reports whether this node scrapes the target with key at tick t.
// It takes no lock.
func (n *Node) Owns(key uint64, t int64) bool {
	if !n.enabled {
		return true
	}
	e := n.view.Load().at(t)
	return e.self >= 0 && e.owner(key) == e.self
}

// OwnerOf names the node that owns key at tick t, "" when none is
// eligible.
func (n *Node) OwnerOf(key uint64, t int64) string {
	if !n.enabled {
		return n.name
	}
	return n.view.Load().at(t).ownerName(key)
}

// NextChange returns the first tick after t at which the eligible set
// changes, as far as this node knows now, or math.MaxInt64. A scheduler
// can use it to wake exactly when ownership may move.
func (n *Node) NextChange(t int64) int64 {
	if !n.enabled {
		return maxTime
	}
	return n.view.Load().nextBoundary(t)
}

// Changes returns a channel that receives a value, coalesced and at most
// every 100ms, whenever ownership may have changed: a record changed, a
// node died, or an epoch began. It is nil when clustering is disabled.
func (n *Node) Changes() <-chan struct{} {
	if !n.enabled {
		return nil
	}
	return n.changes
}

// SetTargets publishes the keys of a clustered component's targets: their
// digest travels in gossip, and the ownership table for the component is
// recomputed. A nil slice withdraws the component.
func (n *Node) SetTargets(componentID string, keys []uint64) {
	var sorted []uint64
	if keys != nil {
		sorted = slices.Clone(keys)
		slices.Sort(sorted)
		sorted = slices.Compact(sorted)
	}
	d := targetDigest{ID: componentHash(componentID), Digest: digestKeys(sorted), Count: uint64(len(sorted))}
	n.mu.Lock()
	if keys == nil {
		delete(n.targets, componentID)
	} else {
		n.targets[componentID] = sorted
	}
	n.local.Targets = setTargetDigest(n.local.Targets, d, keys == nil)
	n.reevaluateDriftLocked()
	n.mu.Unlock()
	if n.enabled {
		signal(n.metaPush)
		signal(n.tablesDirty)
	} else {
		n.computeTables()
	}
}

// OwnershipTable returns the owner of each known target key of a
// component, for the current epoch, or nil for an unknown component.
func (n *Node) OwnershipTable(componentID string) *Ownership {
	return (*n.tables.Load())[componentID]
}

// SetConfigFingerprint publishes the loaded configuration's fingerprint.
// Peers with a different one are counted in shoal_cluster_config_drift
// and logged.
func (n *Node) SetConfigFingerprint(fp string) {
	if len(fp) > maxFingerprint {
		fp = fp[:maxFingerprint]
	}
	n.mu.Lock()
	n.local.Fingerprint = fp
	n.reevaluateDriftLocked()
	n.mu.Unlock()
	if n.enabled {
		signal(n.metaPush)
	}
}

// memberlistLog adapts memberlist's log lines to slog and watches for the
// one event memberlist reports no other way: that this node had been
// declared dead and refuted it.
type memberlistLog struct{ n *Node }

func (l *memberlistLog) Write(p []byte) (int, error) {
	line := string(p)
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	level := slog.LevelDebug
	switch {
	case strings.Contains(line, errTransportShutDown.Error()):
		// memberlist keeps gossiping for a moment while it shuts down.
	case strings.Contains(line, "ignoring alive message") && strings.Contains(line, recordRefused("").Error()):
		// Refused records are counted and logged by refuseRecord, at most
		// once a minute per peer and reason.
	case hasLevel(line, "[ERR]"), hasLevel(line, "[WARN]"):
		level = slog.LevelWarn
	case hasLevel(line, "[INFO]"):
		level = slog.LevelInfo
	}
	if declaredDead(line, l.n.name) {
		signal(l.n.refuted)
	}
	if kind := refutationKind(line); kind != "" {
		l.n.metrics.refuted.WithLabelValues(kind).Inc()
	}
	l.n.log.Log(context.Background(), level, "memberlist: "+stripLevel(line))
	return len(p), nil
}

var _ io.Writer = (*memberlistLog)(nil)
