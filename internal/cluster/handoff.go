package cluster

import (
	"math"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
)

// Handoff orders delivery as well as scraping. A node that loses targets at
// the handoff tick h flushes its pending samples at once and gossips its
// watermark: every sample it stamped at or before the watermark has been
// acknowledged. A node that gains a target at h holds that target's
// samples until the giver's watermark reaches h-1 (all its samples of the
// target are in), the giver dies or leaves, or HoldTimeout passes.
// Otherwise the new owner's first sample could reach the receiver before
// the old owner's last one, which the receiver rejects as out of order.

// Delivery delay: in a cluster the node flushes its deliveries every
// main-loop period (250ms), so that what it scrapes reaches the receiver
// within about that plus one request, instead of waiting for a full batch
// or batch_send_deadline (5s by default). Two writers of one series are
// ordered at the receiver only if neither lags by an interval:
//   - when a node is declared dead but is alive behind a partition, the
//     takers scrape its targets from the moment they declare it, at once
//     and without a hold; its samples from just before the cut must
//     already be out, or they land after the takers' and are rejected as
//     out of order;
//   - during a partition both sides write every tick; a side whose tick t
//     arrives after the other side's tick t+1 has it rejected as out of
//     order instead of as a duplicate;
//   - when it heals, ownership settles without an agreed tick.
// The cost is at most four requests a second per shard on a node whose
// batches do not fill faster than that.

// Watermark gossip: during a handoff it follows every change (at most
// every 250ms, the main loop's period); otherwise every watermarkIdle, so
// that a steady fleet does not gossip a record update per node per scrape.
const watermarkIdle = 10 * time.Second

type holdKey struct {
	giver string
	h     int64
}

type hold struct {
	ch       chan struct{}
	created  time.Time
	released bool
	at       time.Time // when released
}

// Hold returns, for a tick t this node owns, a channel closed when the
// samples of t may be delivered, or nil when they need not wait: t does
// not follow a handoff from another live node, or the giver's deliveries
// are already complete.
func (n *Node) Hold(key uint64, t int64) <-chan struct{} {
	if !n.enabled {
		return nil
	}
	v := n.view.Load()
	i := v.index(t)
	if i == 0 {
		return nil
	}
	cur := &v.epochs[i]
	if cur.self < 0 || cur.owner(key) != cur.self {
		return nil
	}
	// Walk back over the epochs in which this node already owned the key:
	// its first tick after a handoff may fall in a later epoch than the
	// handoff itself, when epochs follow each other within one interval
	// (every node re-entering at once as a partition heals). The giver is
	// the owner just before the run of this node's ownership.
	j := i - 1
	for j >= 0 && i-j <= maxHoldLookback {
		e := &v.epochs[j]
		if e.self < 0 || e.owner(key) != e.self {
			break
		}
		j--
	}
	if j < 0 || i-j > maxHoldLookback {
		return nil
	}
	prev := &v.epochs[j]
	pi := prev.owner(key)
	if pi < 0 {
		return nil
	}
	return n.holdFor(prev.names[pi], v.epochs[j+1].start)
}

// maxHoldLookback bounds how many epochs Hold walks back to find a giver.
const maxHoldLookback = 16

func (n *Node) holdFor(giver string, h int64) <-chan struct{} {
	k := holdKey{giver, h}
	n.mu.Lock()
	defer n.mu.Unlock()
	if hd := n.holds[k]; hd != nil {
		if hd.released {
			return nil
		}
		return hd.ch
	}
	p := n.peers[giver]
	now := n.now()
	if p == nil || !p.alive || p.rec.Watermark >= h-1 {
		n.holds[k] = &hold{created: now, released: true, at: now}
		return nil
	}
	hd := &hold{ch: make(chan struct{}), created: now}
	n.holds[k] = hd
	return hd.ch
}

// releaseHoldsLocked releases the holds waiting for giver: all of them
// when it is gone, otherwise those its watermark now covers.
func (n *Node) releaseHoldsLocked(giver string, watermark int64, gone bool) {
	now := n.now()
	for k, hd := range n.holds {
		if k.giver != giver || hd.released {
			continue
		}
		switch {
		case gone:
			n.releaseLocked(hd, now, "dead")
		case watermark >= k.h-1:
			n.releaseLocked(hd, now, "watermark")
		}
	}
}

func (n *Node) releaseLocked(hd *hold, now time.Time, reason string) {
	hd.released, hd.at = true, now
	if hd.ch != nil {
		close(hd.ch)
	}
	n.metrics.holds.WithLabelValues(reason).Inc()
}

// expireHolds releases holds past HoldTimeout and forgets old ones.
func (n *Node) expireHolds(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, hd := range n.holds {
		switch {
		case !hd.released && now.Sub(hd.created) >= n.cfg.HoldTimeout:
			n.log.Warn("released a handoff hold on timeout; the previous owner's last samples may arrive after the new owner's",
				"peer", k.giver, "handoff", time.UnixMilli(k.h).UTC())
			n.releaseLocked(hd, now, "timeout")
		case hd.released && now.Sub(hd.at) > n.cfg.HoldTimeout+time.Minute:
			delete(n.holds, k)
		}
	}
}

// holdsShutdown releases every hold when the node stops, so that no
// scrape loop waits on a node that no longer gossips.
func (n *Node) holdsShutdown() {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	for _, hd := range n.holds {
		if !hd.released {
			n.releaseLocked(hd, now, "timeout")
		}
	}
}

// AddDelivery registers a delivery tracker; the node's watermark is the
// minimum over all of them. A nil tracker removes it.
func (n *Node) AddDelivery(componentID string, d component.Delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if d == nil {
		delete(n.trackers, componentID)
		return
	}
	n.trackers[componentID] = d
}

// watermark is the minimum over the trackers; with none, nothing is
// pending and it is now.
//
// It never passes a tick this node still holds samples of: samples held
// for a handoff (stamped at or after its tick h) are not in any tracker
// yet, and a node that takes the same targets next waits for this
// watermark. Without the cap, a chain of handoffs (A to B, then B to C one
// tick later, as when ownership settles after a partition) let C's samples
// overtake B's held ones. The cap stays for holdSettle after a release,
// while the scrape loops hand the released samples to the trackers.
func (n *Node) watermark(now time.Time) int64 {
	n.mu.Lock()
	ts := make([]component.Delivery, 0, len(n.trackers))
	for _, d := range n.trackers {
		ts = append(ts, d)
	}
	capAt := int64(math.MaxInt64)
	for k, hd := range n.holds {
		if !hd.released || now.Sub(hd.at) < holdSettle {
			capAt = min(capAt, k.h-1)
		}
	}
	n.mu.Unlock()
	wm := now.UnixMilli()
	if len(ts) > 0 {
		wm = int64(math.MaxInt64)
		for _, d := range ts {
			wm = min(wm, d.Watermark())
		}
	}
	return min(wm, capAt)
}

// holdSettle is how long after a hold's release the watermark stays below
// its tick: the released samples reach the trackers within it.
const holdSettle = time.Second

// refreshWatermark puts the current watermark into the record when it
// changed: at once while takers may be waiting for it, otherwise at most
// every watermarkIdle.
func (n *Node) refreshWatermark(now time.Time) {
	wm := n.watermark(now)
	n.mu.Lock()
	// Hot: takers may be holding on this node's watermark, which has not
	// yet been gossiped past the handoff.
	hot := n.lastLoss != 0 && n.local.Watermark < n.lastLoss-1 &&
		now.UnixMilli()-n.lastLoss < n.cfg.HoldTimeout.Milliseconds()
	push := wm != n.local.Watermark && (hot || now.Sub(n.lastMetaWM) >= n.watermarkPeriod())
	if push {
		n.local.Watermark = wm
		n.lastMetaWM = now
	}
	n.mu.Unlock()
	if push && n.enabled {
		signal(n.metaPush)
	}
}

// flushDeliveries asks every tracker to send what it holds now.
func (n *Node) flushDeliveries() {
	n.mu.Lock()
	ts := make([]component.Delivery, 0, len(n.trackers))
	for _, d := range n.trackers {
		ts = append(ts, d)
	}
	n.mu.Unlock()
	for _, d := range ts {
		d.Flush()
	}
}
