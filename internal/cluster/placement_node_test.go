package cluster

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// withPlacement turns placement by series on, with a Δ of 2s: a plan for
// a membership change takes effect on its tick only when Δ/2 is left, and
// Δ must cover the plan's propagation as it covers the record's.
func withPlacement(interval time.Duration) nodeOpt {
	return func(c *Config, _ *Options) {
		c.Placement = PlacementSeries
		c.PlanInterval = interval
		c.HandoffDelay = 2 * time.Second
	}
}

// checkSplitAt checks the split at tick h once h has passed: a plan for
// h may still be on its way until then, and one that arrives later shows
// as disagreement.
func checkSplitAt(t *testing.T, nodes []*tnode, keys []uint64, h int64) {
	t.Helper()
	eventually(t, 10*time.Second, "the handoff tick to pass", func() bool { return time.Now().UnixMilli() > h+100 })
	checkSplit(t, nodes, keys, h-1)
	checkSplit(t, nodes, keys, h)
}

// scrapeSim plays the scrape loops of a fleet: every 200ms each node
// observes the series of the keys it owns now, as a scrape would.
func scrapeSim(ctx context.Context, nodes func() []*tnode, loads map[uint64]uint32) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now().UnixMilli()
		for _, n := range nodes() {
			for k, l := range loads {
				if n.Owns(k, now) {
					n.ObserveSeries(k, int(l), time.Second)
				}
			}
		}
	}
}

func seriesSplit(nodes []*tnode, loads map[uint64]uint32, tick int64) (float64, map[string]uint64) {
	per := map[string]uint64{}
	var total uint64
	for k, l := range loads {
		for _, n := range nodes {
			if n.Owns(k, tick) {
				per[n.name] += uint64(l)
			}
		}
		total += uint64(l)
	}
	var m uint64
	for _, v := range per {
		m = max(m, v)
	}
	return float64(m) / (float64(total) / float64(len(nodes))), per
}

// latestPlan is the newest plan a node holds.
func latestPlan(n *Node) *plan {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.place.plans) == 0 {
		return nil
	}
	return n.place.plans[len(n.place.plans)-1]
}

// TestPlacementBySeriesBalancesAndHandsOffExactly runs five real nodes
// (gossip over HTTP/2 on loopback) with --cluster.placement=series on
// 2,600 keys of which 1% carry 500 times the series of the rest. The
// plan must balance the series within 10% of the mean, every node must
// agree on it, and the handoff at its tick, and across a join, must leave
// every key with exactly one owner at every tick.
func TestPlacementBySeriesBalancesAndHandsOffExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	loads := map[uint64]uint32{}
	var keys []uint64
	for i := range 2600 {
		k := r.Uint64()
		keys = append(keys, k)
		loads[k] = 1
		if i < 26 {
			loads[k] = 500
		}
	}
	opt := withPlacement(2 * time.Second)
	a := startNode(t, "a", opt)
	nodes := []*tnode{a}
	for _, name := range []string{"b", "c", "d", "e"} {
		nodes = append(nodes, startNode(t, name, opt, withJoin(a.addr())))
	}
	readyAll(t, nodes...)
	var cur atomic.Pointer[[]*tnode]
	initial := slices.Clone(nodes)
	cur.Store(&initial)
	get := func() []*tnode { return *cur.Load() }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go scrapeSim(ctx, get, loads)

	unweighted, _ := seriesSplit(nodes, loads, time.Now().UnixMilli())
	// A plan is made, reaches every node before its tick, and governs.
	var p *plan
	eventually(t, 30*time.Second, "a placement plan on every node", func() bool {
		p = latestPlan(a.Node)
		if p == nil {
			return false
		}
		for _, n := range nodes {
			if q := latestPlan(n.Node); q == nil || q.version != p.version {
				return false
			}
		}
		return true
	})
	waitBoundary(t, nodes, p.at)
	checkSplitAt(t, nodes, keys, p.at)
	// Let the planner settle (it may refine once), then measure.
	var weighted float64
	var per map[string]uint64
	eventually(t, 30*time.Second, "the series balanced within 10%", func() bool {
		weighted, per = seriesSplit(nodes, loads, time.Now().UnixMilli())
		return weighted <= 1.1
	})
	t.Logf("series largest/mean: unweighted %.3f, weighted %.3f %v", unweighted, weighted, per)

	// A join: the newcomer's tick and the plan that follows it are both
	// exact handoffs.
	f := startNode(t, "f", opt, withJoin(nodes[1].addr()))
	f.SetReady()
	eventually(t, 10*time.Second, "f to participate", func() bool { return f.Self().State == Participant })
	h := f.Self().Since.UnixMilli() + f.delta
	nodes = append(slices.Clone(nodes), f)
	grown := slices.Clone(nodes)
	cur.Store(&grown)
	waitBoundary(t, nodes, h)
	checkSplitAt(t, nodes, keys, h)
	eventually(t, 30*time.Second, "a plan with f", func() bool {
		q := latestPlan(a.Node)
		return q != nil && slices.Contains(q.names, "f")
	})
	q := latestPlan(a.Node)
	waitBoundary(t, nodes, q.at)
	checkSplitAt(t, nodes, keys, q.at)
	eventually(t, 30*time.Second, "the series balanced within 10% with f", func() bool {
		weighted, per = seriesSplit(nodes, loads, time.Now().UnixMilli())
		return weighted <= 1.1
	})
	t.Logf("with f: series largest/mean %.3f %v", weighted, per)
}
