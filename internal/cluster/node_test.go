package cluster

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestDisabledClusteringOwnsEverythingAndListsOnlyItself(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NodeName = "solo"
	n, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Enabled() || !n.Owns(42, 0) || n.Hold(42, 0) != nil || n.Changes() != nil || !n.Ready() {
		t.Error("a node with clustering disabled does not behave like one running alone")
	}
	if got := n.OwnerOf(42, 0); got != "solo" {
		t.Errorf("OwnerOf = %q, want the node itself", got)
	}
	peers := n.Peers()
	if len(peers) != 1 || peers[0].Name != "solo" || !peers[0].Self {
		t.Errorf("Peers() = %+v, want just this node", peers)
	}
	n.SetTargets("prometheus.scrape.x", []uint64{3, 1, 2})
	if got := n.OwnershipTable("prometheus.scrape.x").Count("solo"); got != 3 {
		t.Errorf("the table gives the node %d of 3 targets", got)
	}
	rec := httptest.NewRecorder()
	n.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, messagePath, nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("gossip route answers %d with clustering disabled, want 404", rec.Code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestWaitForSizeGatesReadinessNotOwnership(t *testing.T) {
	now := time.Now()
	clk := &fakeClock{t: now}
	n := offlineNode(t, "a", clk, func(c *Config) { c.WaitForSize = 2; c.WaitTimeout = 10 * time.Second })
	if n.Ready() {
		t.Fatal("a viewer is ready")
	}
	participate(n, now.Add(-time.Minute))
	if n.Ready() {
		t.Fatal("ready with 1 participant of the 2 required")
	}
	if !n.Owns(42, now.UnixMilli()) {
		t.Error("below the minimum size the node owns nothing; it should still scrape its share")
	}
	clk.Set(now.Add(10 * time.Second))
	if !n.Ready() {
		t.Error("not ready after the wait timeout passed")
	}
	clk.Set(now)
	m := offlineNode(t, "b", clk, func(c *Config) { c.WaitForSize = 2 })
	participate(m, now.Add(-time.Minute))
	if m.Ready() {
		t.Fatal("ready below the minimum without a timeout")
	}
	feed(m, "a", record{State: Participant, Since: now.UnixMilli()})
	if !m.Ready() {
		t.Error("not ready with 2 participants")
	}
}

func TestSkewedPeerClockKeepsANodeAViewer(t *testing.T) {
	skewed := func(c *Config, o *Options) { o.Now = func() time.Time { return time.Now().Add(10 * time.Second) } }
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()), skewed)
	eventually(t, 10*time.Second, "a to measure b's clock", func() bool {
		p, _ := peerByName(a.Node, "b")
		return p.ClockOffsetKnown
	})
	if p, _ := peerByName(a.Node, "b"); p.ClockOffset < 9*time.Second || p.ClockOffset > 11*time.Second {
		t.Errorf("a estimates b's clock %s off, want about 10s", p.ClockOffset)
	}
	a.SetReady()
	eventually(t, 5*time.Second, "a to report why it stays a viewer", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.viewerReason != "" && a.skewOut
	})
	if st := a.Self().State; st != Viewer {
		t.Errorf("a is %s with a peer 10s off and Δ=1s, want viewer", st)
	}
	_ = b
}

func TestNodeDeclaredDeadReentersParticipantWithANewSince(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	readyAll(t, a, b)
	before := b.Self().Since
	b.stalled.Store(true) // a can no longer reach b
	// b can still reach a: finding itself in a minority of the fleet it
	// remembers, it rejoins a, which refutes a's suspicion, at once and
	// then 2, 4, 8 and 16 s later. a declares b dead in one of the longer
	// gaps, so the wait covers them.
	eventually(t, 40*time.Second, "a to declare b dead", func() bool { return sees(a.Node, "a") })
	if b.stalled.Swap(false) {
		close(b.stall)
	}
	eventually(t, 20*time.Second, "b to learn it was declared dead and re-enter", func() bool {
		s := b.Self()
		return s.State == Participant && s.Since.After(before)
	})
	eventually(t, 10*time.Second, "a to see b back with its new since", func() bool {
		p, ok := peerByName(a.Node, "b")
		return ok && p.Alive && p.Since.Equal(b.Self().Since)
	})
	// Whoever re-entered, every key still has exactly one owner.
	for _, n := range []*tnode{a, b} {
		eventually(t, 10*time.Second, n.name+" to see both alive", func() bool { return sees(n.Node, "a", "b") })
	}
	waitSame(t, []*tnode{a, b})
	checkSplit(t, []*tnode{a, b}, randomKeys(1000), time.Now().UnixMilli())
	if got := metricValue(b.metrics.refutations); got < 1 {
		t.Errorf("shoal_cluster_declared_dead_total = %v", got)
	}
}

// waitSame waits until the nodes compute the same eligibility epochs.
func waitSame(t *testing.T, nodes []*tnode) {
	t.Helper()
	eventually(t, 10*time.Second, "the nodes to agree on eligibility", func() bool {
		for _, n := range nodes[1:] {
			if !sameView(n.view.Load(), nodes[0].view.Load()) {
				return false
			}
		}
		return true
	})
}

func TestNewerRecordWinsWhicheverPathBringsIt(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := offlineNode(t, "a", clk)
	feed(n, "b", record{State: Viewer, Since: 1000})
	rec, _ := (&record{State: Participant, Since: 2000}).encode(nil, maxMetaSize)
	(&delegate{n: n}).NotifyMsg(announcement("b", rec))
	if got := stateOf(n, "b"); got != Participant {
		t.Fatalf("b is %s after its announcement, want participant", got)
	}
	feed(n, "b", record{State: Viewer, Since: 1000}) // gossip lagging behind
	if got := stateOf(n, "b"); got != Participant {
		t.Errorf("a stale gossiped record replaced the announced one: b is %s", got)
	}
	feed(n, "b", record{State: Terminating, Since: 3000, Joined: 2000})
	if got := stateOf(n, "b"); got != Terminating {
		t.Errorf("b is %s after a newer gossiped record, want terminating", got)
	}
	(&delegate{n: n}).NotifyMsg(announcement("b", rec))
	if got := stateOf(n, "b"); got != Terminating {
		t.Errorf("an old announcement replaced a newer record: b is %s", got)
	}
}

// A peer back in the life it had when it was declared dead is not
// eligible until it publishes a new since; a peer back in a new life (a
// restart, which starts with a new since) is eligible from that since + Δ
// like any joining node, without waiting out the revival's 2Δ, which would
// leave its targets to the others while it scrapes them too.
func TestRevivalSuppressesOnlyTheSameLife(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := offlineNode(t, "a", clk)
	participate(n, clk.Now().Add(-time.Minute))
	old := clk.Now().Add(-30 * time.Second).UnixMilli()
	eligibleNow := func(name string) bool {
		return slices.Contains(n.view.Load().at(clk.Now().UnixMilli()).names, name)
	}

	feed(n, "b", record{State: Participant, Since: old})
	if !eligibleNow("b") {
		t.Fatal("b is not eligible before it was declared dead")
	}
	gone(n, "b")
	feed(n, "b", record{State: Participant, Since: old})
	if eligibleNow("b") {
		t.Error("b, back in the life it had when declared dead, is eligible before publishing a new since")
	}

	gone(n, "b")
	restart := clk.Now().UnixMilli()
	feed(n, "b", record{State: Participant, Since: restart})
	clk.Set(clk.Now().Add(time.Duration(n.delta) * time.Millisecond))
	n.rebuild()
	if !eligibleNow("b") {
		t.Error("b, back with a new since after a restart, is not eligible at since + Δ")
	}
}
