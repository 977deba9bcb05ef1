// Package e2e runs shoal's cluster scenarios against real `shoal run`
// processes on loopback (and in network namespaces for a partition), with
// synthetic targets and a counting receiver from internal/lab (or, for
// remote write 2.0, Prometheus' own write handler over a TSDB), and checks
// the figures a user would check: scrapes missed and doubled, the largest
// gap, out-of-order rejects, staleness markers and the split of targets.
//
// Every scenario takes tens of seconds, so `go test -short` skips them.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/lab"
	"github.com/shoal-dev/shoal/internal/scrape"
)

// TestMain builds shoal once for every scenario of this process (unless
// $SHOAL_BIN names a binary).
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// Building is only worth it when a scenario will run.
	if !isShort() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		bin, err := lab.ShoalBinary(ctx)
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: cannot build shoal: %v\n", err)
			return 1
		}
		os.Setenv("SHOAL_BIN", bin)
	}
	return m.Run()
}

func isShort() bool {
	for _, a := range os.Args[1:] {
		if a == "-test.short" || a == "-test.short=true" {
			return true
		}
	}
	return false
}

func long(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping a fleet scenario in -short mode")
	}
}

// scenario runs one named scenario with the lab's defaults (3 nodes, 300
// targets, 2 s interval) changed by adjust, logs its figures, and hands
// them to check. On a failed check the nodes' logs are printed.
func scenario(t *testing.T, name string, adjust func(*lab.ScenarioOptions), check func(t *testing.T, r *lab.Rig, rep lab.Report)) {
	t.Helper()
	long(t)
	o := lab.ScenarioOptions{Progress: testWriter{t}}
	if adjust != nil {
		adjust(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	rig, err := lab.StartScenario(ctx, name, o)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	rep, err := rig.Run(ctx, name)
	if err != nil {
		t.Fatalf("%v\n%s", err, rig.Fleet.Logs(40))
	}
	t.Logf("figures:\n%s", rep)
	check(t, rig, rep)
	if t.Failed() {
		t.Logf("node logs:\n%s", rig.Fleet.Logs(40))
	}
}

// testWriter sends a scenario's progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

func expectZero(t *testing.T, rep lab.Report, figures ...string) {
	t.Helper()
	values := map[string]int{
		"missed":       rep.Missed,
		"doubled":      rep.Doubled,
		"out-of-order": rep.OutOfOrder,
		"duplicates":   rep.Duplicates,
		"stale":        rep.StaleMarkers,
	}
	for _, f := range figures {
		if v := values[f]; v != 0 {
			t.Errorf("%s: %d, want 0", f, v)
		}
	}
}

func TestSteadySplit(t *testing.T) {
	scenario(t, "split", nil, checkSplit)
}

// checkSplit is what a steady fleet must show: nothing missed, doubled or
// out of order, a disjoint and complete split that is balanced, every
// target on its grid tick, and debug info that matches the scrapes.
func checkSplit(t *testing.T, r *lab.Rig, rep lab.Report) {
	expectZero(t, rep, "missed", "doubled", "out-of-order", "duplicates", "stale")
	if rep.Expected == 0 {
		t.Fatal("no tick was expected: the window is empty")
	}
	if rep.Overlap != 0 || rep.Uncovered != 0 {
		t.Errorf("debug info: %d targets on two nodes, %d on none; want a disjoint, complete split", rep.Overlap, rep.Uncovered)
	}
	if len(rep.Nodes) != 3 || rep.Balance <= 0 {
		t.Errorf("balance not reported over 3 nodes: %v %.3f", rep.Nodes, rep.Balance)
	}
	// Rendezvous hashing of 300 targets over 3 nodes gives each node a
	// binomial share: mean 100, standard deviation 8.2. The largest of
	// three passes 128 (1.28) in about one run in a thousand, which a
	// run of every scenario did meet; past 1.35 (4.3 deviations, about
	// one in 30,000) the hash is broken.
	if rep.Balance > 1.35 {
		t.Errorf("balance %.3f: the largest node holds far more than its share", rep.Balance)
	}
	// Every target is scraped at its place on the grid, key mod
	// interval, whichever node scrapes it: at most 250ms after its
	// tick, or up to the wake quantum (50ms, at most a tenth of the
	// interval) before it.
	ivl := rep.Interval.Milliseconds()
	early := min(50, ivl/10)
	for _, tf := range rep.PerTarget {
		lbls := labels.FromStrings("__address__", tf.Addr, "lab_kind", "normal", "__meta_filepath", r.Targets.FileSD())
		want := int64(scrape.Key(lbls, nil) % uint64(ivl))
		late := (tf.Offset - want + ivl) % ivl
		if late > ivl/2 {
			late -= ivl // before the tick
		}
		if late > 250 || late < -early {
			t.Errorf("%s is scraped %d ms into each interval, %d ms after its grid tick at %d ms", tf.Addr, tf.Offset, late, want)
		}
	}
	// Equal configs show no drift (the drift test shows the opposite).
	for _, n := range r.Fleet.Running() {
		if v, found, err := n.Metric(context.Background(), "shoal_cluster_config_drift"); err != nil || !found || v != 0 {
			t.Errorf("%s: shoal_cluster_config_drift = %v (found %v, %v), want 0 in a fleet of equal configs", n.Name, v, found, err)
		}
	}
	// What the nodes say they scrape is what the targets saw.
	seen := lab.Assignments(r.Targets.Log(), rep.From, rep.To)
	owners, err := r.Owners(context.Background())
	if err != nil {
		t.Fatalf("the split cannot be compared across nodes, debug info is unreadable: %v", err)
	}
	for node, addrs := range owners {
		for _, a := range addrs {
			if seen[a] != node {
				t.Errorf("%s lists %s in its debug info, but %q scraped it", node, a, seen[a])
			}
		}
	}
}

func TestCrash(t *testing.T) {
	scenario(t, "crash", nil, func(t *testing.T, r *lab.Rig, rep lab.Report) {
		expectZero(t, rep, "out-of-order", "doubled")
		limit := 2*rep.Interval + 500*time.Millisecond
		if rep.LargestGap > limit {
			t.Errorf("largest gap %s after kill -9, want at most %s", rep.LargestGap, limit)
		}
	})
}

func TestRollingRestart(t *testing.T) {
	scenario(t, "rolling", nil, func(t *testing.T, r *lab.Rig, rep lab.Report) {
		expectZero(t, rep, "missed", "doubled", "out-of-order", "duplicates", "stale")
	})
}

func TestScaleUp(t *testing.T) {
	scenario(t, "scaleup", nil, checkHandoff)
}

func TestScaleDown(t *testing.T) {
	scenario(t, "scaledown", nil, checkHandoff)
}

// checkHandoff is what a join or a leave must show: no tick missed,
// doubled or out of order, and no more targets moved than had to.
func checkHandoff(t *testing.T, r *lab.Rig, rep lab.Report) {
	expectZero(t, rep, "missed", "doubled", "out-of-order")
	checkMoved(t, rep)
}

// TestModuleScrape runs the split, a join and a leave with the clustered
// prometheus.scrape defined inside a declare block and instantiated once,
// as the k8s-monitoring Helm chart writes it: the figures must be those of
// the flat config, since the component's ID (the module's, then its own)
// comes from the config and is the same on every node.
func TestModuleScrape(t *testing.T) {
	module := func(o *lab.ScenarioOptions) { o.Module = true }
	for _, tc := range []struct {
		scenario string
		check    func(*testing.T, *lab.Rig, lab.Report)
	}{
		{"split", checkSplit},
		{"scaleup", checkHandoff},
		{"scaledown", checkHandoff},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			scenario(t, tc.scenario, module, func(t *testing.T, r *lab.Rig, rep lab.Report) {
				if r.ScrapeID() != lab.ModuleScrapeComponent {
					t.Fatalf("the rig reads %s, not the module's scrape", r.ScrapeID())
				}
				tc.check(t, r, rep)
			})
		})
	}
}

func checkMoved(t *testing.T, rep lab.Report) {
	t.Helper()
	if rep.IdealMoved == 0 {
		t.Fatal("the scenario did not measure moved targets")
	}
	if float64(rep.Moved) > 1.2*float64(rep.IdealMoved) {
		t.Errorf("%d targets moved, want at most 1.2 × the %d that had to (the joining or leaving node's share)", rep.Moved, rep.IdealMoved)
	}
}

func TestPartition(t *testing.T) {
	long(t)
	if err := lab.NetworkAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	scenario(t, "partition", nil, func(t *testing.T, r *lab.Rig, rep lab.Report) {
		// Both sides scrape on one grid while cut apart: the receiver may
		// see conflicting copies at equal timestamps, never older ones.
		expectZero(t, rep, "missed", "out-of-order")
		// The samples stamped just before the cut count too: a side that
		// sends them late, after the other side's first copies, has them
		// rejected out of order although they fall outside the window.
		if ooo := r.Receiver.OutOfOrderTimes(); len(ooo) > 0 {
			t.Errorf("%d out-of-order rejects over the whole run, stamped %s .. %s", len(ooo),
				time.UnixMilli(ooo[0]).UTC().Format("15:04:05.000"), time.UnixMilli(ooo[len(ooo)-1]).UTC().Format("15:04:05.000"))
			ms := func(t int64) string { return time.UnixMilli(t).UTC().Format("15:04:05.000") }
			for i, e := range r.Receiver.OutOfOrderEvents() {
				if i == 10 {
					break
				}
				t.Logf("out of order: %s stamped %s arrived %s after %s was stored (scraped by %v)",
					e.Series, ms(e.T), e.Arrived.UTC().Format("15:04:05.000"), ms(e.Newest), scrapersOf(r, e.Instance, e.T, e.Newest))
			}
		}
		if rep.Overlap != 0 || rep.Uncovered != 0 {
			t.Errorf("after healing: %d targets on two nodes, %d on none", rep.Overlap, rep.Uncovered)
		}
	})
}

// scrapersOf names the nodes that scraped instance at the ticks t and
// newest, from the targets' own logs.
func scrapersOf(r *lab.Rig, instance string, ts ...int64) map[int64][]string {
	out := map[int64][]string{}
	for _, sc := range r.Targets.Log() {
		if sc.Addr != instance {
			continue
		}
		for _, t := range ts {
			if d := sc.Time.UnixMilli() - t; d > -300 && d < 300 {
				out[t] = append(out[t], sc.Scraper)
			}
		}
	}
	return out
}
