package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestBasicAuthKeepsOneCluster runs three nodes whose config turns on
// basic auth for every path. Peers do not send the UI's password, so if
// the gossip routes were behind it every node would form a cluster of one
// and scrape every target. They are not: the fleet is one cluster (each
// node's peers API lists all three), the targets are split disjointly,
// and the UI and API still ask for the password.
func TestBasicAuthKeepsOneCluster(t *testing.T) {
	long(t)
	const user, pass = "admin", "fleet-secret"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Targets:  60,
		Progress: testWriter{t},
		Config: func(r *lab.Rig, _ string) string {
			return r.Config() + `
http {
  auth {
    basic {
      username = "` + user + `"
      password = "` + pass + `"
    }
  }
}
`
		},
		Fleet: func(c *lab.FleetConfig) { c.BasicAuth = &lab.BasicAuth{Username: user, Password: pass} },
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, rig.Fleet.Logs(30))
	}
	cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
	defer ccancel()
	if err := rig.WaitConverged(cctx); err != nil {
		t.Fatalf("the fleet with basic auth did not form one cluster: %v\n%s", err, rig.Fleet.Logs(30))
	}
	for _, n := range rig.Fleet.Running() {
		peers, err := n.Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		alive := 0
		for _, p := range peers {
			if p.Alive == nil || *p.Alive {
				alive++
			}
		}
		if alive != 3 {
			t.Errorf("%s lists %d live peers (%v), want 3", n.Name, alive, peers)
		}
	}
	owners, err := rig.Owners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if overlap, uncovered := rig.Split(owners); len(overlap)+len(uncovered) > 0 {
		t.Errorf("split: %d targets on two nodes, %d on none", len(overlap), len(uncovered))
	}
	for node, ts := range owners {
		if len(ts) == 0 || len(ts) == rig.Opts.Targets {
			t.Errorf("%s owns %d of %d targets; a fleet of three shares them", node, len(ts), rig.Opts.Targets)
		}
	}

	// Without the password, or with a wrong one, the UI and API refuse.
	plain := &http.Client{Timeout: 5 * time.Second}
	n := rig.Fleet.Running()[0]
	for _, path := range []string{"/", "/api/v0/web/peers", "/api/v0/web/components", "/metrics"} {
		for _, pw := range []string{"", "wrong"} {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL(path), nil)
			if pw != "" {
				req.SetBasicAuth(user, pw)
			}
			resp, err := plain.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET %s with password %q: %s, want 401", path, pw, resp.Status)
			}
		}
	}
}
