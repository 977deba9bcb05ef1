package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestDiscoveryDoneOncePerFleet runs real shoal processes against a
// counting http_sd endpoint (lab.RunDiscoveryShare): with
// --cluster.share-discovery three nodes call the API no more often than
// one node does, every node exports the same list at the same version with
// agreeing target digests, and after a kill -9 of the serving node every
// survivor exports the list as it changed at that moment within one
// refresh interval. The nodes run with basic auth on every path, which
// peers do not send, and a gossip key, so the lists travel past the UI's
// password signed and sealed, as gossip does.
func TestDiscoveryDoneOncePerFleet(t *testing.T) {
	long(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const refresh = 5 * time.Second
	rep, err := lab.RunDiscoveryShare(ctx, lab.DiscoShareOptions{
		Nodes:    3,
		Refresh:  refresh,
		Window:   6 * refresh,
		Secure:   true,
		Progress: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	// One node refreshes at most 7 times in 6 intervals; three nodes each
	// running the discoverer would make about 18 calls.
	if rep.CallsShared > 7+1 {
		t.Errorf("3 sharing nodes made %d API calls in %s; one node makes at most 7 (it made %d)", rep.CallsShared, rep.Window, rep.CallsOne)
	}
	if rep.Failover >= refresh {
		t.Errorf("the survivors had the current list only %s after the server died; want within one refresh (%s)", rep.Failover, refresh)
	}
}
