package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestScaleSimulation is the fleet on paper: 100 nodes and 100,000
// targets (1% of them carrying 500 times the series of the rest) in one
// process, with --cluster.placement=series. It measures
//
//   - ownership churn under a rolling restart, each node leaving and
//     coming back with the planner's plans on the membership ticks,
//     beside plain rendezvous hashing;
//   - the gossip bytes per second per node, from the encoded sizes of
//     the records, reports and plans and memberlist's own cost model
//     (gossip fan-out and interval, retransmissions, push/pull interval
//     scaled with the fleet, probes);
//   - the time for every node to learn every other after a partition
//     heals, by simulating memberlist's epidemic round by round.
//
// It restarts SHOAL_SCALE_RESTARTS nodes (default 10, up to 100) and
// takes about a minute on two cores with the default.
// Run: go test ./internal/cluster -run TestScaleSimulation -v
func TestScaleSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("the scale simulation takes about a minute")
	}
	const nodes, targets = 100, 100_000
	restarts, healRuns := 10, 200
	if raceDetector {
		// Ten times slower: the figures still come out, from less.
		restarts, healRuns = 2, 20
	}
	if s := os.Getenv("SHOAL_SCALE_RESTARTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > nodes {
			t.Fatalf("SHOAL_SCALE_RESTARTS=%q: want 1..%d", s, nodes)
		}
		restarts = n
	}
	start := time.Now()
	f := newSimFleet(targets, 1, 500, nodes, 42)
	t0 := time.Now()
	unweighted, _ := f.seriesBalance()
	t.Logf("ownership of %d targets over %d nodes, unweighted: %s", targets, nodes, time.Since(t0).Round(time.Millisecond))
	f.replan()
	t0 = time.Now()
	weighted, _ := f.seriesBalance()
	t.Logf("ownership of %d targets over %d nodes, weighted: %s", targets, nodes, time.Since(t0).Round(time.Millisecond))
	t.Logf("series largest/mean: unweighted %.3f, weighted %.3f (%d pins)", unweighted, weighted, len(f.plan.pins))
	if weighted > 1.1 {
		t.Errorf("weighted series balance %.3f > 1.1", weighted)
	}

	// Rolling restart: node i leaves (the plan for the leave takes
	// effect on its tick), then comes back (the plan for the join on its
	// tick).
	all := slices.Clone(f.nodes)
	var movedW, movedU, worstBalance float64
	for i := range restarts {
		leaver := all[i*nodes/restarts]
		before := f.owners()
		rest := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == leaver })
		f.nodes = rest
		f.replan()
		mid := f.owners()
		f.nodes = slices.Clone(all)
		f.replan()
		after := f.owners()
		b, _ := f.seriesBalance()
		worstBalance = max(worstBalance, b)
		movedW += float64(moved(before, mid) + moved(mid, after))
		// Plain rendezvous: the leaver's targets go and come back.
		movedU += 2 * float64(countOwnedBy(before, leaver, f.plan == nil))
	}
	plainPerRestart := 2 * float64(targets) / nodes
	t.Logf("rolling restart of %d of %d nodes: %.0f targets moved per restart (leave + rejoin) with placement by series, %.0f with plain rendezvous hashing (%.2fx); series balance after each rejoin ≤ %.3f",
		restarts, nodes, movedW/float64(restarts), plainPerRestart, movedW/float64(restarts)/plainPerRestart, worstBalance)

	// Gossip cost.
	g := gossipModel(f, nodes)
	t.Logf("gossip per node, bytes/s sent: %s", g)
	plain := 2 * float64(nodes*(g.recordSize+40)) / pushPullInterval(nodes).Seconds()
	t.Logf("without placement by series: %.0f bytes/s (push/pull %.0f, no reports or plans)", g.probes+g.records+plain, plain)

	// Partition heal.
	for _, split := range []int{50, 10} {
		for _, rejoin := range []time.Duration{0, bootstrapRetry} {
			res := healSimulation(nodes, split, healRuns, rejoin)
			how := "one push/pull (memberlist alone)"
			if rejoin > 0 {
				how = fmt.Sprintf("the minority's rejoins within %s (join.go)", rejoin)
			}
			t.Logf("partition %d/%d healed by %s: every node knows every other after %s median, %s p95, %s worst of %d runs (%d-ms gossip rounds); + Δ until ownership moves",
				nodes-split, split, how, res.median, res.p95, res.worst, healRuns, gossipRound.Milliseconds())
		}
	}
	t.Logf("simulation took %s", time.Since(start).Round(time.Second))
}

func countOwnedBy(owners map[uint64]string, node string, _ bool) int {
	n := 0
	for _, o := range owners {
		if o == node {
			n++
		}
	}
	return n
}

// memberlist's parameters as memberlistConfig sets them.
const (
	gossipRound    = 100 * time.Millisecond
	gossipFanout   = 4
	retransmitMult = 4 // memberlist's LAN default
	probeInterval  = DefaultProbeInterval
	pushPullBase   = 15 * time.Second
)

// pushPullInterval is memberlist's pushPullScale: the interval grows by
// one base interval per doubling of the fleet beyond 32 nodes.
func pushPullInterval(n int) time.Duration {
	if n <= 32 {
		return pushPullBase
	}
	return time.Duration(math.Ceil(math.Log2(float64(n))-math.Log2(32))+1) * pushPullBase
}

// retransmits is how many times memberlist sends each broadcast.
func retransmits(n int) int { return retransmitMult * int(math.Ceil(math.Log10(float64(n+1)))) }

type gossipCost struct {
	probes, records, pushPull, reports, plans float64
	recordSize, reportSize, planSize, state   int
}

func (g gossipCost) String() string {
	total := g.probes + g.records + g.pushPull + g.reports + g.plans
	return fmt.Sprintf("%.0f total = probes %.0f + record updates %.0f + push/pull %.0f + load reports %.0f + plans %.0f (record %d B, report %d B, plan %d B, push/pull state %d B)",
		total, g.probes, g.records, g.pushPull, g.reports, g.plans, g.recordSize, g.reportSize, g.planSize, g.state)
}

// gossipModel prices a steady fleet per node and second:
//   - probes: one ping and its ack every probe interval, ~64 bytes each
//     with memberlist's framing, plus the 8-byte clock in the ack; every
//     node is probed as often as it probes;
//   - record updates: the watermark, at most every watermarkIdle (10s),
//     an alive message of the record's size plus ~60 bytes, sent
//     retransmits(n) times; received as often;
//   - push/pull: every pushPullInterval(n), the whole member list (n
//     records of ~size+40 bytes) and the placement state (every report
//     and the governing plan) both ways; each node starts one and answers
//     one on average;
//   - load reports: one to every peer every reportRefresh (60s) when
//     steady;
//   - plans: one per PlanInterval at most, to every peer, only while
//     the planner replans (the steady figure counts one plan an hour).
func gossipModel(f *simFleet, n int) gossipCost {
	var g gossipCost
	rec := record{State: Participant, Since: 1765000000000, Fingerprint: "0123456789abcdef0123456789abcdef", Watermark: 1765000000000,
		HandoffDelay: 3000, Targets: []targetDigest{{ID: 1, Digest: 2, Count: 100000}}}
	b, _ := rec.encode(nil, maxMetaSize)
	g.recordSize = len(b) + 64 // a signature with a node identity
	reports := f.reports()
	for _, r := range reports {
		g.reportSize = max(g.reportSize, len(r.encode()))
	}
	g.planSize = len(f.plan.encode())
	g.state = n*(g.recordSize+40) + len(reports)*g.reportSize + g.planSize
	g.probes = 2 * (64 + 64 + 8) / probeInterval.Seconds()
	g.records = float64(retransmits(n)) * float64(g.recordSize+60) / watermarkIdle.Seconds()
	g.pushPull = 2 * float64(g.state) / pushPullInterval(n).Seconds()
	g.reports = float64((n-1)*g.reportSize) / reportRefresh.Seconds()
	g.plans = float64((n-1)*g.planSize) / 3600
	return g
}

type healResult struct{ median, p95, worst time.Duration }

// healSimulation models memberlist's epidemic after a partition of n
// nodes into n-k and k heals: one node of each side exchange their state
// by push/pull (the rejoin), and each then holds the other side's records
// as news to broadcast. Each round (gossipRound) every node sends its
// pending broadcasts to gossipFanout random peers; a node that learns a
// record broadcasts it in turn; each broadcast is sent retransmits(n)
// times. Every node also starts a push/pull with a random peer every
// pushPullInterval(n), at a random phase. With rejoin > 0 every node of
// the smaller side also rejoins (a push/pull with a random node of the
// other) at a random moment within rejoin, as a node in a minority of
// the fleet it remembers does. It returns the time until every node
// knows every record, over runs.
func healSimulation(n, k, runs int, rejoin time.Duration) healResult {
	r := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	var times []time.Duration
	ppRounds := int(pushPullInterval(n) / gossipRound)
	for range runs {
		// knows[i] is the set of records node i holds, as a bitset.
		words := (n + 63) / 64
		knows := make([][]uint64, n)
		// sends[i][j] is how many more times i broadcasts record j.
		sends := make([][]int, n)
		phase := make([]int, n)
		for i := range n {
			knows[i] = make([]uint64, words)
			sends[i] = make([]int, n)
			phase[i] = r.IntN(ppRounds)
			lo, hi := 0, n-k
			if i >= n-k {
				lo, hi = n-k, n
			}
			for j := lo; j < hi; j++ {
				knows[i][j/64] |= 1 << (j % 64)
			}
		}
		has := func(i, j int) bool { return knows[i][j/64]&(1<<(j%64)) != 0 }
		learn := func(i, j int) {
			if !has(i, j) {
				knows[i][j/64] |= 1 << (j % 64)
				sends[i][j] = retransmits(n)
			}
		}
		merge := func(a, b int) {
			for j := range n {
				if has(a, j) {
					learn(b, j)
				}
				if has(b, j) {
					learn(a, j)
				}
			}
		}
		merge(0, n-1) // the rejoin
		rejoinAt := make([]int, n)
		for i := n - k; i < n && rejoin > 0; i++ {
			rejoinAt[i] = 1 + r.IntN(int(rejoin/gossipRound))
		}
		done := func() bool {
			for i := range n {
				for j := range n {
					if !has(i, j) {
						return false
					}
				}
			}
			return true
		}
		round := 0
		for !done() && round < 100000 {
			round++
			type msg struct{ to, rec int }
			var out []msg
			for i := range n {
				var pending []int
				for j, c := range sends[i] {
					if c > 0 {
						pending = append(pending, j)
						sends[i][j]--
					}
				}
				if len(pending) == 0 {
					continue
				}
				for range gossipFanout {
					to := r.IntN(n - 1)
					if to >= i {
						to++
					}
					for _, j := range pending {
						out = append(out, msg{to, j})
					}
				}
			}
			for _, m := range out {
				learn(m.to, m.rec)
			}
			for i := range n {
				if rejoinAt[i] == round {
					merge(i, r.IntN(n-k))
				}
				if (round+phase[i])%ppRounds == 0 {
					to := r.IntN(n - 1)
					if to >= i {
						to++
					}
					merge(i, to)
				}
			}
		}
		times = append(times, time.Duration(round)*gossipRound)
	}
	slices.Sort(times)
	return healResult{median: times[len(times)/2], p95: times[len(times)*95/100], worst: times[len(times)-1]}
}
