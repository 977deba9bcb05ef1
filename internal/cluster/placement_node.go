package cluster

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// This file runs placement by load (placement.go) in a node: it measures,
// reports, plans and keeps the plans that the view splits its epochs at.

// Placement modes (--cluster.placement).
const (
	PlacementTargets = "targets"
	PlacementSeries  = "series"
)

// DefaultPlanInterval is the least time between two plans
// (--cluster.placement-interval) unless the eligible set changed.
const DefaultPlanInterval = 30 * time.Second

const (
	// reportRefresh: a report is re-sent this often even when unchanged,
	// so that a peer that missed it catches up without waiting for a
	// push/pull.
	reportRefresh = 60 * time.Second
	// reportMinInterval bounds how often a changed report is sent.
	reportMinInterval = 2 * time.Second
	// keptPlans is how many superseded plans a node keeps, for the
	// epochs behind now (handoff holds look back through them).
	keptPlans = 3
)

// loadObs is the last measurement of one target this node scraped.
type loadObs struct {
	series   uint32
	seen     time.Time
	interval time.Duration
}

// placementState is the node's placement bookkeeping, under its own lock
// (ObserveSeries is on every scrape's path and must not wait for n.mu).
type placementState struct {
	obsMu sync.Mutex
	obs   map[uint64]loadObs

	// Under Node.mu:
	reports    map[string]*loadReport // by node, this one included
	plans      []*plan                // ascending by newer()
	sent       *loadReport            // the last report sent
	sentAt     time.Time
	lastPlanAt time.Time
}

func (n *Node) placementOn() bool { return n.enabled && n.cfg.Placement == PlacementSeries }

// ObserveSeries records the series a scrape of the target with key
// produced (after relabeling); the scrape loop calls it for every
// scrape this node owns. It is cheap and takes no node-wide lock.
func (n *Node) ObserveSeries(key uint64, series int, interval time.Duration) {
	if !n.placementOn() {
		return
	}
	ps := &n.place
	ps.obsMu.Lock()
	ps.obs[key] = loadObs{series: uint32(min(max(series, 0), 1<<32-1)), seen: n.now(), interval: interval}
	ps.obsMu.Unlock()
}

// measured returns the loads of the targets scraped recently: within
// three intervals (a target that moved away drops out within them).
func (n *Node) measured(now time.Time) []loadEntry {
	ps := &n.place
	ps.obsMu.Lock()
	defer ps.obsMu.Unlock()
	out := make([]loadEntry, 0, len(ps.obs))
	for k, o := range ps.obs {
		if now.Sub(o.seen) > 3*o.interval+time.Second {
			delete(ps.obs, k)
			continue
		}
		out = append(out, loadEntry{k, o.series})
	}
	return out
}

// reportChanged reports whether r differs from the last report sent by
// more than the hysteresis: a named target appeared or left, or one's
// series, or the rest's sum, moved by more than reportSlack.
func reportChanged(old, r *loadReport) bool {
	if old == nil {
		return true
	}
	differs := func(a, b uint64) bool {
		d := float64(a) - float64(b)
		return abs(d) > reportSlack*float64(max(a, b, 1))
	}
	if old.count != r.count || differs(old.sum, r.sum) || len(old.top) != len(r.top) {
		return true
	}
	for i := range r.top {
		if old.top[i].key != r.top[i].key || differs(uint64(old.top[i].load), uint64(r.top[i].load)) {
			return true
		}
	}
	return false
}

// placementLoop measures and reports every second and, on the planner,
// plans.
func (n *Node) placementLoop(ctx context.Context) {
	if !n.placementOn() {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n.placementStep()
	}
}

func (n *Node) placementStep() {
	now := n.now()
	r := buildReport(n.name, now.UnixMilli(), n.measured(now))
	var msgs [][]byte
	n.mu.Lock()
	ps := &n.place
	if (reportChanged(ps.sent, r) && now.Sub(ps.sentAt) >= reportMinInterval) || now.Sub(ps.sentAt) >= reportRefresh {
		ps.sent, ps.sentAt = r, now
		ps.reports[n.name] = r
		msgs = append(msgs, r.encode())
	}
	participant := n.local.State == Participant
	n.mu.Unlock()

	if participant {
		if p := n.maybePlan(now); p != nil {
			msgs = append(msgs, p.encode())
		}
	}
	if len(msgs) > 0 {
		n.sendToPeers(msgs)
	}
}

// maybePlan makes a plan when this node is the planner and one is due.
// The planner is the eligible node with the smallest name among those
// that report (nodes with placement on); the plan takes effect Δ from
// now, like a join, so that every node has it before it governs.
//
// When the eligible set is about to change (a join or a leave at s+Δ)
// and that tick is at least Δ/2 away, the plan takes effect at that very
// tick, so the targets move once, not at the join and again at the plan.
func (n *Node) maybePlan(now time.Time) *plan {
	v := n.view.Load()
	at := now.UnixMilli() + n.delta
	if nb := v.nextBoundary(now.UnixMilli()); nb <= at && nb-now.UnixMilli() >= n.delta/2 &&
		!slices.Equal(v.at(nb).names, v.at(now.UnixMilli()).names) {
		at = nb
	}
	e := v.at(at)
	n.mu.Lock()
	defer n.mu.Unlock()
	ps := &n.place
	planner := ""
	var reports []*loadReport
	for _, name := range e.names {
		r := ps.reports[name]
		if r == nil {
			continue
		}
		if planner == "" {
			planner = name
		}
		reports = append(reports, r)
	}
	if planner != n.name {
		return nil
	}
	prev := n.planAtLocked(at)
	if prev == nil && now.UnixMilli()-n.local.Since < n.cfg.PlanInterval.Milliseconds() {
		// The first plan waits until every node has scraped its targets
		// for a while: early reports are incomplete.
		return nil
	}
	if len(ps.plans) > 0 && ps.plans[len(ps.plans)-1].at > now.UnixMilli() {
		return nil // one is pending
	}
	sameSet := prev != nil && slices.Equal(prev.names, e.names)
	if sameSet && now.Sub(ps.lastPlanAt) < n.cfg.PlanInterval {
		return nil
	}
	p := makePlan(planInput{planner: n.name, version: now.UnixMilli(), at: at, eligible: e.names, reports: reports, prev: prev})
	if p == nil {
		return nil
	}
	ps.lastPlanAt = now
	n.addPlanLocked(p)
	n.metrics.plans.Inc()
	n.log.Info("placement plan made", "at", time.UnixMilli(p.at).UTC(), "nodes", len(p.names), "pinned", len(p.pins))
	signal(n.recompute)
	return p
}

// planAtLocked returns the plan governing tick t, nil for none.
func (n *Node) planAtLocked(t int64) *plan {
	var out *plan
	for _, p := range n.place.plans {
		if p.at <= t {
			out = p
		}
	}
	return out
}

// addPlanLocked keeps p in order and forgets plans superseded long ago.
// It reports whether p was new.
func (n *Node) addPlanLocked(p *plan) bool {
	ps := &n.place
	for _, q := range ps.plans {
		if q.at == p.at && q.version == p.version && q.planner == p.planner {
			return false
		}
	}
	ps.plans = append(ps.plans, p)
	slices.SortFunc(ps.plans, func(a, b *plan) int {
		switch {
		case a == b:
			return 0
		case b.newer(a):
			return -1
		}
		return 1
	})
	// Keep the one governing now, keptPlans before it, and all later.
	now := n.nowMs()
	gov := -1
	for i, q := range ps.plans {
		if q.at <= now {
			gov = i
		}
	}
	if drop := gov - keptPlans; drop > 0 {
		ps.plans = slices.Delete(ps.plans, 0, drop)
	}
	return true
}

// plansForView returns the plans the view splits its epochs at.
func (n *Node) plansForViewLocked() []*plan {
	if !n.placementOn() {
		return nil
	}
	return slices.Clone(n.place.plans)
}

// receivePlacement takes a report or a plan from a peer. It reports
// whether b was one.
func (n *Node) receivePlacement(b []byte) bool {
	if len(b) == 0 || (b[0] != reportMagic && b[0] != planMagic) {
		return false
	}
	if !n.placementOn() {
		return true
	}
	switch b[0] {
	case reportMagic:
		if r, err := decodeReport(b); err == nil {
			n.mu.Lock()
			n.takeReportLocked(r)
			n.mu.Unlock()
		}
	case planMagic:
		if p, err := decodePlan(b); err == nil {
			n.mu.Lock()
			added := n.takePlanLocked(p)
			n.mu.Unlock()
			if added {
				signal(n.recompute)
			}
		}
	}
	return true
}

// takeReportLocked keeps a peer's report if it is newer. Reports of
// nodes not known alive are ignored: they would count load twice.
func (n *Node) takeReportLocked(r *loadReport) {
	if r.node == n.name {
		return
	}
	if p := n.peers[r.node]; p == nil || !p.alive {
		return
	}
	if old := n.place.reports[r.node]; old == nil || r.version > old.version {
		n.place.reports[r.node] = r
	}
}

// takePlanLocked keeps a plan made by this node or a live peer.
func (n *Node) takePlanLocked(p *plan) bool {
	if p.planner != n.name {
		if q := n.peers[p.planner]; q == nil || !q.alive {
			return false
		}
	}
	return n.addPlanLocked(p)
}

// forgetReportLocked drops the report of a peer that died or left.
func (n *Node) forgetReportLocked(name string) { delete(n.place.reports, name) }

// sendToPeers sends each message to every live peer as a packet. Over
// this transport a packet is an HTTP/2 POST of up to maxPacketSize (4
// MiB), far above a plan's largest (8,192 pins of ~20 bytes), queued per
// peer so one slow peer cannot stall the rest. Memberlist's reliable
// streams are not used: a stream that its sender closes right after
// writing can be cancelled before its data is flushed. What a peer misses
// reaches it by push/pull.
func (n *Node) sendToPeers(msgs [][]byte) {
	ml := n.memberlistNow()
	if ml == nil {
		return
	}
	n.mu.Lock()
	var to []memberlist.Node
	for _, p := range n.peers {
		if p.alive {
			to = append(to, p.node)
		}
	}
	n.mu.Unlock()
	for i := range to {
		for _, m := range msgs {
			if err := ml.SendBestEffort(&to[i], m); err != nil {
				n.log.Debug("placement message not sent", "peer", to[i].Name, "err", err)
				continue
			}
			n.metrics.placementBytes.Add(float64(len(m)))
		}
	}
}

// placementState is this node's reports and plans, for memberlist's
// push/pull: a node that joins or heals a partition gets them in its
// first exchange.
func (n *Node) placementLocalState() []byte {
	if !n.placementOn() {
		return nil
	}
	n.mu.Lock()
	var parts [][]byte
	for _, r := range n.place.reports {
		parts = append(parts, r.encode())
	}
	// The governing plan and later ones: older plans serve only the
	// holds of nodes that already have them.
	now := n.nowMs()
	for i, p := range n.place.plans {
		if p.at > now || i == len(n.place.plans)-1 || n.place.plans[i+1].at > now {
			parts = append(parts, p.encode())
		}
	}
	n.mu.Unlock()
	if len(parts) == 0 {
		return nil
	}
	b := []byte{stateMagic}
	b = binary.AppendUvarint(b, uint64(len(parts)))
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func (n *Node) placementMergeState(b []byte) {
	if !n.placementOn() || len(b) < 1 || b[0] != stateMagic {
		return
	}
	cnt, rest, err := readUvarint(b[1:])
	if err != nil || cnt > 1<<16 {
		return
	}
	for range cnt {
		var l uint64
		if l, rest, err = readUvarint(rest); err != nil || l > uint64(len(rest)) {
			return
		}
		n.receivePlacement(rest[:l])
		rest = rest[l:]
	}
}
