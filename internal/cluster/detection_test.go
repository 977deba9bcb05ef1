package cluster

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// burnCPU keeps every core busy until ctx is done.
func burnCPU(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint64(1)
			for ctx.Err() == nil {
				for range 1 << 16 {
					x = mix64(x)
				}
			}
			_ = x
		}()
	}
	return &wg
}

// startFleet starts n joined nodes and waits until they all see each
// other.
func startFleet(t testing.TB, n int) []*tnode {
	t.Helper()
	nodes := []*tnode{startNode(t, "n00")}
	for i := 1; i < n; i++ {
		nodes = append(nodes, startNode(t, fmt.Sprintf("n%02d", i), withJoin(nodes[0].addr())))
	}
	for _, nd := range nodes {
		eventually(t, 30*time.Second, nd.name+" to see the fleet", func() bool { return len(alivePeers(nd.Node)) == n })
	}
	return nodes
}

// TestNoFalseDeathUnderFullCPULoad runs five nodes while busy loops keep
// both cores saturated, and checks that no live node is declared dead
// with the default failure-detection settings.
func TestNoFalseDeathUnderFullCPULoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10s under full CPU load")
	}
	nodes := startFleet(t, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	burn := burnCPU(ctx)
	var falseDeaths atomic.Int64
	for ctx.Err() == nil {
		for _, n := range nodes {
			if got := len(alivePeers(n.Node)); got != len(nodes) {
				falseDeaths.Add(1)
				t.Errorf("%s sees %d live nodes of %d under load", n.name, got, len(nodes))
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	burn.Wait()
	var refuted float64
	for _, n := range nodes {
		refuted += metricValue(n.metrics.refutations)
	}
	t.Logf("10s of full CPU load: %d observations of a missing peer, %v re-entries after refuted deaths", falseDeaths.Load(), refuted)
}

// BenchmarkFailureDetection measures the time from a node's crash (its
// server closes every connection) to both of its peers' declaring it
// dead, with the default settings, on an idle machine and with every core
// saturated by busy loops. Each iteration starts a fleet of five.
func BenchmarkFailureDetection(b *testing.B) {
	for _, load := range []bool{false, true} {
		name := "idle"
		if load {
			name = "cpu-saturated"
		}
		b.Run(name, func(b *testing.B) {
			var total, worst time.Duration
			for range b.N {
				d := detectionOnce(b, load)
				total += d
				worst = max(worst, d)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/detection")
			b.ReportMetric(float64(worst.Milliseconds()), "ms/worst")
		})
	}
}

func detectionOnce(b *testing.B, load bool) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	nodes := startFleet(b, 5)
	defer func() {
		for _, n := range nodes {
			n.shutdown()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var burn *sync.WaitGroup
	if load {
		burn = burnCPU(ctx)
	}
	victim := nodes[len(nodes)-1]
	start := time.Now()
	victim.crash()
	for _, n := range nodes[:len(nodes)-1] {
		eventually(b, 30*time.Second, n.name+" to declare the victim dead", func() bool {
			_, ok := peerByNameAlive(n.Node, victim.name)
			return !ok
		})
	}
	d := time.Since(start)
	cancel()
	if burn != nil {
		burn.Wait()
	}
	return d
}

func peerByNameAlive(n *Node, name string) (Peer, bool) {
	p, ok := peerByName(n, name)
	return p, ok && p.Alive
}
