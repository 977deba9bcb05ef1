package cluster

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

func TestNodesJoinAndConverge(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	for _, n := range []*tnode{a, b, c} {
		eventually(t, 10*time.Second, n.name+" to see a, b and c", func() bool { return sees(n.Node, "a", "b", "c") })
	}
}

func stateOf(n *Node, name string) State {
	p, _ := peerByName(n, name)
	return p.State
}

func TestStatesAreVisibleToPeers(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	eventually(t, 10*time.Second, "a to see b", func() bool { return sees(a.Node, "a", "b") })
	if got := stateOf(a.Node, "b"); got != Viewer {
		t.Fatalf("a node that has not called SetReady shows as %s, want viewer", got)
	}
	b.SetReady()
	eventually(t, 10*time.Second, "a to see b as participant", func() bool { return stateOf(a.Node, "b") == Participant })
	if p, _ := peerByName(a.Node, "b"); !p.Since.Equal(b.Self().Since) {
		t.Errorf("a sees b participating since %s, b says %s", p.Since, b.Self().Since)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	left := make(chan error, 1)
	go func() { left <- b.Leave(ctx) }()
	eventually(t, 10*time.Second, "a to see b as terminating", func() bool { return stateOf(a.Node, "b") == Terminating })
	if err := <-left; err != nil {
		t.Fatal(err)
	}
	b.shutdown()
	eventually(t, 10*time.Second, "a to see b gone", func() bool { return sees(a.Node, "a") })
}

// readyAll makes every node a participant and waits until each sees all of
// them eligible.
func readyAll(t *testing.T, nodes ...*tnode) {
	t.Helper()
	for _, n := range nodes {
		n.SetReady()
	}
	for _, n := range nodes {
		eventually(t, 15*time.Second, n.name+" to see every node eligible", func() bool {
			count := 0
			for _, p := range n.Peers() {
				if p.Alive && p.Eligible {
					count++
				}
			}
			return count == len(nodes)
		})
	}
}

func randomKeys(n int) []uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = r.Uint64()
	}
	return keys
}

// checkSplit asserts that at tick t every key has exactly one owner among
// nodes, and that every node names that same owner. It returns the number
// of keys each node owns.
func checkSplit(t *testing.T, nodes []*tnode, keys []uint64, tick int64) map[string]int {
	t.Helper()
	counts := map[string]int{}
	bad := 0
	for _, k := range keys {
		owners := 0
		var owner string
		for _, n := range nodes {
			if n.Owns(k, tick) {
				owners++
				owner = n.name
			}
		}
		for _, n := range nodes {
			if got := n.OwnerOf(k, tick); got != owner {
				if bad < 5 {
					t.Errorf("tick %d key %x: %s says the owner is %q, but %q scrapes it", tick, k, n.name, got, owner)
				}
				bad++
			}
		}
		if owners != 1 {
			if bad < 5 {
				t.Errorf("tick %d key %x: %d nodes own it, want exactly 1", tick, k, owners)
			}
			bad++
		}
		counts[owner]++
	}
	if bad > 0 {
		t.Fatalf("tick %d: %d ownership errors over %d keys", tick, bad, len(keys))
	}
	return counts
}

// waitBoundary waits until every node knows that the eligible set changes
// at tick h.
func waitBoundary(t *testing.T, nodes []*tnode, h int64) {
	t.Helper()
	for _, n := range nodes {
		eventually(t, 10*time.Second, n.name+" to learn of the handoff", func() bool { return n.NextChange(h-1) == h })
	}
}

func TestOwnershipIsExactAcrossJoinAndLeave(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	readyAll(t, a, b, c)
	keys := randomKeys(1000)
	nodes := []*tnode{a, b, c}
	checkSplit(t, nodes, keys, time.Now().UnixMilli())

	// Join: d owns its share from exactly since+Δ, and the others stop
	// at that same tick.
	d := startNode(t, "d", withJoin(b.addr()))
	d.SetReady()
	eventually(t, 10*time.Second, "d to participate", func() bool { return d.Self().State == Participant })
	h := d.Self().Since.UnixMilli() + d.delta
	nodes = append(nodes, d)
	waitBoundary(t, nodes, h)
	before := checkSplit(t, nodes, keys, h-1)
	after := checkSplit(t, nodes, keys, h)
	if before["d"] != 0 {
		t.Errorf("d owns %d keys at the tick before its handoff, want 0", before["d"])
	}
	if after["d"] < 150 || after["d"] > 350 {
		t.Errorf("d owns %d of 1000 keys from its handoff tick on, want about 250", after["d"])
	}

	// Leave: c keeps its share for every tick before s+Δ.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	left := make(chan error, 1)
	go func() { left <- c.Leave(ctx) }()
	eventually(t, 10*time.Second, "c to terminate", func() bool { return c.Self().State == Terminating })
	h2 := c.Self().Since.UnixMilli() + c.delta
	waitBoundary(t, nodes, h2)
	before = checkSplit(t, nodes, keys, h2-1)
	after = checkSplit(t, nodes, keys, h2)
	if before["c"] < 150 {
		t.Errorf("terminating c owns %d keys before s+Δ, want its share", before["c"])
	}
	if after["c"] != 0 {
		t.Errorf("c owns %d keys from s+Δ on, want 0", after["c"])
	}
	if err := <-left; err != nil {
		t.Fatal(err)
	}
	c.shutdown()
	rest := []*tnode{a, b, d}
	for _, n := range rest {
		eventually(t, 10*time.Second, n.name+" to see c gone", func() bool { return sees(n.Node, "a", "b", "d") })
	}
	checkSplit(t, rest, keys, time.Now().UnixMilli())
}

func TestCrashedNodeIsDeclaredDeadAndItsKeysTaken(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	readyAll(t, a, b, c)
	keys := randomKeys(1000)
	if got := checkSplit(t, []*tnode{a, b, c}, keys, time.Now().UnixMilli()); got["c"] == 0 {
		t.Fatal("c owns nothing before the crash")
	}
	crashed := time.Now()
	c.crash()
	for _, n := range []*tnode{a, b} {
		eventually(t, 10*time.Second, n.name+" to declare c dead", func() bool { return sees(n.Node, "a", "b") })
	}
	t.Logf("c declared dead by both after %s", time.Since(crashed).Round(10*time.Millisecond))
	got := checkSplit(t, []*tnode{a, b}, keys, time.Now().UnixMilli())
	if got["a"]+got["b"] != len(keys) {
		t.Errorf("a and b own %d keys after c died, want all %d", got["a"]+got["b"], len(keys))
	}
}

func TestNodeRestartedAtNewAddressRejoinsUnderItsName(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	readyAll(t, a, b, c)
	oldAddr := c.AdvertiseAddr()
	c.crash()
	c2 := startNode(t, "c", withJoin(a.addr(), b.addr()))
	if c2.AdvertiseAddr() == oldAddr {
		t.Fatal("the restarted node got the old address; the test needs a new one")
	}
	c2.SetReady()
	for _, n := range []*tnode{a, b} {
		eventually(t, 20*time.Second, n.name+" to see c at its new address", func() bool {
			p, ok := peerByName(n.Node, "c")
			return ok && p.Alive && p.Addr == c2.AdvertiseAddr() && p.State == Participant
		})
	}
	eventually(t, 10*time.Second, "c to see a and b", func() bool { return sees(c2.Node, "a", "b", "c") })
}

func TestDifferentClusterNamesNeverMerge(t *testing.T) {
	named := func(name string) nodeOpt { return func(c *Config, _ *Options) { c.Name = name } }
	a := startNode(t, "a", named("blue"))
	b := startNode(t, "b", named("green"), withJoin(a.addr()))
	b.SetReady()
	eventually(t, 15*time.Second, "b to give up joining and participate alone", func() bool { return b.Self().State == Participant })
	if got := alivePeers(a.Node); len(got) != 1 {
		t.Errorf("a (cluster blue) sees %v, want only itself", got)
	}
	if got := alivePeers(b.Node); len(got) != 1 {
		t.Errorf("b (cluster green) sees %v, want only itself", got)
	}
}

func TestBootstrapWaitsForJoinAddressesUntilTimeout(t *testing.T) {
	// A join address nobody listens on.
	dead := startNode(t, "dead")
	deadAddr := dead.addr()
	dead.crash()

	start := time.Now()
	n := startNode(t, "lonely", withJoin(deadAddr))
	n.SetReady()
	if st := n.Self().State; st != Viewer {
		t.Fatalf("a node whose join addresses do not answer is %s right away, want viewer", st)
	}
	eventually(t, 15*time.Second, "the node to participate after the bootstrap timeout", func() bool { return n.Self().State == Participant })
	if since := n.Self().Since; since.Before(start.Add(n.cfg.BootstrapTimeout)) {
		t.Errorf("participant since %s, before the bootstrap timeout ended at %s", since, start.Add(n.cfg.BootstrapTimeout))
	}
}

func TestBootstrapEndsAtFirstSuccessfulJoin(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	b.SetReady()
	eventually(t, 10*time.Second, "b to participate", func() bool { return b.Self().State == Participant })
	// The join's state merge reaches b's peer list through memberlist's
	// callbacks, which may land just after the join returns (seen under
	// -race); b must see a well within Δ.
	eventually(t, b.cfg.HandoffDelay, "b to see a", func() bool { return sees(b.Node, "a", "b") })
}

func TestStalledPeerDoesNotStallGossipAmongTheOthers(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	for _, n := range []*tnode{a, b, c} {
		eventually(t, 10*time.Second, n.name+" to converge", func() bool { return sees(n.Node, "a", "b", "c") })
	}
	c.stalled.Store(true)
	b.SetReady()
	eventually(t, 5*time.Second, "a to see b participate while c stalls", func() bool { return stateOf(a.Node, "b") == Participant })
}

func TestCrashedProcessIsTakenOverWhenItsAddressRefuses(t *testing.T) {
	// Memberlist is made slow here: a probe a second, each peer probed
	// every other second, but a suspicion of at least 8s, so it cannot
	// declare c dead within 9s of the crash. Only the refused probes can
	// explain a takeover before that.
	slow := func(c *Config, _ *Options) {
		c.ProbeInterval = time.Second
		c.ProbeTimeout = 500 * time.Millisecond
		c.SuspicionMult = 8
	}
	a := startNode(t, "a", slow)
	b := startNode(t, "b", slow, withJoin(a.addr()))
	c := startNode(t, "c", slow, withJoin(a.addr()))
	readyAll(t, a, b, c)
	keys := randomKeys(1000)
	if got := checkSplit(t, []*tnode{a, b, c}, keys, time.Now().UnixMilli()); got["c"] == 0 {
		t.Fatal("c owns nothing before the crash")
	}
	c.crash() // its listener is closed: connections to it are refused
	for _, n := range []*tnode{a, b} {
		// n probes c within two probe intervals; the refused probe tells
		// n that c's process is gone.
		eventually(t, 6*time.Second, n.name+" to stop counting on c", func() bool {
			for _, k := range keys {
				if n.OwnerOf(k, time.Now().UnixMilli()) == "c" {
					return false
				}
			}
			return true
		})
	}
	if p, ok := peerByName(a.Node, "c"); !ok || !p.Alive {
		t.Fatal("memberlist already declared c dead; the test no longer shows the refused path")
	}
	got := checkSplit(t, []*tnode{a, b}, keys, time.Now().UnixMilli())
	if got["a"]+got["b"] != len(keys) {
		t.Errorf("a and b own %d keys after c's process died, want all %d", got["a"]+got["b"], len(keys))
	}
}
