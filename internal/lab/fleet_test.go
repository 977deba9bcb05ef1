package lab

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for shoal: with LAB_FAKE_SHOAL=1
// it behaves as a minimal `shoal run`, so that the Fleet's process handling
// is tested without depending on the real one.
func TestMain(m *testing.M) {
	if os.Getenv("LAB_FAKE_SHOAL") == "1" {
		os.Exit(fakeShoal(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeShoal serves the HTTP surface the Fleet uses and scrapes
// $LAB_FAKE_SCRAPE every 100 ms, until SIGTERM.
func fakeShoal(args []string) int {
	if len(args) < 2 || args[0] != "run" {
		fmt.Fprintln(os.Stderr, "fake shoal: want run CONFIG")
		return 2
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	listen := fs.String("server.http.listen-addr", "", "")
	name := fs.String("cluster.node-name", "", "")
	fs.String("storage.path", "", "")
	fs.Bool("cluster.enabled", false, "")
	fs.String("cluster.advertise-address", "", "")
	fs.String("cluster.join-addresses", "", "")
	fs.Duration("cluster.rejoin-interval", 0, "")
	fs.Duration("cluster.handoff-delay", 0, "")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	target := os.Getenv("LAB_FAKE_SCRAPE")
	mux := http.NewServeMux()
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ready") })
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "healthy") })
	mux.HandleFunc("/api/v0/web/peers", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `[{"name":%q,"addr":%q,"state":"participant","isSelf":true,"since":"now"}]`, *name, *listen)
	})
	mux.HandleFunc("/api/v0/web/components/"+ScrapeComponent, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"id":%q,"debugInfo":[{"name":"target","type":"block","body":[{"name":"url","type":"attr","value":{"type":"string","value":"http://%s/metrics"}}]}]}`, ScrapeComponent, target)
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE shoal_cluster_config_drift gauge\nshoal_cluster_config_drift{component=\"x\"} 2")
	})
	srv := &http.Server{Addr: *listen, Handler: mux}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		c := &http.Client{Timeout: time.Second}
		for {
			select {
			case <-stop:
				_ = srv.Close()
				return
			case <-t.C:
				if target != "" {
					if resp, err := c.Get("http://" + target + "/metrics"); err == nil {
						resp.Body.Close()
					}
				}
			}
		}
	}()
	fmt.Fprintf(os.Stderr, "fake shoal %s listening on %s\n", *name, *listen)
	err := srv.ListenAndServe()
	<-done
	if err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestFleetStartsKillsStopsAndRestartsNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping a process-level test in -short mode")
	}
	ts, err := StartTargets(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	f, err := StartFleet(ctx, FleetConfig{
		Binary: os.Args[0],
		Env:    []string{"LAB_FAKE_SHOAL=1", "LAB_FAKE_SCRAPE=" + ts.Addr(0)},
		Config: func(node string) string { return "// config of " + node + "\n" },
	}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts.SetIdentify(f.Identify)
	if err := f.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	n0, n1 := f.Node("node-0"), f.Node("node-1")
	if !slices.Contains(n0.Args(), "--cluster.join-addresses="+n1.Addr) {
		t.Errorf("node-0 does not join node-1: %v", n0.Args())
	}
	if b, _ := os.ReadFile(n1.ConfigPath); string(b) != "// config of node-1\n" {
		t.Errorf("node-1's config file holds %q", b)
	}

	peers, err := n0.Peers(ctx)
	if err != nil || len(peers) != 1 || peers[0].Name != "node-0" || !peers[0].IsSelf {
		t.Errorf("peers %+v %v", peers, err)
	}
	scraped, err := n1.ScrapedTargets(ctx, ScrapeComponent)
	if err != nil || len(scraped) != 1 || scraped[0] != ts.Addr(0) {
		t.Errorf("debug info lists %v %v, want %s", scraped, err, ts.Addr(0))
	}
	if v, found, err := n0.Metric(ctx, "shoal_cluster_config_drift", "component", "x"); err != nil || !found || v != 2 {
		t.Errorf("metric = %v %v %v", v, found, err)
	}

	// The target learns which node scraped it, though both send the same
	// User-Agent.
	err = WaitFor(ctx, func() bool {
		who := map[string]bool{}
		for _, s := range ts.Log() {
			who[s.Scraper] = true
		}
		return who["node-0"] && who["node-1"]
	})
	if err != nil {
		t.Errorf("scrapers not identified: %v", err)
	}

	if err := n1.Kill(); err != nil {
		t.Fatal(err)
	}
	if n1.Running() || len(f.Running()) != 1 {
		t.Error("a killed node still runs")
	}
	addr := n0.Addr
	if err := n0.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n0.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if n0.Addr != addr || n0.ExitErr() != nil {
		t.Errorf("restart moved node-0 to %s (was %s) or it exited with %v", n0.Addr, addr, n0.ExitErr())
	}
	if logs := f.Logs(10); strings.Count(logs, "lab: start node-0 at") != 2 {
		t.Errorf("node-0's log does not show two starts:\n%s", logs)
	}

	n2, err := f.Add(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(n2.Args(), "--cluster.join-addresses="+n0.Addr+","+n1.Addr) {
		t.Errorf("an added node does not join the others: %v", n2.Args())
	}
	if err := n2.Stop(ctx); err != nil || n2.ExitErr() != nil {
		t.Errorf("stop: %v, exit %v", err, n2.ExitErr())
	}
}
