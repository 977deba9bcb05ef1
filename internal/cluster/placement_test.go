package cluster

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// neglog2 must be -log2 of (x+1)/2^64 to within its fixed point, and
// never zero (a zero would divide the weight by nothing).
func TestNeglog2IsMinusLog2InFixedPoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		x := r.Uint64() >> (r.Uint64() % 64)
		got := float64(neglog2(x)) / (1 << log2Frac)
		want := -math.Log2(float64(x|1) / math.Exp2(64))
		if math.Abs(got-want) > 1e-5 && want > 1e-5 {
			t.Fatalf("neglog2(%x) = %v, want %v", x, got, want)
		}
	}
	if neglog2(math.MaxUint64) < 1 || neglog2(0) != 64<<log2Frac {
		t.Fatalf("neglog2 bounds: %d %d", neglog2(math.MaxUint64), neglog2(0))
	}
}

// Weighted rendezvous gives each node a share of the keys proportional
// to its weight, and equal weights give plain rendezvous' owner.
func TestWeightedOwnerSharesFollowWeights(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	hs := make([]uint64, len(names))
	for i, n := range names {
		hs[i] = nameHash(n)
	}
	ws := []uint64{1 * weightOne, 2 * weightOne, 3 * weightOne, 4 * weightOne}
	eq := []uint64{weightOne, weightOne, weightOne, weightOne}
	counts := make([]int, len(names))
	r := rand.New(rand.NewPCG(5, 6))
	const keys = 100000
	for range keys {
		k := r.Uint64()
		counts[weightedOwnerIndex(hs, ws, k)]++
		if a, b := weightedOwnerIndex(hs, eq, k), ownerIndex(hs, k); a != b {
			// Equal weights rank by -log2(u), which is monotonic in
			// the score up to the fixed point's resolution.
			if mix64(k^hs[a])>>40 != mix64(k^hs[b])>>40 {
				t.Fatalf("key %x: equal weights pick %d, plain rendezvous %d", k, a, b)
			}
		}
	}
	for i, c := range counts {
		want := float64(keys) * float64(i+1) / 10
		if math.Abs(float64(c)-want) > 0.03*want {
			t.Errorf("node %s owns %d keys, want about %.0f", names[i], c, want)
		}
	}
}

// A weight change moves keys only to or from the node whose weight
// changed.
func TestWeightChangeMovesOnlyThatNodesKeys(t *testing.T) {
	hs := []uint64{nameHash("a"), nameHash("b"), nameHash("c")}
	before := []uint64{weightOne, weightOne, weightOne}
	after := []uint64{weightOne, 2 * weightOne, weightOne}
	r := rand.New(rand.NewPCG(9, 10))
	movedIn := 0
	for range 30000 {
		k := r.Uint64()
		o1, o2 := weightedOwnerIndex(hs, before, k), weightedOwnerIndex(hs, after, k)
		if o1 != o2 {
			if o2 != 1 {
				t.Fatalf("key %x moved from %d to %d; only moves to b are allowed", k, o1, o2)
			}
			movedIn++
		}
	}
	// b's share goes from 1/3 to 1/2: a sixth of the keys move.
	if movedIn < 4500 || movedIn > 5500 {
		t.Errorf("%d of 30000 keys moved to b, want about 5000", movedIn)
	}
}

func TestPlacementMessagesRoundTrip(t *testing.T) {
	r := buildReport("node-1", 12345, []loadEntry{{5, 500}, {3, 1}, {9, 2}})
	got, err := decodeReport(r.encode())
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("report round trip: %+v, %v; want %+v", got, err, r)
	}
	p := &plan{planner: "a", version: 7, at: 8, names: []string{"a", "b"}, weights: []uint32{3, weightOne},
		pins: []pin{{key: 1, node: 1, load: 500}, {key: 1 << 63, node: 0, load: 400}}}
	gp, err := decodePlan(p.encode())
	if err != nil || !reflect.DeepEqual(gp, p) {
		t.Fatalf("plan round trip: %+v, %v; want %+v", gp, err, p)
	}
}

// Plans do not flap (hysteresis): series that wobble by ±5% are not even
// re-reported (reportSlack), and a heavy target whose series swing back
// and forth by 20% every minute may cause one new plan, after which the
// swing stays within replanAbove of the plan's balance either way: no
// plan after the first, no target moves.
func TestPlanDoesNotFlap(t *testing.T) {
	for swing := range 26 {
		t.Run(fmt.Sprint(swing), func(t *testing.T) { planDoesNotFlap(t, swing) })
	}
}

func planDoesNotFlap(t *testing.T, swing int) {
	f := newSimFleet(2600, 1, 500, 5, 11)
	if f.replan() == 0 {
		t.Fatal("no plan for a skewed fleet")
	}
	r := rand.New(rand.NewPCG(1, 1))
	settled := f.owners()
	sent := map[string]*loadReport{}
	for _, rep := range f.reports() {
		sent[rep.node] = rep
	}
	var heavy []uint64 // in key order, so that the run is reproducible
	for _, k := range f.keys {
		if f.loads[k] > 1 {
			heavy = append(heavy, k)
		}
	}
	resent, plans := 0, 0
	for round := range 50 {
		for _, k := range heavy {
			f.loads[k] = uint32(500 * (0.95 + 0.1*r.Float64()))
		}
		if round%2 == 1 {
			f.loads[heavy[swing]] = 600
		}
		f.clock += 60_000
		var reports []*loadReport
		for _, rep := range f.reports() {
			if reportChanged(sent[rep.node], rep) {
				sent[rep.node] = rep
				resent++
			}
			reports = append(reports, sent[rep.node])
		}
		p := makePlan(planInput{planner: f.nodes[0], version: f.clock, at: f.clock, eligible: f.nodes, reports: reports, prev: f.plan})
		if p != nil {
			plans++
			t.Logf("round %d: plan %d", round, plans)
			if plans > 1 {
				t.Fatalf("round %d: plan %d for loads that only swing back and forth", round, plans)
			}
			f.plan = p
			settled = f.owners()
		}
	}
	if resent == 0 {
		t.Fatal("the swinging target was never re-reported: the test tests nothing")
	}
	if m := moved(settled, f.owners()); m != 0 {
		t.Fatalf("%d targets moved without a plan", m)
	}
}

// A uniform fleet is left to plain rendezvous hashing: no plan at all.
func TestUniformFleetGetsNoPlan(t *testing.T) {
	f := newSimFleet(2600, 0, 1, 5, 12)
	if n := f.replan(); n != 0 {
		t.Fatalf("%d plans for a uniform fleet, want none", n)
	}
}

// FuzzPlacementMessages feeds arbitrary bytes to the report, plan and
// push/pull state decoders: they must not panic, and what they accept
// must survive a round trip. Seeds are in testdata/fuzz.
func FuzzPlacementMessages(f *testing.F) {
	f.Add(buildReport("n", 1, []loadEntry{{5, 500}, {3, 1}}).encode())
	f.Add((&plan{planner: "a", version: 1, at: 2, names: []string{"a"}, weights: []uint32{1}, pins: []pin{{key: 4, load: 9}}}).encode())
	f.Add([]byte{stateMagic, 1, 3, reportMagic, 0, 0})
	n := &Node{enabled: true, cfg: Config{Placement: PlacementSeries}, peers: map[string]*peer{}, now: time.Now}
	n.place.reports = map[string]*loadReport{}
	f.Fuzz(func(t *testing.T, b []byte) {
		n.placementMergeState(b)
		if r, err := decodeReport(b); err == nil {
			if got, err := decodeReport(r.encode()); err != nil || !reflect.DeepEqual(got, r) {
				t.Fatalf("report round trip: %+v %v", got, err)
			}
		}
		if p, err := decodePlan(b); err == nil {
			if got, err := decodePlan(p.encode()); err != nil || !reflect.DeepEqual(got, p) {
				t.Fatalf("plan round trip: %+v %v", got, err)
			}
		}
	})
}

// BenchmarkOwnershipRecomputeWeighted100kTargets100Nodes is
// BenchmarkOwnershipRecompute100kTargets100Nodes under a placement plan:
// every (key, node) pair pays the fixed-point -log2 and a multiplication.
func BenchmarkOwnershipRecomputeWeighted100kTargets100Nodes(b *testing.B) {
	keys := sortedKeys(100_000)
	f := newSimFleet(100_000, 1, 500, 100, 1)
	f.replan()
	e := viewOf("shoal-0", names(100)).at(0)
	e.place = newPlacement(f.plan, e.names)
	b.ResetTimer()
	for b.Loop() {
		computeOwnership(e, keys)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/recompute")
}

func BenchmarkOwnsWeighted100Nodes(b *testing.B) {
	f := newSimFleet(100_000, 1, 500, 100, 1)
	f.replan()
	n := &Node{enabled: true}
	v := viewOf("shoal-0", names(100))
	v.epochs[0].place = newPlacement(f.plan, v.epochs[0].names)
	n.view.Store(v)
	keys := randomKeys(1024)
	now := time.Now().UnixMilli()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		n.Owns(keys[i&1023], now)
		i++
	}
}

// Nodes that hold the same plans, received in any order, split their
// epochs at the same ticks and name the same owner for every key at
// every tick: the order of plans is total (at, then version, then
// planner). A plan boundary is a boundary at which a node may lose keys,
// so it flushes its deliveries there as at a join.
func TestPlansGovernAlikeInAnyOrder(t *testing.T) {
	f := newSimFleet(2600, 1, 500, 5, 3)
	f.replan()
	p1 := f.plan
	p2 := *p1
	p2.planner, p2.version, p2.at = "node-001", p1.version+1, p1.at // same tick, newer version
	p3 := *p1
	p3.at = p1.at + 5000
	p3.weights = slices.Clone(p1.weights)
	p3.weights[0] *= 3
	cands := candidatesOf(f.nodes)
	orders := [][]*plan{{p1, &p2, &p3}, {&p3, &p2, p1}, {&p2, &p3, p1}}
	var views []*view
	for _, o := range orders {
		views = append(views, buildView("node-000", slices.Clone(cands), o...))
	}
	for _, tick := range []int64{p1.at - 1, p1.at, p3.at - 1, p3.at, p3.at + 1} {
		want := views[0].at(tick)
		if tick >= p1.at && want.planOf() == nil {
			t.Fatalf("tick %d: no plan governs", tick)
		}
		for i, v := range views[1:] {
			e := v.at(tick)
			for _, k := range f.keys {
				if a, b := want.ownerName(k), e.ownerName(k); a != b {
					t.Fatalf("order %d, tick %d, key %x: owner %q, want %q", i+1, tick, k, b, a)
				}
			}
		}
	}
	if got := views[0].at(p1.at).planOf(); got != &p2 {
		t.Fatalf("at the shared tick the plan of version %d governs, want the newer %d", got.version, p2.version)
	}
	v := views[0]
	if i := v.index(p3.at); !v.losesAt(i) {
		t.Fatal("a plan boundary is not one at which the node may lose keys: it would not flush its deliveries")
	}
}
