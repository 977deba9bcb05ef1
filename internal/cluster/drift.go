package cluster

import (
	"slices"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Drift: the handoff guarantees hold only among nodes that load the same
// configuration and see the same targets. Each node gossips a fingerprint
// of its config, a digest per clustered component of its target set, and
// a hash of its external labels, and its handoff delay Δ; a peer whose
// values differ from ours is counted in a gauge and logged once per
// change. A different Δ counts as config drift: it is configuration, and
// like a different config it breaks the exactness of handoffs.

// evaluateDriftLocked compares a peer's record with ours and logs what
// changed. The caller holds n.mu.
func (n *Node) evaluateDriftLocked(p *peer) {
	fp := n.local.Fingerprint == "" || p.rec.Fingerprint == "" || n.local.Fingerprint == p.rec.Fingerprint
	ext := n.local.ExternalLabels == 0 || p.rec.ExternalLabels == 0 || n.local.ExternalLabels == p.rec.ExternalLabels
	// Δ decides when ownership moves: two nodes with different ones hand
	// targets over at different ticks. 0 is a node that does not say.
	delta := n.local.HandoffDelay == 0 || p.rec.HandoffDelay == 0 || n.local.HandoffDelay == p.rec.HandoffDelay
	targets := true
	for _, mine := range n.local.Targets {
		i, ok := slices.BinarySearchFunc(p.rec.Targets, mine.ID, func(t targetDigest, id uint32) int {
			switch {
			case t.ID < id:
				return -1
			case t.ID > id:
				return 1
			}
			return 0
		})
		if ok && (p.rec.Targets[i].Digest != mine.Digest || p.rec.Targets[i].Count != mine.Count) {
			targets = false
			break
		}
	}
	if fp != p.fpMatch {
		if fp {
			n.log.Info("peer's configuration now matches this node's", "peer", p.name)
		} else {
			n.log.Warn("peer runs a different configuration; handoff is exact only among nodes with equal configs",
				"peer", p.name, "peer_fingerprint", p.rec.Fingerprint, "fingerprint", n.local.Fingerprint)
		}
	}
	if targets != p.targetsMatch {
		if targets {
			n.log.Info("peer's target sets now match this node's", "peer", p.name)
		} else {
			n.log.Warn("peer sees different targets for a clustered component; some targets may be scraped twice or not at all", "peer", p.name)
		}
	}
	if delta != p.deltaMatch {
		if delta {
			n.log.Info("peer's --cluster.handoff-delay now matches this node's", "peer", p.name)
		} else {
			n.log.Warn("peer runs a different --cluster.handoff-delay; handoffs between nodes with different delays leave gaps or scrape twice",
				"peer", p.name, "peer_handoff_delay", time.Duration(p.rec.HandoffDelay)*time.Millisecond,
				"handoff_delay", time.Duration(n.local.HandoffDelay)*time.Millisecond)
		}
	}
	if ext != p.extMatch && !ext {
		n.log.Warn("peer has different external_labels; series from different nodes will not line up", "peer", p.name)
	}
	p.fpMatch, p.targetsMatch, p.extMatch, p.deltaMatch = fp, targets, ext, delta
	n.updateDriftGaugesLocked()
}

func (n *Node) reevaluateDriftLocked() {
	for _, p := range n.peers {
		if p.alive {
			n.evaluateDriftLocked(p)
		}
	}
	n.updateDriftGaugesLocked()
}

func (n *Node) updateDriftGaugesLocked() {
	var cfg, tg int
	for _, p := range n.peers {
		if !p.alive {
			continue
		}
		if !p.fpMatch || !p.deltaMatch {
			cfg++
		}
		if !p.targetsMatch {
			tg++
		}
	}
	n.metrics.configDrift.Set(float64(cfg))
	n.metrics.targetDrift.Set(float64(tg))
}

// CheckExternalLabels is called by the runtime with the external labels of
// the remote_write components. It warns when Mimir's HA label __replica__
// is set, since Mimir's HA tracker would keep one node's samples and drop
// the other nodes' targets, and gossips a hash of the labels so that
// nodes whose labels differ are logged.
func (n *Node) CheckExternalLabels(labels map[string]string) {
	if _, ok := labels["__replica__"]; ok && n.enabled {
		n.log.Warn("external label __replica__ is set: Mimir's HA tracker keeps the samples of one replica and drops the rest, " +
			"but clustered nodes each scrape different targets; remove it")
	}
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	d := xxhash.New()
	for _, k := range names {
		_, _ = d.WriteString(k)
		_, _ = d.Write([]byte{0xff})
		_, _ = d.WriteString(labels[k])
		_, _ = d.Write([]byte{0xff})
	}
	h := d.Sum64()
	if h == 0 {
		h = 1 // 0 means unknown
	}
	n.mu.Lock()
	n.local.ExternalLabels = h
	n.reevaluateDriftLocked()
	n.mu.Unlock()
	if n.enabled {
		signal(n.metaPush)
	}
}
