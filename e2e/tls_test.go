package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestGossipTLSKeepsOutNodesWithoutCredentials runs a two-node fleet with
// mutual TLS on gossip, then two intruders that join its addresses: one
// with a certificate from another CA, one without TLS at all. Neither gets
// in, and the fleet keeps its split.
func TestGossipTLSKeepsOutNodesWithoutCredentials(t *testing.T) {
	long(t)
	dir := t.TempDir()
	ca, err := lab.NewCA(dir, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := lab.NewCA(dir, "foreign")
	if err != nil {
		t.Fatal(err)
	}
	tlsFlags := func(ca *lab.CA, node string) []string {
		cert, key, err := ca.Issue(dir, node)
		if err != nil {
			t.Fatal(err)
		}
		return []string{"--cluster.enable-tls", "--cluster.tls-ca-path=" + ca.CertPath, "--cluster.tls-cert-path=" + cert, "--cluster.tls-key-path=" + key}
	}
	client, err := ca.ClientConfig("", "")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Targets:  40,
		Progress: testWriter{t},
		Fleet: func(c *lab.FleetConfig) {
			c.ClientTLS = client
			c.Flags = func(node string) []string { return tlsFlags(ca, node) }
		},
	}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
	defer ccancel()
	if err := rig.WaitConverged(cctx); err != nil {
		t.Fatalf("the TLS fleet did not form: %v\n%s", err, rig.Fleet.Logs(30))
	}

	var join []string
	for _, n := range rig.Fleet.Nodes() {
		join = append(join, n.Addr)
	}
	joinFlag := "--cluster.join-addresses=" + strings.Join(join, ",")
	foreignClient, err := foreign.ClientConfig("", "")
	if err != nil {
		t.Fatal(err)
	}
	intruders := []lab.FleetConfig{
		{
			NamePrefix: "foreign-cert",
			ClientTLS:  foreignClient,
			Flags:      func(node string) []string { return append(tlsFlags(foreign, node), joinFlag) },
		},
		{
			NamePrefix: "no-tls",
			Flags:      func(string) []string { return []string{joinFlag} },
		},
	}
	var strangers []*lab.Fleet
	for _, fc := range intruders {
		fc.Config = func(string) string { return rig.Config() }
		f, err := lab.StartFleet(ctx, fc, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.WaitReady(ctx); err != nil {
			t.Fatalf("%v\n%s", err, f.Logs(30))
		}
		strangers = append(strangers, f)
	}

	// Watch a few intervals: a join, if it worked, would show by now.
	for range 5 {
		for _, n := range rig.Fleet.Running() {
			peers, err := n.Peers(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range peers {
				if !strings.HasPrefix(p.Name, "node-") {
					t.Fatalf("%s lets %s in", n.Name, p.Name)
				}
			}
		}
		owners := rig.CurrentOwners(ctx)
		if overlap, uncovered := rig.Split(owners); len(overlap)+len(uncovered) > 0 {
			t.Fatalf("the fleet's split broke: %d targets on two nodes, %d on none", len(overlap), len(uncovered))
		}
		time.Sleep(rig.Opts.Interval) // observing a steady state over time, not synchronising
	}
	for _, f := range strangers {
		n := f.Nodes()[0]
		peers, err := n.Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(peers) != 1 {
			t.Errorf("%s joined someone: %+v", n.Name, peers)
		}
	}
}
