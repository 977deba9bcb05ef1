package lab

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// FleetConfig says how to run the nodes of a Fleet.
type FleetConfig struct {
	// Binary is the shoal binary; empty means ShoalBinary().
	Binary string
	// Dir holds each node's config, storage and log; empty means a new
	// temporary directory, removed by Close unless KeepDir is set.
	Dir     string
	KeepDir bool
	// Config returns the configuration text of a node. It is written to
	// the node's config file at every start.
	Config func(node string) string
	// ClusterName is --cluster.name.
	ClusterName string
	// HandoffDelay is --cluster.handoff-delay when non-zero.
	HandoffDelay time.Duration
	// RejoinInterval is --cluster.rejoin-interval (default 5s here).
	RejoinInterval time.Duration
	// Flags returns extra flags for a node, e.g. the TLS ones.
	Flags func(node string) []string
	// NoCluster runs the nodes without --cluster.enabled.
	NoCluster bool
	// Network, when set, runs each node in its own network namespace of it.
	Network *Network
	// Env is added to each node's environment.
	Env []string
	// ClientTLS, when set, makes the lab reach the nodes over https with
	// this configuration (for nodes that serve TLS).
	ClientTLS *tls.Config
	// NamePrefix names the nodes PREFIX-0, PREFIX-1, ...; "node" by
	// default. Two fleets on one machine need different prefixes.
	NamePrefix string
	// Join is the topology of --cluster.join-addresses; JoinAll by
	// default.
	Join JoinTopology
	// BasicAuth, when set, is sent with every request the lab makes to
	// the nodes, for configs with `http { auth { basic { ... } } }`.
	BasicAuth *BasicAuth
}

// BasicAuth is a user name and password for FleetConfig.BasicAuth.
type BasicAuth struct{ Username, Password string }

// basicAuthTransport adds the credentials to every request.
type basicAuthTransport struct {
	next http.RoundTripper
	auth BasicAuth
}

func (t basicAuthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(t.auth.Username, t.auth.Password)
	return t.next.RoundTrip(r)
}

func (t basicAuthTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// JoinTopology says which peers each node's --cluster.join-addresses name.
type JoinTopology int

const (
	// JoinAll: every node joins every other node.
	JoinAll JoinTopology = iota
	// JoinChain: node 0 has no join address and node i joins node i-1,
	// as in many docker-compose files and VM fleets.
	JoinChain
	// JoinSeed: node 0 has no join address and every other node joins
	// node 0.
	JoinSeed
)

// Fleet is a set of `shoal run` processes on loopback (or in namespaces of
// a Network). Node names are node-0, node-1, ... in the order of Add (see
// FleetConfig.NamePrefix).
type Fleet struct {
	cfg     FleetConfig
	dir     string
	ownDir  bool
	client  *http.Client
	sockets socketIndex

	mu    sync.Mutex
	nodes []*Node
	seq   int
}

// Node is one shoal process of a Fleet. Its name, address and storage stay
// the same across restarts.
type Node struct {
	fleet      *Fleet
	Name       string
	Addr       string // host:port of its HTTP server, which is also its gossip address
	StorageDir string
	ConfigPath string
	LogPath    string
	host       *Host // its namespace, with a Network

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current process has exited
	err  error         // its exit status
}

// NewFleet prepares a fleet without starting any node.
func NewFleet(ctx context.Context, cfg FleetConfig) (*Fleet, error) {
	if cfg.Config == nil {
		return nil, errors.New("lab: FleetConfig.Config is required")
	}
	if cfg.Binary == "" {
		bin, err := ShoalBinary(ctx)
		if err != nil {
			return nil, err
		}
		cfg.Binary = bin
	}
	if cfg.RejoinInterval == 0 {
		cfg.RejoinInterval = 5 * time.Second
	}
	if cfg.NamePrefix == "" {
		cfg.NamePrefix = "node"
	}
	f := &Fleet{cfg: cfg, dir: cfg.Dir}
	if f.dir == "" {
		dir, err := os.MkdirTemp("", "shoal-lab-fleet-")
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		f.dir, f.ownDir = dir, !cfg.KeepDir
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 10 * time.Second, TLSClientConfig: cfg.ClientTLS}
	if cfg.Network != nil {
		tr.DialContext = cfg.Network.DialContext
	}
	f.client = &http.Client{Transport: tr, Timeout: 5 * time.Second}
	if cfg.BasicAuth != nil {
		f.client.Transport = basicAuthTransport{next: tr, auth: *cfg.BasicAuth}
	}
	return f, nil
}

// StartFleet prepares a fleet and starts n nodes; it does not wait for them
// to be ready (see WaitReady).
func StartFleet(ctx context.Context, cfg FleetConfig, n int) (*Fleet, error) {
	f, err := NewFleet(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Every node's address is known before any starts, so that each joins
	// all the others.
	for range n {
		if _, err := f.prepare(); err != nil {
			f.Close()
			return nil, err
		}
	}
	for _, node := range f.Nodes() {
		if err := node.Start(ctx); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Dir is the directory holding the nodes' files.
func (f *Fleet) Dir() string { return f.dir }

// Client is the HTTP client that reaches the nodes (through the Network's
// namespaces when there is one).
func (f *Fleet) Client() *http.Client { return f.client }

// Nodes lists every node ever added, running or not.
func (f *Fleet) Nodes() []*Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Node(nil), f.nodes...)
}

// Running lists the nodes whose process is running.
func (f *Fleet) Running() []*Node {
	var out []*Node
	for _, n := range f.Nodes() {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// Node returns the node called name, or nil.
func (f *Fleet) Node(name string) *Node {
	for _, n := range f.Nodes() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Add starts one more node that joins the running ones.
func (f *Fleet) Add(ctx context.Context) (*Node, error) {
	n, err := f.prepare()
	if err != nil {
		return nil, err
	}
	return n, n.Start(ctx)
}

func (f *Fleet) prepare() (*Node, error) {
	f.mu.Lock()
	name := f.cfg.NamePrefix + "-" + strconv.Itoa(f.seq)
	f.seq++
	f.mu.Unlock()
	n := &Node{
		fleet:      f,
		Name:       name,
		StorageDir: filepath.Join(f.dir, name, "data"),
		ConfigPath: filepath.Join(f.dir, name, "config.alloy"),
		LogPath:    filepath.Join(f.dir, name, "shoal.log"),
	}
	if err := os.MkdirAll(n.StorageDir, 0o755); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	if nw := f.cfg.Network; nw != nil {
		h, err := nw.AddHost(name)
		if err != nil {
			return nil, err
		}
		// Each namespace has its own ports, so one fixed port will do.
		n.host, n.Addr = h, net.JoinHostPort(h.IP, "12345")
	} else {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	f.mu.Lock()
	f.nodes = append(f.nodes, n)
	f.mu.Unlock()
	return n, nil
}

// WaitReady waits until every running node answers 200 on /-/ready.
func (f *Fleet) WaitReady(ctx context.Context) error {
	for _, n := range f.Running() {
		if err := n.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close kills every node that still runs and waits for it. The directory
// is removed if the fleet created it, unless KeepDir is set.
func (f *Fleet) Close() {
	for _, n := range f.Nodes() {
		_ = n.Kill()
	}
	if f.cfg.Network != nil {
		for _, n := range f.Nodes() {
			if n.host != nil {
				_ = f.cfg.Network.RemoveHost(n.host.Name)
			}
		}
	}
	f.client.CloseIdleConnections()
	if f.ownDir {
		_ = os.RemoveAll(f.dir)
	}
}

// Logs returns the last lines of every node's log, headed by its name,
// for a failure message.
func (f *Fleet) Logs(lines int) string {
	var b strings.Builder
	for _, n := range f.Nodes() {
		fmt.Fprintf(&b, "===== %s (%s) log %s =====\n%s\n", n.Name, n.Addr, n.LogPath, n.LogTail(lines))
	}
	return b.String()
}

// Identify names the node behind a connection from remote (the scraper) to
// local (the target), for Targets.SetIdentify: by IP when nodes run in
// namespaces, otherwise by finding which node process owns the
// connection's client socket.
func (f *Fleet) Identify(remote, local string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return ""
	}
	nodes := f.Nodes()
	if f.cfg.Network != nil {
		for _, n := range nodes {
			if n.host != nil && n.host.IP == host {
				return n.Name
			}
		}
		return ""
	}
	pids := map[int]string{}
	for _, n := range nodes {
		if pid := n.Pid(); pid > 0 {
			pids[pid] = n.Name
		}
	}
	if pid := f.sockets.owner(remote, local, pids); pid > 0 {
		return pids[pid]
	}
	return ""
}

// joinAddrs lists the addresses n joins: by default every node but n;
// see JoinTopology for the others.
func (f *Fleet) joinAddrs(n *Node) []string {
	nodes := f.Nodes()
	var out []string
	for i, o := range nodes {
		if o != n {
			continue
		}
		switch {
		case i == 0 && f.cfg.Join != JoinAll:
			return nil
		case f.cfg.Join == JoinChain:
			return []string{nodes[i-1].Addr}
		case f.cfg.Join == JoinSeed:
			return []string{nodes[0].Addr}
		}
	}
	for _, o := range nodes {
		if o != n {
			out = append(out, o.Addr)
		}
	}
	return out
}

// Args returns the command line a start of the node uses.
func (n *Node) Args() []string {
	c := n.fleet.cfg
	args := []string{"run", n.ConfigPath,
		"--server.http.listen-addr=" + n.Addr,
		"--storage.path=" + n.StorageDir,
	}
	if !c.NoCluster {
		args = append(args,
			"--cluster.enabled",
			"--cluster.node-name="+n.Name,
			"--cluster.advertise-address="+n.Addr,
			"--cluster.rejoin-interval="+c.RejoinInterval.String(),
		)
		if join := n.fleet.joinAddrs(n); len(join) > 0 {
			args = append(args, "--cluster.join-addresses="+strings.Join(join, ","))
		}
		if c.ClusterName != "" {
			args = append(args, "--cluster.name="+c.ClusterName)
		}
		if c.HandoffDelay > 0 {
			args = append(args, "--cluster.handoff-delay="+c.HandoffDelay.String())
		}
	}
	if c.Flags != nil {
		args = append(args, c.Flags(n.Name)...)
	}
	return args
}

// Start writes the node's config and starts its process. At a node's first
// start, a port another process took in the meantime is replaced by a new
// one (up to three times).
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	running := n.cmd != nil
	n.mu.Unlock()
	if running {
		return fmt.Errorf("lab: %s is already running", n.Name)
	}
	if err := os.WriteFile(n.ConfigPath, []byte(n.fleet.cfg.Config(n.Name)), 0o644); err != nil {
		return fmt.Errorf("lab: %s: write config: %w", n.Name, err)
	}
	for attempt := 0; ; attempt++ {
		start := logSize(n.LogPath)
		if err := n.spawn(); err != nil {
			return err
		}
		err := n.waitListening(ctx)
		if err == nil {
			return nil
		}
		clash := strings.Contains(n.logSince(start), "address already in use")
		if !clash || attempt == 2 || n.host != nil {
			return fmt.Errorf("lab: %s did not start: %w\n%s", n.Name, err, n.LogTail(30))
		}
		port, perr := FreePort()
		if perr != nil {
			return perr
		}
		n.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
}

func (n *Node) spawn() error {
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("lab: %s: log: %w", n.Name, err)
	}
	fmt.Fprintf(logf, "----- lab: start %s at %s: %s %s\n", n.Name, time.Now().Format(time.RFC3339Nano), n.fleet.cfg.Binary, strings.Join(n.Args(), " "))
	var cmd *exec.Cmd
	if n.host != nil {
		cmd = n.fleet.cfg.Network.Command(n.host.Name, n.fleet.cfg.Binary, n.Args()...)
	} else {
		cmd = exec.Command(n.fleet.cfg.Binary, n.Args()...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), n.fleet.cfg.Env...)
	// Pdeathsig: a test binary that dies leaves no node behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("lab: %s: start: %w", n.Name, err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.done, n.err = cmd, done, nil
	n.mu.Unlock()
	go func() {
		// The node owns this goroutine: Kill, Stop and Close wait for done.
		err := cmd.Wait()
		logf.Close()
		n.mu.Lock()
		n.err = err
		if n.cmd == cmd {
			n.cmd = nil
		}
		n.mu.Unlock()
		close(done)
	}()
	return nil
}

// waitListening waits until the node's HTTP server answers anything, or the
// process exits.
func (n *Node) waitListening(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	done := n.exited()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL("/-/healthy"), nil)
		if resp, err := n.fleet.client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("exited: %v", n.ExitErr())
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s: %w", n.Addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exited returns a channel closed when the current process exits (closed
// already when none runs).
func (n *Node) exited() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return n.done
}

// ExitErr is the exit status of the node's last process.
func (n *Node) ExitErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// Running reports whether the node's process runs.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Pid is the process id of the running node, or 0.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(sig)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (n *Node) Kill() error {
	done := n.exited()
	n.signal(syscall.SIGKILL)
	<-done
	return nil
}

// Stop sends SIGTERM and waits for the node to exit; if it has not by the
// end of ctx, it is killed and an error returned. How it exited is in
// ExitErr.
func (n *Node) Stop(ctx context.Context) error {
	done := n.exited()
	n.signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		_ = n.Kill()
		return fmt.Errorf("lab: %s did not stop after SIGTERM: %w", n.Name, ctx.Err())
	}
}

// Restart stops the node gracefully and starts it again with the same name,
// address and storage.
func (n *Node) Restart(ctx context.Context) error {
	if err := n.Stop(ctx); err != nil {
		return err
	}
	return n.Start(ctx)
}

// URL is the address of path on the node's HTTP server.
func (n *Node) URL(path string) string {
	if n.fleet.cfg.ClientTLS != nil {
		return "https://" + n.Addr + path
	}
	return "http://" + n.Addr + path
}

// WaitReady polls /-/ready until it answers 200, the process exits, or ctx
// ends.
func (n *Node) WaitReady(ctx context.Context) error {
	done := n.exited()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.URL("/-/ready"), nil)
		resp, err := n.fleet.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("lab: %s exited before it was ready: %v\n%s", n.Name, n.ExitErr(), n.LogTail(30))
		case <-ctx.Done():
			return fmt.Errorf("lab: %s not ready: %w\n%s", n.Name, ctx.Err(), n.LogTail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (n *Node) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL(path), nil)
	if err != nil {
		return err
	}
	resp, err := n.fleet.client.Do(req)
	if err != nil {
		return fmt.Errorf("lab: %s: GET %s: %w", n.Name, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("lab: %s: GET %s: %w", n.Name, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("lab: %s: GET %s: %s: %s", n.Name, path, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("lab: %s: GET %s: %w", n.Name, path, err)
	}
	return nil
}

// Peer is one entry of /api/v0/web/peers.
type Peer struct {
	Name   string `json:"name"`
	Addr   string `json:"addr"`
	State  string `json:"state"`
	IsSelf bool   `json:"isSelf"`
	Since  any    `json:"since"`
	// Alive is false for a node memberlist holds as suspect or dead.
	Alive *bool `json:"alive,omitempty"`
}

// Peers returns the cluster as the node sees it.
func (n *Node) Peers(ctx context.Context) ([]Peer, error) {
	var peers []Peer
	err := n.getJSON(ctx, "/api/v0/web/peers", &peers)
	return peers, err
}

// debugValue is Alloy's typed JSON for a value.
type debugValue struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// debugField is one entry of a block body in Alloy's typed JSON.
type debugField struct {
	Name  string       `json:"name"`
	Type  string       `json:"type"`
	Value *debugValue  `json:"value,omitempty"`
	Body  []debugField `json:"body,omitempty"`
}

// ScrapedTargets returns the host:port of every target the node's
// component (e.g. "prometheus.scrape.lab") lists in its debug info.
func (n *Node) ScrapedTargets(ctx context.Context, componentID string) ([]string, error) {
	var detail struct {
		DebugInfo []debugField `json:"debugInfo"`
	}
	if err := n.getJSON(ctx, "/api/v0/web/components/"+componentID, &detail); err != nil {
		return nil, err
	}
	var out []string
	for _, blk := range detail.DebugInfo {
		if blk.Name != "target" {
			continue
		}
		for _, f := range blk.Body {
			if f.Name != "url" || f.Value == nil {
				continue
			}
			var s string
			if err := json.Unmarshal(f.Value.Value, &s); err != nil {
				return nil, fmt.Errorf("lab: %s: debug info url: %w", n.Name, err)
			}
			u, err := url.Parse(s)
			if err != nil {
				return nil, fmt.Errorf("lab: %s: debug info url %q: %w", n.Name, s, err)
			}
			out = append(out, u.Host)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Metric sums the samples of the metric name on the node's /metrics whose
// labels include every given name=value pair. found is false when no
// sample matched.
func (n *Node) Metric(ctx context.Context, name string, pairs ...string) (sum float64, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL("/metrics"), nil)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := n.fleet.client.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("lab: %s: GET /metrics: %w", n.Name, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, false, fmt.Errorf("lab: %s: /metrics: %w", n.Name, err)
	}
	fam, ok := fams[name]
	if !ok {
		return 0, false, nil
	}
next:
	for _, m := range fam.Metric {
		for i := 0; i+1 < len(pairs); i += 2 {
			matched := false
			for _, l := range m.Label {
				if l.GetName() == pairs[i] && l.GetValue() == pairs[i+1] {
					matched = true
				}
			}
			if !matched {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum, found, nil
}

// Reload asks the node to reload its config file (POST /-/reload).
func (n *Node) Reload(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL("/-/reload"), nil)
	if err != nil {
		return err
	}
	resp, err := n.fleet.client.Do(req)
	if err != nil {
		return fmt.Errorf("lab: %s: reload: %w", n.Name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("lab: %s: reload: %s: %s", n.Name, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// WriteConfig replaces the node's config file (for a reload).
func (n *Node) WriteConfig(text string) error {
	tmp := n.ConfigPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("lab: %s: %w", n.Name, err)
	}
	return os.Rename(tmp, n.ConfigPath)
}

// LogTail returns the last lines of the node's log.
func (n *Node) LogTail(lines int) string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func (n *Node) logSince(offset int64) string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before it is used; callers that start a
// server on it retry with another port on a clash.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("lab: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
