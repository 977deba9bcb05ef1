package cluster

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkGossipConvergence100Nodes starts 100 nodes in this process, each
// behind its own HTTP/2 server on loopback, and measures how long a state
// change (viewer → participant) takes to reach all of them: the gossip
// propagation that Δ must cover. Run it with -benchtime=Nx.
func BenchmarkGossipConvergence100Nodes(b *testing.B) {
	size := fleetSize(b)
	start := time.Now()
	nodes := []*tnode{startNode(b, "n000")}
	for i := 1; i < size; i++ {
		// Join a few earlier nodes so that no single node serves every join.
		join := []string{nodes[0].addr(), nodes[i/2].addr(), nodes[i-1].addr()}
		nodes = append(nodes, startNode(b, fmt.Sprintf("n%03d", i), withJoin(join...)))
	}
	for _, n := range nodes {
		eventually(b, 2*time.Minute, n.name+" to see all 100", func() bool { return len(alivePeers(n.Node)) == size })
	}
	b.Logf("%d nodes started", size)
	b.Logf("nodes started and converged in %s", time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	var total, worst time.Duration
	for i := range b.N {
		changed := nodes[(i*37+11)%size]
		t0 := time.Now()
		changed.SetReady()
		for _, n := range nodes {
			eventually(b, time.Minute, n.name+" to see the change", func() bool { return stateOf(n.Node, changed.name) == Participant })
		}
		d := time.Since(t0)
		total += d
		worst = max(worst, d)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/propagation")
	b.ReportMetric(float64(worst.Milliseconds()), "ms/worst")
	b.StopTimer()
	for _, n := range nodes {
		n.shutdown()
	}
}

// fleetSize is 100, or SHOAL_FLEET_SIZE for quicker experiments.
func fleetSize(b *testing.B) int {
	if s := os.Getenv("SHOAL_FLEET_SIZE"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 1 {
			return n
		}
	}
	return 100
}
