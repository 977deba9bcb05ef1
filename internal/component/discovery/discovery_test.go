package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/refresh"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

// source is what a fake discoverer finds; tests change it as they go.
type source struct {
	mu      sync.Mutex
	groups  []*targetgroup.Group
	err     error  // refresh fails with err
	logErr  string // refresh logs this error and counts a failure, but succeeds
	starts  int
	stream  chan []*targetgroup.Group
	refresh time.Duration
}

func (s *source) set(f func(s *source)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *source) startCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

func group(src string, addrs ...string) *targetgroup.Group {
	g := &targetgroup.Group{Source: src, Labels: model.LabelSet{"group": model.LabelValue(src)}}
	for _, a := range addrs {
		g.Targets = append(g.Targets, model.LabelSet{"__address__": model.LabelValue(a)})
	}
	return g
}

// refreshConfig is a prometheus SD config for a discoverer built on the
// refresh package, like http_sd and dns_sd.
type refreshConfig struct{ src *source }

type fakeMetrics struct {
	failures prometheus.Counter
	reg      prometheus.Registerer
	rmi      promdiscovery.RefreshMetricsInstantiator
}

func (m *fakeMetrics) Register() error { return m.reg.Register(m.failures) }
func (m *fakeMetrics) Unregister()     { m.reg.Unregister(m.failures) }

func (refreshConfig) Name() string { return "fakerefresh" }

func (refreshConfig) NewDiscovererMetrics(reg prometheus.Registerer, rmi promdiscovery.RefreshMetricsInstantiator) promdiscovery.DiscovererMetrics {
	return &fakeMetrics{
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "fake_failures_total", Help: "x"}),
		reg:      reg,
		rmi:      rmi,
	}
}

func (c refreshConfig) NewDiscoverer(o promdiscovery.DiscovererOptions) (promdiscovery.Discoverer, error) {
	m := o.Metrics.(*fakeMetrics)
	c.src.set(func(s *source) { s.starts++ })
	every := c.src.refresh
	if every == 0 {
		every = 20 * time.Millisecond
	}
	return refresh.NewDiscovery(refresh.Options{
		Logger:              o.Logger,
		Mech:                "fakerefresh",
		SetName:             o.SetName,
		Interval:            every,
		MetricsInstantiator: m.rmi,
		RefreshF: func(context.Context) ([]*targetgroup.Group, error) {
			c.src.mu.Lock()
			defer c.src.mu.Unlock()
			if c.src.err != nil {
				return nil, c.src.err
			}
			if c.src.logErr != "" {
				o.Logger.Error("Error refreshing targets", "err", c.src.logErr)
				m.failures.Inc()
			}
			return c.src.groups, nil
		},
	}), nil
}

// streamConfig is a discoverer that sends whatever the test puts on its
// stream and never marks the end of a refresh, like the Kubernetes one.
type streamConfig struct{ src *source }

func (streamConfig) Name() string { return "fakestream" }

func (streamConfig) NewDiscovererMetrics(prometheus.Registerer, promdiscovery.RefreshMetricsInstantiator) promdiscovery.DiscovererMetrics {
	return &promdiscovery.NoopDiscovererMetrics{}
}

func (c streamConfig) NewDiscoverer(promdiscovery.DiscovererOptions) (promdiscovery.Discoverer, error) {
	c.src.set(func(s *source) { s.starts++ })
	return streamDiscoverer{c.src.stream}, nil
}

type streamDiscoverer struct{ in chan []*targetgroup.Group }

func (d streamDiscoverer) Run(ctx context.Context, up chan<- []*targetgroup.Group) {
	for {
		select {
		case <-ctx.Done():
			return
		case gs := <-d.in:
			select {
			case up <- gs:
			case <-ctx.Done():
				return
			}
		}
	}
}

// args is the fake component's Arguments: the config itself.
type args struct{ cfg promdiscovery.Config }

func convert(a component.Arguments) (promdiscovery.Config, error) {
	cfg := a.(args).cfg
	if cfg == nil {
		return nil, errors.New("no config")
	}
	return cfg, nil
}

func start(t *testing.T, cfg promdiscovery.Config, mech discovery.Mechanism) (*discovery.Component, *discoverytest.Recorder) {
	t.Helper()
	opts, rec, _ := discoverytest.Options(t, "discovery.fake.test")
	c, err := discovery.New(opts, args{cfg}, convert, mech)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return c, rec
}

func addrs(ts []discovery.Target) string {
	var as []string
	for _, t := range ts {
		as = append(as, t["__address__"])
	}
	return strings.Join(as, ",")
}

func lastAddrs(rec *discoverytest.Recorder) string {
	ts, _ := rec.Targets()
	return addrs(ts)
}

func TestReadyOnlyOnceTheFirstRefreshIsExported(t *testing.T) {
	src := &source{groups: []*targetgroup.Group{group("g", "b:1", "a:1")}}
	c, rec := start(t, refreshConfig{src}, discovery.Mechanism{})
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	// Ready implies the targets of that refresh are exported already.
	if got := lastAddrs(rec); got != "a:1,b:1" {
		t.Fatalf("targets when ready = %q, want a:1,b:1", got)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
}

func TestFailedRefreshIsUnhealthyWithTheErrorAndKeepsTargets(t *testing.T) {
	src := &source{groups: []*targetgroup.Group{group("g", "a:1")}}
	c, rec := start(t, refreshConfig{src}, discovery.Mechanism{})
	discoverytest.Eventually(t, wait, c.Ready, "never ready")

	src.set(func(s *source) { s.err = errors.New("connection refused") })
	discoverytest.Eventually(t, wait, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "connection refused")
	}, "health = %+v, want unhealthy naming the error", c.CurrentHealth())
	if got := lastAddrs(rec); got != "a:1" {
		t.Fatalf("targets = %q, want the last good a:1", got)
	}

	src.set(func(s *source) { s.err = nil; s.groups = []*targetgroup.Group{group("g", "c:1")} })
	discoverytest.Eventually(t, wait, func() bool {
		return lastAddrs(rec) == "c:1" && c.CurrentHealth().State == component.HealthHealthy
	}, "no recovery: %q %+v", lastAddrs(rec), c.CurrentHealth())
}

func TestFirstRefreshFailingStillMakesItReady(t *testing.T) {
	src := &source{err: errors.New("no route to host"), refresh: time.Hour}
	c, rec := start(t, refreshConfig{src}, discovery.Mechanism{})
	discoverytest.Eventually(t, wait, c.Ready, "a failed first refresh never made it ready")
	if ts, ok := rec.Targets(); !ok || len(ts) != 0 {
		t.Fatalf("exports = %v (published %v), want an empty list", ts, ok)
	}
	discoverytest.Eventually(t, wait, func() bool {
		return strings.Contains(c.CurrentHealth().Message, "no route to host")
	}, "health = %+v", c.CurrentHealth())
}

func TestErrorsThatAreOnlyLoggedAndCountedMakeItUnhealthy(t *testing.T) {
	// Like dns_sd: a name fails, the rest still arrive.
	src := &source{groups: []*targetgroup.Group{group("ok", "a:1")}}
	mech := discovery.Mechanism{FailureMetrics: []string{"fake_failures_total"}}
	c, rec := start(t, refreshConfig{src}, mech)
	discoverytest.Eventually(t, wait, c.Ready, "never ready")

	src.set(func(s *source) {
		s.logErr = "lookup bad.example: SERVFAIL"
		s.groups = []*targetgroup.Group{group("ok", "a:1", "b:1")}
	})
	discoverytest.Eventually(t, wait, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "SERVFAIL")
	}, "health = %+v", c.CurrentHealth())
	discoverytest.Eventually(t, wait, func() bool { return lastAddrs(rec) == "a:1,b:1" },
		"the partial result of a failing refresh was not exported: %q", lastAddrs(rec))

	src.set(func(s *source) { s.logErr = "" })
	discoverytest.Eventually(t, wait, func() bool {
		return c.CurrentHealth().State == component.HealthHealthy
	}, "health = %+v", c.CurrentHealth())
}

func TestStreamingDiscoveryWithNothingToSendIsReadyAfterTheSettleTimeout(t *testing.T) {
	src := &source{stream: make(chan []*targetgroup.Group)}
	c, rec := start(t, streamConfig{src}, discovery.Mechanism{SettleQuiet: 50 * time.Millisecond, SettleTimeout: 200 * time.Millisecond})
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	if ts, ok := rec.Targets(); !ok || len(ts) != 0 {
		t.Fatalf("exports = %v (published %v), want an empty list", ts, ok)
	}
}

func TestStreamingDiscoveryIsReadyWithItsWholeInitialBurst(t *testing.T) {
	src := &source{stream: make(chan []*targetgroup.Group)}
	c, rec := start(t, streamConfig{src}, discovery.Mechanism{SettleQuiet: 200 * time.Millisecond, SettleTimeout: time.Hour})
	for i := range 50 {
		src.stream <- []*targetgroup.Group{group(fmt.Sprintf("pod/%02d", i), fmt.Sprintf("10.0.0.%d:80", i))}
	}
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	if ts, _ := rec.Targets(); len(ts) != 50 {
		t.Fatalf("%d targets exported when ready, want all 50 of the burst", len(ts))
	}
	// Later updates are exported too, and a group emptied removes its targets.
	src.stream <- []*targetgroup.Group{{Source: "pod/00"}}
	discoverytest.Eventually(t, wait, func() bool { ts, _ := rec.Targets(); return len(ts) == 49 },
		"an emptied group's target stayed")
}

func TestUpdateRestartsTheDiscovererOnlyWhenTheConfigChanged(t *testing.T) {
	src := &source{groups: []*targetgroup.Group{group("g", "a:1")}, refresh: time.Hour}
	c, rec := start(t, refreshConfig{src}, discovery.Mechanism{})
	discoverytest.Eventually(t, wait, c.Ready, "never ready")

	if err := c.Update(args{refreshConfig{src}}); err != nil {
		t.Fatal(err)
	}
	if n := src.startCount(); n != 1 {
		t.Fatalf("discoverer built %d times after an Update with the same config, want 1", n)
	}

	other := &source{groups: []*targetgroup.Group{group("g", "z:1")}, refresh: time.Hour}
	if err := c.Update(args{refreshConfig{other}}); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool { return lastAddrs(rec) == "z:1" }, "the new config's targets never came")
	for _, e := range rec.All() {
		if len(e.(discovery.Exports).Targets) == 0 {
			t.Fatalf("an empty target list was exported during the restart: %v", rec.All())
		}
	}

	if err := c.Update(args{nil}); err == nil {
		t.Fatal("Update with a bad config succeeded")
	}
	if got := lastAddrs(rec); got != "z:1" {
		t.Fatalf("targets after a failed Update = %q, want z:1 kept", got)
	}
}

func TestTargetsMergeGroupLabelsSortAndDeduplicate(t *testing.T) {
	g1 := group("b", "x:1", "x:1")
	g1.Targets = append(g1.Targets, model.LabelSet{"__address__": "y:1", "group": "own"})
	src := &source{groups: []*targetgroup.Group{g1, group("a", "x:1")}}
	c, rec := start(t, refreshConfig{src}, discovery.Mechanism{})
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	ts, _ := rec.Targets()
	var got []string
	for _, t := range ts {
		got = append(got, t["__address__"]+"/"+t["group"])
	}
	if s := strings.Join(got, " "); s != "x:1/a x:1/b y:1/own" {
		t.Fatalf("targets = %s, want x:1/a x:1/b y:1/own (deduplicated, target labels win)", s)
	}
}

func TestSortTargetsIsDeterministic(t *testing.T) {
	ts := []discovery.Target{
		{"__address__": "b", "job": "x"},
		{"__address__": "a", "job": "y"},
		{"__address__": "a"},
		{"__address__": "a", "job": "y"},
	}
	got := discovery.SortTargets(ts)
	want := `[map[__address__:a] map[__address__:a job:y] map[__address__:b job:x]]`
	if s := fmt.Sprint(got); s != want {
		t.Fatalf("SortTargets = %s, want %s", s, want)
	}
}
