// Package pipeline proves shoal's single-node pipeline end to end: a real
// `shoal run` process scrapes synthetic targets from internal/lab and
// remote-writes to Debian's Prometheus (queried through PromQL) or to the
// lab's counting receiver. Each test checks what a user would check: every
// tick of every target arrives with every series, the disk queue survives
// kill -9 and a receiver outage, a single rejected sample costs only itself,
// a reload neither misses nor doubles a tick, and misbehaving targets are
// down with their error shown while their neighbours keep every tick.
//
// It owns these tests only; the harness (targets, receiver, processes) is
// internal/lab, and cluster scenarios live in e2e/. The tests run for
// minutes, so `go test -short` runs only the quickest.
package pipeline

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
	"github.com/shoal-dev/shoal/internal/lab/labdb"
)

// TestMain builds shoal once for every test of this process (unless
// $SHOAL_BIN names a binary).
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	bin, err := lab.ShoalBinary(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pipeline: cannot build shoal: %v\n", err)
		return 1
	}
	os.Setenv("SHOAL_BIN", bin)
	// The exporter tests' MariaDB and Postgres, started once on first use.
	defer labdb.StopDatabases()
	return m.Run()
}

// long skips a test that runs for more than a few seconds in -short mode.
func long(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping a long pipeline test in -short mode")
	}
}
