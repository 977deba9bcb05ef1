package lab

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The discovery-sharing scenario (--cluster.share-discovery): a counting
// http_sd endpoint stands in for the discovered system's API; one node,
// then a fleet, run a discovery.http of it feeding a clustered scrape. It
// measures the API calls of each over the same window, checks that every
// node exports the same list at the same version and that the clustered
// scrape's target digests agree (shoal_cluster_target_set_drift is 0), then kills the serving node with SIGKILL,
// changes the list at the same moment, and measures how long the
// survivors take to export the changed list.

// DiscoShareOptions configure RunDiscoveryShare.
type DiscoShareOptions struct {
	// Nodes is the size of the shared fleet (3 by default).
	Nodes int
	// Refresh is discovery.http's refresh_interval (2s by default).
	Refresh time.Duration
	// Window is how long API calls are counted (10 refreshes by default).
	Window time.Duration
	// Targets is the size of the discovered list (50 by default).
	Targets int
	// Unshared also counts a fleet of Nodes without sharing, as Alloy
	// runs, for comparison.
	Unshared bool
	// Secure turns on basic auth for every path of every node (which
	// peers do not send) and a gossip key (--cluster.gossip-key-file), so
	// that the lists travel signed and sealed past the UI's password.
	Secure bool
	// Progress receives a line per step; nil discards.
	Progress io.Writer
}

// DiscoShareReport holds the figures.
type DiscoShareReport struct {
	Nodes   int
	Refresh time.Duration
	Window  time.Duration
	// CallsOne, CallsShared and CallsUnshared are the API calls in
	// Window of one node, the shared fleet, and (if measured) the fleet
	// without sharing.
	CallsOne, CallsShared, CallsUnshared int64
	// Version is the list's version, equal on every node.
	Version float64
	// Server is the node that ran the discoverer.
	Server string
	// Failover is the time from the server's SIGKILL (and the list's
	// change) until every survivor exported the changed list.
	Failover time.Duration
	// Resettled is the time from the SIGKILL until the survivors settled
	// on a new server again (one runs the discoverer, the others use its
	// list), which waits for gossip to declare the server dead.
	Resettled time.Duration
	// NewServer is the server after the failover.
	NewServer string
}

func (r DiscoShareReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "discovery sharing, discovery.http every %s, calls counted over %s\n", r.Refresh, r.Window)
	fmt.Fprintf(&b, "  API calls, 1 node:                  %d\n", r.CallsOne)
	fmt.Fprintf(&b, "  API calls, %d nodes sharing:         %d\n", r.Nodes, r.CallsShared)
	if r.CallsUnshared > 0 {
		fmt.Fprintf(&b, "  API calls, %d nodes without sharing: %d\n", r.Nodes, r.CallsUnshared)
	}
	fmt.Fprintf(&b, "  same list and version %v on every node; server %s\n", r.Version, r.Server)
	fmt.Fprintf(&b, "  kill -9 of the server → every survivor has the changed list after %s (refresh interval %s)\n",
		r.Failover.Round(time.Millisecond), r.Refresh)
	fmt.Fprintf(&b, "  survivors settled on %s as the new server after %s\n", r.NewServer, r.Resettled.Round(time.Millisecond))
	return b.String()
}

// countingSD is the stand-in API: an http_sd endpoint that counts calls.
type countingSD struct {
	calls atomic.Int64
	mu    sync.Mutex
	body  []byte
	srv   *http.Server
	url   string
}

func newCountingSD(targets int) (*countingSD, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &countingSD{url: "http://" + ln.Addr().String() + "/sd"}
	s.set(targets, "")
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// set serves targets addresses 127.0.0.1:1..n (nothing listens: scrapes
// fail fast) plus extra, if not "".
func (s *countingSD) set(n int, extra string) {
	var ts []string
	for i := 1; i <= n; i++ {
		ts = append(ts, fmt.Sprintf("127.0.0.1:%d", i))
	}
	if extra != "" {
		ts = append(ts, extra)
	}
	b, _ := json.Marshal([]map[string]any{{"targets": ts, "labels": map[string]string{"env": "lab"}}})
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *countingSD) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.calls.Add(1)
	s.mu.Lock()
	b := s.body
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *countingSD) close() { _ = s.srv.Close() }

const discoShareID = "discovery.http.api"

// The basic auth of a Secure run.
const discoUser, discoPass = "admin", "lab-secret"

func discoShareConfig(url string, refresh time.Duration, secure bool) string {
	auth := ""
	if secure {
		auth = fmt.Sprintf(`
http {
  auth {
    basic {
      username = %q
      password = %q
    }
  }
}
`, discoUser, discoPass)
	}
	return auth + fmt.Sprintf(`discovery.http "api" {
  url              = %q
  refresh_interval = %q
}

prometheus.scrape "api" {
  targets         = discovery.http.api.targets
  forward_to      = []
  scrape_interval = "10s"
  scrape_timeout  = "1s"
  clustering {
    enabled = true
  }
}
`, url, refresh.String())
}

// exportsDigest returns a digest of the component's exports on n, and
// whether they hold addr.
func exportsDigest(ctx context.Context, n *Node, addr string) (string, bool, error) {
	var c struct {
		Exports json.RawMessage `json:"exports"`
	}
	if err := n.getJSON(ctx, "/api/v0/web/components/"+discoShareID, &c); err != nil {
		return "", false, err
	}
	s := sha256.Sum256(c.Exports)
	return hex.EncodeToString(s[:8]), strings.Contains(string(c.Exports), addr), nil
}

func (o *DiscoShareOptions) defaults() {
	if o.Nodes <= 0 {
		o.Nodes = 3
	}
	if o.Refresh <= 0 {
		o.Refresh = 2 * time.Second
	}
	if o.Window <= 0 {
		o.Window = 10 * o.Refresh
	}
	if o.Targets <= 0 {
		o.Targets = 50
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// countCalls starts a fleet, waits until ready(fleet) holds, and counts
// the API calls over the window.
func countCalls(ctx context.Context, o DiscoShareOptions, sd *countingSD, prefix string, nodes int, flags []string, ready func(*Fleet) error) (int64, *Fleet, error) {
	fc := FleetConfig{
		NamePrefix: prefix,
		NoCluster:  nodes == 1 && flags == nil,
		Config:     func(string) string { return discoShareConfig(sd.url, o.Refresh, o.Secure) },
		Flags:      func(string) []string { return flags },
	}
	if o.Secure {
		fc.BasicAuth = &BasicAuth{Username: discoUser, Password: discoPass}
	}
	if o.Secure && !fc.NoCluster {
		dir, err := os.MkdirTemp("", "shoal-lab-key-")
		if err != nil {
			return 0, nil, err
		}
		defer os.RemoveAll(dir) // read at each node's start only
		key := filepath.Join(dir, "gossip.key")
		if err := os.WriteFile(key, []byte(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))+"\n"), 0o600); err != nil {
			return 0, nil, err
		}
		flags = append(slices.Clone(flags), "--cluster.gossip-key-file="+key)
	}
	f, err := StartFleet(ctx, fc, nodes)
	if err != nil {
		return 0, nil, err
	}
	if err := f.WaitReady(ctx); err != nil {
		f.Close()
		return 0, nil, err
	}
	if ready != nil {
		if err := ready(f); err != nil {
			err = fmt.Errorf("%w\n%s", err, f.Logs(30))
			f.Close()
			return 0, nil, err
		}
	}
	before := sd.calls.Load()
	if err := sleepCtx(ctx, o.Window); err != nil {
		f.Close()
		return 0, nil, err
	}
	return sd.calls.Load() - before, f, nil
}

// settled waits until exactly one running node serves the list, every
// other one uses it without a discoverer of its own, and all export the
// same list at the same version with agreeing target digests. It returns
// the server and the version.
func settled(ctx context.Context, f *Fleet, hasAddr string) (string, float64, error) {
	var last string
	for {
		server, version, why := settledOnce(ctx, f, hasAddr)
		if why == "" {
			return server, version, nil
		}
		last = why
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return "", 0, fmt.Errorf("the fleet never settled on one shared list: %s", last)
		}
	}
}

func settledOnce(ctx context.Context, f *Fleet, hasAddr string) (string, float64, string) {
	server := ""
	var digest string
	var version float64
	for i, n := range f.Running() {
		s, _, err := n.Metric(ctx, "shoal_discovery_share_server", "component_id", discoShareID)
		if err != nil {
			return "", 0, err.Error()
		}
		l, _, _ := n.Metric(ctx, "shoal_discovery_share_local", "component_id", discoShareID)
		v, _, _ := n.Metric(ctx, "shoal_discovery_share_version", "component_id", discoShareID)
		switch {
		case s == 1 && server != "":
			return "", 0, "two servers: " + server + " and " + n.Name
		case s == 1:
			server = n.Name
		case l != 0:
			return "", 0, n.Name + " still runs its own discoverer"
		}
		d, has, err := exportsDigest(ctx, n, hasAddr)
		if err != nil {
			return "", 0, err.Error()
		}
		if !has {
			return "", 0, n.Name + " does not export " + hasAddr + " yet"
		}
		if i == 0 {
			digest, version = d, v
		} else if d != digest || v != version {
			return "", 0, fmt.Sprintf("%s exports %s at version %v, %s %s at %v", n.Name, d, v, f.Running()[0].Name, digest, version)
		}
		if drift, _, err := n.Metric(ctx, "shoal_cluster_target_set_drift"); err != nil || drift != 0 {
			return "", 0, fmt.Sprintf("%s sees %v peers with another target digest (%v)", n.Name, drift, err)
		}
	}
	if server == "" {
		return "", 0, "no node serves"
	}
	return server, version, ""
}

// RunDiscoveryShare runs the scenario and returns its figures.
func RunDiscoveryShare(ctx context.Context, o DiscoShareOptions) (DiscoShareReport, error) {
	o.defaults()
	rep := DiscoShareReport{Nodes: o.Nodes, Refresh: o.Refresh, Window: o.Window}
	progress := func(format string, args ...any) { fmt.Fprintf(o.Progress, "lab: "+format+"\n", args...) }
	sd, err := newCountingSD(o.Targets)
	if err != nil {
		return rep, err
	}
	defer sd.close()

	progress("counting the API calls of one node over %s", o.Window)
	calls, f, err := countCalls(ctx, o, sd, "solo", 1, nil, nil)
	if err != nil {
		return rep, err
	}
	f.Close()
	rep.CallsOne = calls

	if o.Unshared {
		progress("counting the API calls of %d nodes without sharing", o.Nodes)
		calls, f, err := countCalls(ctx, o, sd, "plain", o.Nodes, []string{}, nil)
		if err != nil {
			return rep, err
		}
		f.Close()
		rep.CallsUnshared = calls
	}

	progress("counting the API calls of %d nodes sharing", o.Nodes)
	first := "127.0.0.1:1"
	calls, f, err = countCalls(ctx, o, sd, "shared", o.Nodes, []string{"--cluster.share-discovery"}, func(f *Fleet) error {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		_, _, err := settled(sctx, f, first)
		return err
	})
	if err != nil {
		return rep, err
	}
	defer f.Close()
	rep.CallsShared = calls
	server, version, err := settled(ctx, f, first)
	if err != nil {
		return rep, err
	}
	rep.Server, rep.Version = server, version

	progress("killing %s, the server, and changing the list", server)
	const added = "127.0.0.2:9"
	if err := f.Node(server).Kill(); err != nil {
		return rep, err
	}
	killed := time.Now()
	sd.set(o.Targets, added)
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		all := true
		for _, n := range f.Running() {
			if _, has, err := exportsDigest(deadline, n, added); err != nil || !has {
				all = false
				break
			}
		}
		if all {
			rep.Failover = time.Since(killed)
			break
		}
		if err := sleepCtx(deadline, 20*time.Millisecond); err != nil {
			return rep, fmt.Errorf("the survivors never exported the changed list\n%s", f.Logs(30))
		}
	}
	progress("the survivors settle on a new server")
	sctx, scancel := context.WithTimeout(ctx, 60*time.Second)
	defer scancel()
	if rep.NewServer, _, err = settled(sctx, f, added); err != nil {
		return rep, fmt.Errorf("%w\n%s", err, f.Logs(30))
	}
	rep.Resettled = time.Since(killed)
	if rep.CallsOne == 0 {
		return rep, errors.New("the single node made no API calls")
	}
	return rep, nil
}
