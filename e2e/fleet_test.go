package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestOtherClusterNameTakesNoTargets starts a fleet named fleet-a and a node
// named fleet-b that joins fleet-a's addresses: the names keep them apart,
// so fleet-a never sees the stranger and still splits every target between
// its own two nodes.
func TestOtherClusterNameTakesNoTargets(t *testing.T) {
	long(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Targets:  60,
		Progress: testWriter{t},
		Fleet:    func(c *lab.FleetConfig) { c.ClusterName = "fleet-a" },
	}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	var joinA []string
	for _, n := range rig.Fleet.Nodes() {
		joinA = append(joinA, n.Addr)
	}
	stranger, err := lab.StartFleet(ctx, lab.FleetConfig{
		NamePrefix:  "stranger",
		ClusterName: "fleet-b",
		Config:      func(string) string { return rig.Config() },
		Flags:       func(string) []string { return []string{"--cluster.join-addresses=" + strings.Join(joinA, ",")} },
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if err := stranger.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, stranger.Logs(30))
	}

	// Let gossip run a while: a merge, if it happened, would show by now.
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	if err := rig.WaitConverged(cctx); err != nil {
		t.Fatalf("%v\n%s", err, rig.Fleet.Logs(30))
	}
	for range 5 {
		for _, n := range rig.Fleet.Running() {
			peers, err := n.Peers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range peers {
				if strings.HasPrefix(p.Name, "stranger") {
					t.Fatalf("%s of fleet-a lists %s of fleet-b as a peer", n.Name, p.Name)
				}
			}
		}
		owners := rig.CurrentOwners(ctx)
		if overlap, uncovered := rig.Split(owners); len(overlap)+len(uncovered) > 0 {
			t.Fatalf("fleet-a's split broke: %d targets on two nodes, %d on none", len(overlap), len(uncovered))
		}
		time.Sleep(rig.Opts.Interval) // observing a steady state over time, not synchronising
	}
	peers, err := stranger.Nodes()[0].Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 {
		t.Errorf("the fleet-b node sees %d peers, want only itself: %+v", len(peers), peers)
	}
}

// TestConfigDriftIsReported gives one node a different scrape timeout: the
// fleet reports the drift in shoal_cluster_config_drift.
func TestConfigDriftIsReported(t *testing.T) {
	long(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Targets:  30,
		Progress: testWriter{t},
		Config: func(r *lab.Rig, node string) string {
			cfg := r.Config()
			if node == "node-0" {
				cfg = strings.Replace(cfg, `scrape_timeout  = "1s"`, `scrape_timeout  = "900ms"`, 1)
			}
			return cfg
		},
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	var last string
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	err = lab.WaitFor(wctx, func() bool {
		var parts []string
		drift := false
		for _, n := range rig.Fleet.Running() {
			v, found, err := n.Metric(ctx, "shoal_cluster_config_drift")
			switch {
			case err != nil:
				parts = append(parts, n.Name+": "+err.Error())
			case !found:
				parts = append(parts, n.Name+"=absent")
			default:
				parts = append(parts, n.Name+"="+strconv.FormatFloat(v, 'g', -1, 64))
				drift = drift || v > 0
			}
		}
		last = strings.Join(parts, " ")
		return drift
	})
	if err != nil {
		t.Fatalf("no node reports the drift in shoal_cluster_config_drift (last: %s): %v\n%s", last, err, rig.Fleet.Logs(30))
	}
}
