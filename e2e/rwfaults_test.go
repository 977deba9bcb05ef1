package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestPartialAcceptReceiverThroughPartitionAndRollingRestart runs a
// clustered three-node fleet against a receiver that keeps the good
// samples of a request and rejects the rest (Mimir's way), through a
// partition, its healing and a rolling restart. Over the whole run the
// receiver must see no out-of-order sample: shoal never sends a sample
// older than one it already delivered for the series, neither by
// re-sending a rejected request nor after a handoff or restart.
func TestPartialAcceptReceiverThroughPartitionAndRollingRestart(t *testing.T) {
	long(t)
	if err := lab.NetworkAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	o := lab.ScenarioOptions{Progress: testWriter{t}, Mode: lab.PartialAccept, Partitioned: true}
	r, err := lab.NewRig(ctx, o, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	o = r.Opts
	fail := func(format string, args ...any) {
		t.Helper()
		t.Logf("node logs:\n%s", r.Fleet.Logs(40))
		t.Fatalf(format, args...)
	}
	converge := func(what string) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		t.Logf("waiting for the fleet to converge %s", what)
		if err := r.WaitConverged(cctx); err != nil {
			fail("%v", err)
		}
	}
	sleep := func(d time.Duration) {
		select {
		case <-ctx.Done():
			fail("deadline: %v", ctx.Err())
		case <-time.After(d):
		}
	}
	if err := r.Fleet.WaitReady(ctx); err != nil {
		fail("%v", err)
	}
	converge("at start")
	from := time.Now()
	sleep(o.Observe / 2)

	nodes := r.Fleet.Running()
	alone, rest := []string{nodes[0].Name}, []string{}
	for _, n := range nodes[1:] {
		rest = append(rest, n.Name)
	}
	t.Logf("partitioning %v from %v", alone, rest)
	if err := r.Network.Partition(alone, rest); err != nil {
		fail("%v", err)
	}
	sleep(o.Observe)
	t.Log("healing the partition")
	if err := r.Network.Heal(); err != nil {
		fail("%v", err)
	}
	converge("after healing")

	for _, n := range r.Fleet.Nodes() {
		t.Logf("restarting %s", n.Name)
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := n.Restart(sctx)
		if err == nil {
			err = n.WaitReady(sctx)
		}
		cancel()
		if err != nil {
			fail("restarting %s: %v", n.Name, err)
		}
		converge("after restarting " + n.Name)
	}
	sleep(o.Observe / 2)
	to := time.Now()
	r.WaitDelivered(ctx, to)
	rep := r.Report(ctx, "partition+rolling", from, to)
	t.Logf("figures:\n%s", rep)
	st := r.Receiver.Stats()
	t.Logf("receiver: %d requests, %d samples stored, %d rejected requests, %d out-of-order, %d duplicates, %d identical re-sends",
		st.Requests, st.Accepted, st.Rejected, st.OutOfOrder, st.Duplicates, st.IdenticalDuplicates)
	if st.Accepted == 0 {
		fail("the receiver stored nothing")
	}
	if ooo := r.Receiver.OutOfOrderTimes(); len(ooo) > 0 {
		for i, e := range r.Receiver.OutOfOrderEvents() {
			if i == 10 {
				break
			}
			t.Logf("out of order: %s stamped %d arrived %s after %d was stored", e.Series, e.T, e.Arrived.UTC().Format("15:04:05.000"), e.Newest)
		}
		fail("%d out-of-order rejects over the whole run, want 0", len(ooo))
	}
	if rep.Missed != 0 {
		t.Errorf("missed: %d, want 0", rep.Missed)
	}
}
