package cluster

import (
	"sync/atomic"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
)

// Hot standby (replicas = 2 on a clustered component): besides its owner,
// every target has a standby, the node that would own it if the owner
// were not eligible. The standby scrapes the same ticks but sends nothing
// its primary's gossiped delivery watermark covers; if the primary dies,
// it sends the ticks after that watermark. See docs/clustering.md, "Hot
// standby".

// watermarkReplicated is the period at which a node gossips its watermark
// while a component with replicas ≥ 2 runs, instead of watermarkIdle: what
// the primary delivered but had not yet gossiped when it crashed is sent
// twice by its standby, so this period bounds the doubled ticks.
const watermarkReplicated = 500 * time.Millisecond

// Standby reports whether this node is the standby of key at tick t, and
// names the primary (the owner). The standby is the owner the epoch would
// have with the primary left out, so that it follows however the owner is
// chosen.
func (n *Node) Standby(key uint64, t int64) (primary string, ok bool) {
	if !n.enabled {
		return "", false
	}
	e := n.view.Load().at(t)
	if e.self < 0 {
		return "", false
	}
	p := e.owner(key)
	if p < 0 || p == e.self {
		return "", false
	}
	rest := e.without(p)
	if s := rest.owner(key); s >= 0 && rest.names[s] == n.name {
		return e.names[p], true
	}
	return "", false
}

// without returns a copy of e with the node at index i left out: the
// eligible set in which the runner-up of a key is its owner.
func (e *epoch) without(i int) epoch {
	r := epoch{start: e.start, self: -1,
		names:  make([]string, 0, len(e.names)-1),
		hashes: make([]uint64, 0, len(e.hashes)-1)}
	for j := range e.names {
		if j == i {
			continue
		}
		if j == e.self {
			r.self = len(r.names)
		}
		r.names = append(r.names, e.names[j])
		r.hashes = append(r.hashes, e.hashes[j])
	}
	return r
}

// Delivered returns the last delivery watermark peer gossiped, and
// whether it is alive: false once it is declared dead or has left, when
// its address refuses connections (its process is gone: ownership and
// holds already treat it as dead, see peerRefused), or if it is unknown.
func (n *Node) Delivered(peer string) (watermark int64, alive bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[peer]
	if p == nil {
		return 0, false
	}
	return p.rec.Watermark, p.alive && !p.refused
}

// replicated holds, per component, its replicas setting; the node gossips
// its watermark every watermarkReplicated while any is ≥ 2.
type replicated struct {
	byComponent map[string]int
	on          atomic.Bool
}

// SetReplicas tells the node how many nodes scrape each target of a
// component (1: the owner only; 2: the owner and its standby). 0 or 1
// withdraws the component.
func (n *Node) SetReplicas(componentID string, replicas int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.replicas.byComponent == nil {
		n.replicas.byComponent = map[string]int{}
	}
	if replicas >= 2 {
		n.replicas.byComponent[componentID] = replicas
	} else {
		delete(n.replicas.byComponent, componentID)
	}
	n.replicas.on.Store(len(n.replicas.byComponent) > 0)
}

// watermarkPeriod is how often a changed watermark is gossiped outside a
// handoff.
func (n *Node) watermarkPeriod() time.Duration {
	if n.replicas.on.Load() {
		return watermarkReplicated
	}
	return watermarkIdle
}

var _ component.StandbyCluster = (*Node)(nil)
