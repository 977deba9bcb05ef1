package cluster

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bootstrapped marks an offline node as having completed bootstrap and
// asks it to participate.
func readyOffline(n *Node) {
	n.mu.Lock()
	n.bootstrapped, n.readyRequested = true, true
	n.mu.Unlock()
}

func TestViewerMeasuresItsPeersClocksBeforeParticipating(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := offlineNode(t, "a", clk)
	feed(n, "b", record{State: Participant, Since: clk.Now().Add(-time.Minute).UnixMilli()})
	feed(n, "c", record{State: Participant, Since: clk.Now().Add(-time.Minute).UnixMilli()})
	readyOffline(n)
	n.tryParticipate()
	if st := n.Self().State; st != Viewer {
		t.Fatalf("a node that measured none of its peers' clocks is %s, want viewer", st)
	}
	if note := n.Self().Note; !strings.Contains(note, "measuring") {
		t.Errorf("Self().Note = %q, want it to say the clocks are being measured", note)
	}
	n.observeClock("b", 10*time.Millisecond, time.Millisecond)
	n.tryParticipate()
	if st := n.Self().State; st != Viewer {
		t.Fatalf("a node that measured one of two peers is %s, want viewer", st)
	}
	n.observeClock("c", -20*time.Millisecond, time.Millisecond)
	n.tryParticipate()
	if st := n.Self().State; st != Participant {
		t.Fatalf("a node whose peers' clocks agree is %s, want participant", st)
	}

	// A peer that never answers a clock probe holds a node back for
	// clockMeasureWait only.
	m := offlineNode(t, "x", clk)
	feed(m, "old", record{State: Participant, Since: clk.Now().Add(-time.Minute).UnixMilli()})
	readyOffline(m)
	m.tryParticipate()
	if st := m.Self().State; st != Viewer {
		t.Fatalf("%s before any measurement, want viewer", st)
	}
	clk.Set(clk.Now().Add(clockMeasureWait))
	m.tryParticipate()
	if st := m.Self().State; st != Participant {
		t.Errorf("%s after clockMeasureWait with a peer that never answers, want participant", st)
	}
}

func TestClockSkewRuleKeepsTheOutlierOut(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	long := clk.Now().Add(-time.Minute).UnixMilli()
	// A joining node 10s off two participants stays out; one that agrees
	// with both joins although a third peer, a viewer, is off.
	n := offlineNode(t, "j", clk)
	feed(n, "a", record{State: Participant, Since: long})
	feed(n, "b", record{State: Participant, Since: long})
	feed(n, "skewed", record{State: Viewer, Since: long})
	readyOffline(n)
	n.observeClock("a", 10*time.Second, time.Millisecond)
	n.observeClock("b", 10*time.Second, time.Millisecond)
	n.tryParticipate()
	if st := n.Self().State; st != Viewer {
		t.Fatalf("a node 10s off both participants is %s, want viewer", st)
	}
	if got := metricValue(n.metrics.skewExcluded); got != 1 {
		t.Errorf("shoal_cluster_clock_skew_excluded = %v, want 1", got)
	}
	n.observeClock("a", 0, 0)
	n.observeClock("b", 0, 0)
	n.observeClock("skewed", 10*time.Second, 0)
	n.tryParticipate()
	if st := n.Self().State; st != Participant {
		t.Fatalf("a node agreeing with both participants is %s, want participant", st)
	}
	if got := metricValue(n.metrics.skewExcluded); got != 0 {
		t.Errorf("shoal_cluster_clock_skew_excluded = %v after participating, want 0", got)
	}

	// Among participants, only the one off the majority steps back.
	good := offlineNode(t, "good", clk)
	participate(good, clk.Now().Add(-time.Minute))
	feed(good, "a", record{State: Participant, Since: long})
	feed(good, "c", record{State: Participant, Since: long})
	good.observeClock("a", 0, 0)
	good.observeClock("c", 10*time.Second, 0)
	good.checkClock()
	if st := good.Self().State; st != Participant {
		t.Errorf("a node off one peer of two is %s, want participant", st)
	}
	bad := offlineNode(t, "c", clk)
	participate(bad, clk.Now().Add(-time.Minute))
	feed(bad, "a", record{State: Participant, Since: long})
	feed(bad, "good", record{State: Participant, Since: long})
	bad.observeClock("a", -10*time.Second, 0)
	bad.observeClock("good", -10*time.Second, 0)
	bad.checkClock()
	if st := bad.Self().State; st != Terminating {
		t.Fatalf("a node off both peers is %s, want terminating (handing its targets over)", st)
	}
	// Two nodes that disagree cannot tell whose clock is wrong: neither
	// steps back.
	pair := offlineNode(t, "p", clk)
	participate(pair, clk.Now().Add(-time.Minute))
	feed(pair, "q", record{State: Participant, Since: long})
	pair.observeClock("q", 10*time.Second, 0)
	pair.checkClock()
	if st := pair.Self().State; st != Participant {
		t.Errorf("one of two disagreeing nodes is %s, want participant", st)
	}
}

// TestSkewedParticipantStepsBackAndReturns runs three nodes; c's clock is
// set 10s ahead while it participates. It steps back, saying why, its
// peers take its targets, and it participates again once its clock is
// back.
func TestSkewedParticipantStepsBackAndReturns(t *testing.T) {
	var skew atomic.Int64
	clock := func(_ *Config, o *Options) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	}
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()), clock)
	readyAll(t, a, b, c)

	skew.Store(int64(10 * time.Second))
	eventually(t, 30*time.Second, "c to step back to viewer", func() bool { return c.Self().State == Viewer })
	if note := c.Self().Note; !strings.Contains(note, "clock") {
		t.Errorf("c's Self().Note = %q, want the reason it stepped back", note)
	}
	if got := metricValue(c.metrics.skewStepBacks); got != 1 {
		t.Errorf("shoal_cluster_clock_skew_step_backs_total = %v, want 1", got)
	}
	if got := metricValue(c.metrics.skewExcluded); got != 1 {
		t.Errorf("shoal_cluster_clock_skew_excluded = %v, want 1", got)
	}
	for _, n := range []*tnode{a, b} {
		if st := n.Self().State; st != Participant {
			t.Errorf("%s is %s; only the skewed node should step back", n.name, st)
		}
		eventually(t, 10*time.Second, n.name+" to see c as a viewer", func() bool {
			p, _ := peerByName(n.Node, "c")
			return p.State == Viewer
		})
	}
	split := checkSplit(t, []*tnode{a, b}, randomKeys(1000), time.Now().UnixMilli())
	if split["a"]+split["b"] != 1000 {
		t.Errorf("a and b own %d of 1000 keys while c is out", split["a"]+split["b"])
	}

	skew.Store(0)
	eventually(t, 30*time.Second, "c to participate again", func() bool { return c.Self().State == Participant })
	if got := metricValue(c.metrics.skewExcluded); got != 0 {
		t.Errorf("shoal_cluster_clock_skew_excluded = %v after c returned, want 0", got)
	}
	waitSame(t, []*tnode{a, b, c})
}
