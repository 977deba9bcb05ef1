package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/lab"
)

// TestRollingRestartOfAChainJoinedFleet restarts, one by one, a fleet whose
// node 0 has no join address and whose node i joins node i-1 (a
// docker-compose or VM fleet), with the default rejoin interval. The
// restarted seed must find its fleet again from the peers it remembers
// instead of forming a cluster of one that scrapes everything until the
// next rejoin (60s): no tick is missed, doubled or out of order.
func TestRollingRestartOfAChainJoinedFleet(t *testing.T) {
	rollingRestart(t, "rolling-chain", lab.JoinChain)
}

// TestRollingRestartOfASeedJoinedFleet is the same with every node joining
// node 0.
func TestRollingRestartOfASeedJoinedFleet(t *testing.T) {
	rollingRestart(t, "rolling-seed", lab.JoinSeed)
}

func rollingRestart(t *testing.T, name string, topology lab.JoinTopology) {
	long(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Progress: testWriter{t},
		Fleet: func(c *lab.FleetConfig) {
			c.Join = topology
			c.RejoinInterval = cluster.DefaultRejoinInterval
		},
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	defer func() {
		if t.Failed() {
			t.Logf("node logs:\n%s", rig.Fleet.Logs(60))
		}
	}()
	converge := func(what string, d time.Duration) error {
		cctx, ccancel := context.WithTimeout(ctx, d)
		defer ccancel()
		t.Logf("waiting for the fleet to converge %s", what)
		return rig.WaitConverged(cctx)
	}
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := converge("at start", 45*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(rig.Opts.Interval) // the window opens on a steady split
	from := time.Now()
	for _, n := range rig.Fleet.Nodes() {
		t.Logf("restarting %s", n.Name)
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		err := n.Restart(sctx)
		if err == nil {
			err = n.WaitReady(sctx)
		}
		scancel()
		if err != nil {
			t.Fatal(err)
		}
		// Longer than the rejoin interval, so that a split fleet still
		// merges and the figures say how much it cost.
		if err := converge("after restarting "+n.Name, cluster.DefaultRejoinInterval+20*time.Second); err != nil {
			t.Errorf("after restarting %s: %v", n.Name, err)
		}
	}
	time.Sleep(rig.Opts.Observe / 2) // the fleet runs on after the last restart
	to := time.Now()
	rig.WaitDelivered(ctx, to)
	rep := rig.Report(ctx, name, from, to)
	t.Logf("figures:\n%s", rep)
	expectZero(t, rep, "missed", "doubled", "out-of-order", "duplicates")
	if rep.Expected == 0 {
		t.Fatal("no tick was expected: the window is empty")
	}
}
