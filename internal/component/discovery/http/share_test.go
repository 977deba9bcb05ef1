package http

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// fleet is an in-memory stand-in for the cluster's sharing: each node's
// served lists, which node serves, and which nodes are down. The HTTP
// route and its auth are tested in internal/cluster; the e2e test runs
// both together on real processes.
type fleet struct {
	mu      sync.Mutex
	server  string
	down    map[string]bool
	lists   map[string]*component.SharedList // by node (one component)
	changed chan struct{}
}

func newFleet(server string) *fleet {
	return &fleet{server: server, down: map[string]bool{}, lists: map[string]*component.SharedList{}, changed: make(chan struct{})}
}

func (f *fleet) set(fn func()) {
	f.mu.Lock()
	fn()
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// member is one node's view of the fleet.
type member struct {
	f    *fleet
	name string
}

var _ component.DiscoveryShare = member{}

func (m member) Enabled() bool                      { return true }
func (m member) Owns(uint64, int64) bool            { return true }
func (m member) Hold(uint64, int64) <-chan struct{} { return nil }
func (m member) OwnerOf(uint64, int64) string       { return "" }
func (m member) SetTargets(string, []uint64)        {}
func (m member) AddDelivery(string, component.Delivery) {
}
func (m member) Changes() <-chan struct{} { return nil }
func (m member) SharesDiscovery() bool    { return true }

func (m member) DiscoveryServer(string) (string, bool) {
	m.f.mu.Lock()
	defer m.f.mu.Unlock()
	return m.f.server, m.f.server == m.name
}

func (m member) PublishDiscovery(_ string, l *component.SharedList) {
	m.f.set(func() {
		if l != nil && l.Source == "" {
			c := *l
			c.Source = m.name
			l = &c
		}
		m.f.lists[m.name] = l
	})
}

func (m member) FetchDiscovery(ctx context.Context, node, _, hash string, after uint64, digest string) (*component.SharedList, error) {
	deadline := time.After(500 * time.Millisecond)
	for {
		m.f.mu.Lock()
		down, l, ch := m.f.down[node], m.f.lists[node], m.f.changed
		m.f.mu.Unlock()
		switch {
		case down:
			return nil, errors.New("connection refused")
		case l == nil:
			return nil, component.ErrShareUnavailable
		case l.Hash != hash:
			return nil, component.ErrShareConfigDiffers
		case l.Version != after || l.Digest != digest:
			return l, nil
		}
		select {
		case <-ch:
		case <-deadline:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// countingSD is an http_sd endpoint that counts its requests.
type countingSD struct {
	sdServer
	calls atomic.Int64
}

func (s *countingSD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	s.sdServer.ServeHTTP(w, r)
}

func sdBody(addrs ...string) string {
	b := `[{"targets": [`
	for i, a := range addrs {
		if i > 0 {
			b += ","
		}
		b += fmt.Sprintf("%q", a)
	}
	return b + `]}]`
}

type shareNode struct {
	name string
	c    *discovery.Component
	rec  *discoverytest.Recorder
	reg  *prometheus.Registry
}

func (n *shareNode) gauge(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func (n *shareNode) counter(t *testing.T, name string) float64 {
	t.Helper()
	v, err := testutil.GatherAndCount(n.reg, name)
	if err != nil || v == 0 {
		return 0
	}
	mfs, _ := n.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

func startShared(t *testing.T, f *fleet, name string, a Arguments) *shareNode {
	t.Helper()
	opts, rec, reg := discoverytest.Options(t, "discovery.http.shared")
	opts.Cluster = member{f: f, name: name}
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return &shareNode{name: name, c: c, rec: rec, reg: reg}
}

// noEmpty fails if a node ever exported an empty list.
func noEmpty(t *testing.T, ns ...*shareNode) {
	t.Helper()
	for _, n := range ns {
		for i, e := range n.rec.All() {
			if len(e.(discovery.Exports).Targets) == 0 {
				t.Errorf("%s exported an empty list (export %d): switching must never flap to empty", n.name, i)
			}
		}
	}
}

func digestOf(ts []discovery.Target) string {
	s := sha256.New()
	for _, t := range ts {
		s.Write([]byte(t.Labels().String()))
	}
	return base64.RawStdEncoding.EncodeToString(s.Sum(nil))
}

// TestSharedDiscoveryRunsOnceAndFailsOver: three nodes with the same
// config; a serves. b and c export a's list at a's version, run no
// discoverer of their own, and the endpoint sees one node's calls. When a
// goes down, b and c run the discoverer at once and have the current list
// after one refresh; when b becomes the server, c follows b and stops its
// own. No node ever exports an empty list on the way.
func TestSharedDiscoveryRunsOnceAndFailsOver(t *testing.T) {
	sd := &countingSD{}
	sd.set(200, sdBody("a:1", "b:1"))
	srv := httptest.NewServer(sd)
	defer srv.Close()
	const every = 200 * time.Millisecond
	f := newFleet("a")
	a := startShared(t, f, "a", args(srv.URL, every))
	discoverytest.Eventually(t, wait, a.c.Ready, "a never ready")
	b := startShared(t, f, "b", args(srv.URL, every))
	c := startShared(t, f, "c", args(srv.URL, every))
	all := []*shareNode{a, b, c}
	converged := func(want string, ns ...*shareNode) func() bool {
		return func() bool {
			for _, n := range ns {
				if !n.c.Ready() || addrs(n.rec) != want {
					return false
				}
			}
			return true
		}
	}
	local := func(n *shareNode) bool { return n.gauge(t, "shoal_discovery_share_local") == 1 }
	discoverytest.Eventually(t, wait, func() bool { return converged("a:1,b:1", all...)() && !local(b) && !local(c) },
		"b and c never exported a's list without running their own discoverer")
	if !local(a) || a.gauge(t, "shoal_discovery_share_server") != 1 {
		t.Fatal("a, the server, does not run the discoverer")
	}

	// One node's calls: over ten refreshes, at most ten and a margin,
	// where three discoverers would make thirty. (Fewer calls under load
	// cannot fail this.)
	before := sd.calls.Load()
	time.Sleep(10 * every)
	if n := sd.calls.Load() - before; n > 13 {
		t.Errorf("%d calls in 10 refresh intervals with one server; want at most 13", n)
	}
	// A change reaches every node at the same version.
	sd.set(200, sdBody("a:1", "b:1", "c:1"))
	discoverytest.Eventually(t, wait, converged("a:1,b:1,c:1", all...), "the change never reached every node")
	discoverytest.Eventually(t, wait, func() bool {
		v := a.gauge(t, "shoal_discovery_share_version")
		return b.gauge(t, "shoal_discovery_share_version") == v && c.gauge(t, "shoal_discovery_share_version") == v
	}, "the nodes never agreed on the list's version")
	if da, db := digestOf(a.c.Targets()), digestOf(b.c.Targets()); da != db {
		t.Errorf("a's targets digest %s, b's %s", da, db)
	}

	// a goes away; the list changes at the same moment. b and c fall back
	// at once and find the change with their own first refresh.
	f.set(func() { f.down["a"] = true })
	sd.set(200, sdBody("a:1", "b:1", "c:1", "d:1"))
	discoverytest.Eventually(t, wait, converged("a:1,b:1,c:1,d:1", b, c), "b and c never found the change without a")
	if !local(b) || !local(c) {
		t.Error("b and c should run the discoverer while the server is away")
	}
	if b.counter(t, "shoal_discovery_share_fallbacks_total") < 1 {
		t.Error("b's fallback was not counted")
	}
	// The fleet notices: b serves, c follows it and stops its own.
	f.set(func() { f.server = "b" })
	discoverytest.Eventually(t, wait, func() bool { return !local(c) && local(b) }, "c never stopped its discoverer to follow b")
	sd.set(200, sdBody("e:1"))
	discoverytest.Eventually(t, wait, converged("e:1", b, c), "c never followed b's list")
	noEmpty(t, all...)
}

// TestSharedDiscoveryRefusesAnotherConfig: a node whose config differs
// (another refresh interval) never uses the server's list: it runs the
// discoverer itself; a node with the same config follows.
func TestSharedDiscoveryRefusesAnotherConfig(t *testing.T) {
	sd := &countingSD{}
	sd.set(200, sdBody("a:1"))
	srv := httptest.NewServer(sd)
	defer srv.Close()
	f := newFleet("a")
	a := startShared(t, f, "a", args(srv.URL, 200*time.Millisecond))
	discoverytest.Eventually(t, wait, a.c.Ready, "a never ready")
	b := startShared(t, f, "b", args(srv.URL, 200*time.Millisecond))
	odd := startShared(t, f, "odd", args(srv.URL, 300*time.Millisecond))
	discoverytest.Eventually(t, wait, func() bool {
		return b.gauge(t, "shoal_discovery_share_local") == 0 && b.c.Ready() && odd.c.Ready()
	}, "b never followed a")
	discoverytest.Eventually(t, wait, func() bool { return odd.counter(t, "shoal_discovery_share_fallbacks_total") >= 1 },
		"odd never refused a's list")
	if odd.gauge(t, "shoal_discovery_share_local") != 1 {
		t.Error("odd, whose config differs, must run its own discoverer")
	}
	if got := addrs(odd.rec); got != "a:1" {
		t.Errorf("odd exports %q", got)
	}
}

// TestUnsharedDiscoveryIsUnchanged: with a cluster that does not share
// (component.Alone), every node runs its own discoverer: no share
// metrics appear.
func TestUnsharedDiscoveryIsUnchanged(t *testing.T) {
	sd := &countingSD{}
	sd.set(200, sdBody("a:1"))
	srv := httptest.NewServer(sd)
	defer srv.Close()
	opts, rec, reg := discoverytest.Options(t, "discovery.http.alone")
	c, err := New(opts, args(srv.URL, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, wait, func() bool { return addrs(rec) == "a:1" }, "never found the target")
	if n, _ := testutil.GatherAndCount(reg, "shoal_discovery_share_local"); n != 0 {
		t.Errorf("share metrics registered without sharing")
	}
}

// TestSharedDiscoveryAcrossAConfigChange: the fleet changes the
// component's config (a new refresh interval) without changing its list.
// The server serves the same list under the new config's hash, so the
// follower, once it has the new config too, keeps using it rather than
// running its own discoverer.
func TestSharedDiscoveryAcrossAConfigChange(t *testing.T) {
	sd := &countingSD{}
	sd.set(200, sdBody("a:1"))
	srv := httptest.NewServer(sd)
	defer srv.Close()
	f := newFleet("a")
	a := startShared(t, f, "a", args(srv.URL, 200*time.Millisecond))
	discoverytest.Eventually(t, wait, a.c.Ready, "a never ready")
	b := startShared(t, f, "b", args(srv.URL, 200*time.Millisecond))
	discoverytest.Eventually(t, wait, func() bool { return b.c.Ready() && b.gauge(t, "shoal_discovery_share_local") == 0 }, "b never followed a")
	f.mu.Lock()
	oldHash := f.lists["a"].Hash
	f.mu.Unlock()

	if err := a.c.Update(args(srv.URL, 300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.lists["a"] != nil && f.lists["a"].Hash != oldHash
	}, "a never served its unchanged list under the new config's hash")
	if err := b.c.Update(args(srv.URL, 300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.lists["b"] != nil && f.lists["b"].Hash != oldHash && f.lists["b"].Source == "a"
	}, "b never used a's list under the new config")
	if b.gauge(t, "shoal_discovery_share_local") != 0 {
		t.Error("b runs its own discoverer after the config change")
	}
	noEmpty(t, a, b)
}
