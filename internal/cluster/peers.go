package cluster

import (
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/memberlist"
)

// peer is what this node knows of another.
type peer struct {
	name  string
	addr  string
	rec   record
	alive bool
	// leftAt is when it was declared dead or left; left is true when it
	// left gracefully rather than died.
	leftAt time.Time
	left   bool
	// refused: its address refused a connection while gossip still had
	// it alive, in the life that published refusedSince (see peerRefused).
	refused      bool
	refusedSince int64
	// A node back from dead keeps the since it had before; until it
	// publishes a new one (or 2Δ pass) it is not eligible, so that its
	// return moves targets on an agreed tick rather than at the moment each
	// peer happens to hear of it.
	revived      bool
	revivedSince int64
	revivedAt    time.Time

	clock clockEstimate
	// clockAsked is the time (Unix ns, our clock) carried by the clock
	// probe awaiting its reply, 0 if none; clockAskedAt when it was sent.
	clockAsked   int64
	clockAskedAt time.Time

	// node is memberlist's address of the peer, for direct messages.
	node memberlist.Node
	// noticePending: tell the peer it was declared dead (by us) and is
	// back, so it re-enters participant (see deathNotice).
	noticePending bool

	fpMatch, targetsMatch, extMatch, deltaMatch bool
	metaErr                                     string
}

func (p *peer) suppressed(now time.Time, deltaMs int64) bool {
	return p.revived && p.rec.Since == p.revivedSince &&
		now.Sub(p.revivedAt) < 2*time.Duration(deltaMs)*time.Millisecond
}

// Peer is one node as this node sees it, for the peers API, the UI and
// the runtime.
type Peer struct {
	Name  string `json:"name"`
	Addr  string `json:"addr"`
	State State  `json:"state"`
	// Since is when the node entered State, by its own clock.
	Since time.Time `json:"since"`
	Self  bool      `json:"isSelf"`
	// Alive is false for a node declared dead or departed; such nodes stay
	// listed for a while.
	Alive bool `json:"alive"`
	// Eligible is whether the node owns targets now.
	Eligible           bool   `json:"eligible"`
	ConfigFingerprint  string `json:"configFingerprint"`
	FingerprintMatches bool   `json:"fingerprintMatches"`
	// HandoffDelay is the node's --cluster.handoff-delay (0 when it does
	// not gossip it); HandoffDelayMatches is false when it differs from
	// this node's, which counts as config drift.
	HandoffDelay        time.Duration `json:"handoffDelay"`
	HandoffDelayMatches bool          `json:"handoffDelayMatches"`
	TargetSetsMatch     bool          `json:"targetSetsMatch"`
	// TargetsOwned is how many targets of each clustered component the
	// node owns now, as this node computes it.
	TargetsOwned map[string]int `json:"targetsOwned"`
	// ClockOffset is the estimated offset of the node's clock from ours;
	// ClockOffsetKnown is false until a probe has measured it.
	ClockOffset      time.Duration `json:"clockOffset"`
	ClockOffsetKnown bool          `json:"clockOffsetKnown"`
	// Watermark is the time up to which the node's samples are all
	// acknowledged, as last gossiped.
	Watermark time.Time `json:"watermark"`
	// Note says, for this node, why it is a viewer although it was asked
	// to participate (its peers' clocks are being measured, or its clock
	// is too far off the fleet's); for a peer, what drifts from this
	// node's settings besides the fingerprint (see drift.go).
	Note string `json:"note,omitempty"`
}

// Self returns this node as a Peer.
func (n *Node) Self() Peer {
	n.mu.Lock()
	r := n.local
	note := ""
	if r.State == Viewer || n.skewOut {
		note = n.viewerReason
	}
	n.mu.Unlock()
	now := n.nowMs()
	p := Peer{
		Note: note,
		Name: n.name, Addr: n.AdvertiseAddr(), State: r.State, Since: time.UnixMilli(r.Since),
		Self: true, Alive: true, ConfigFingerprint: r.Fingerprint,
		FingerprintMatches: true, TargetSetsMatch: true, ClockOffsetKnown: true,
		HandoffDelay: time.Duration(r.HandoffDelay) * time.Millisecond, HandoffDelayMatches: true,
		Watermark: time.UnixMilli(r.Watermark), TargetsOwned: n.ownedBy(n.name),
	}
	if n.enabled {
		p.Eligible = n.view.Load().at(now).self >= 0
	} else {
		p.Eligible = true
	}
	return p
}

// Peers lists every node this node knows, itself included, sorted by name.
func (n *Node) Peers() []Peer {
	out := []Peer{n.Self()}
	if !n.enabled {
		return out
	}
	e := n.view.Load().at(n.nowMs())
	n.mu.Lock()
	for _, p := range n.peers {
		off, known := p.clock.estimate()
		note := ""
		if !p.deltaMatch {
			note = fmt.Sprintf("--cluster.handoff-delay is %s, this node's is %s",
				time.Duration(p.rec.HandoffDelay)*time.Millisecond, time.Duration(n.delta)*time.Millisecond)
		}
		out = append(out, Peer{
			HandoffDelay: time.Duration(p.rec.HandoffDelay) * time.Millisecond, HandoffDelayMatches: p.deltaMatch, Note: note,
			Name: p.name, Addr: p.addr, State: p.rec.State, Since: time.UnixMilli(p.rec.Since),
			Alive: p.alive, Eligible: p.alive && e.has(p.name),
			ConfigFingerprint: p.rec.Fingerprint, FingerprintMatches: p.fpMatch, TargetSetsMatch: p.targetsMatch,
			ClockOffset: off, ClockOffsetKnown: known, Watermark: time.UnixMilli(p.rec.Watermark),
		})
	}
	n.mu.Unlock()
	for i := range out[1:] {
		out[i+1].TargetsOwned = n.ownedBy(out[i+1].Name)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ownedBy counts, per component, the targets name owns in the current
// tables.
func (n *Node) ownedBy(name string) map[string]int {
	tables := *n.tables.Load()
	m := make(map[string]int, len(tables))
	for id, o := range tables {
		m[id] = o.Count(name)
	}
	return m
}

// Ready reports whether the node should receive traffic as a clustered
// agent: it is a participant and the fleet has --cluster.wait-for-size
// participants, or has been below that for --cluster.wait-timeout. It is
// always true with clustering disabled. Below the minimum the node still
// owns its share: wait-for-size gates readiness only, so that a fleet that
// shrank below its minimum does not stop scraping altogether as Alloy's
// does.
func (n *Node) Ready() bool {
	if !n.enabled {
		return true
	}
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.local.State != Participant {
		n.belowSince = time.Time{}
		return false
	}
	if n.cfg.WaitForSize <= 1 {
		return true
	}
	count := 1
	for _, p := range n.peers {
		if p.alive && p.rec.State == Participant {
			count++
		}
	}
	if count >= n.cfg.WaitForSize {
		n.belowSince = time.Time{}
		return true
	}
	if n.belowSince.IsZero() {
		n.belowSince = now
	}
	return n.cfg.WaitTimeout > 0 && now.Sub(n.belowSince) >= n.cfg.WaitTimeout
}
