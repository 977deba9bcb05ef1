package exporter

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestTargetOfAModuleComponent(t *testing.T) {
	opts := component.Options{ID: "custom.app/prometheus.exporter.self.x", Host: component.Host{HTTPAddr: "10.0.0.1:9000"}}
	tg := Target(opts, "prometheus.exporter.self", "integrations/self", "h1")
	want := map[string]string{
		"__address__": "10.0.0.1:9000", "__scheme__": "http",
		"__metrics_path__": "/api/v0/component/custom.app/prometheus.exporter.self.x/metrics",
		"instance":         "h1", "job": "integrations/self",
		"__meta_component_name": "prometheus.exporter.self", "__meta_component_id": "custom.app/prometheus.exporter.self.x",
	}
	if len(tg) != len(want) {
		t.Errorf("target = %v", tg)
	}
	for k, v := range want {
		if tg[k] != v {
			t.Errorf("%s = %q, want %q", k, tg[k], v)
		}
	}
	if tg := Target(component.Options{ID: "a.b.c"}, "a.b", "j", "i"); tg["__address__"] != "127.0.0.1:12345" {
		t.Errorf("without a server address: %v, want the default listen address", tg["__address__"])
	}
}

func TestUpdateKeepsTheLastGoodHandler(t *testing.T) {
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.test.x")
	fail := false
	build := Build("prometheus.exporter.test", "test", func(component.Options, component.Arguments) (http.Handler, string, error) {
		if fail {
			return nil, "", errors.New("bad arguments")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("m 1\n")) }), "inst", nil
	})
	c, err := build(opts, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Last().(Exports).Targets[0]["instance"]; got != "inst" {
		t.Errorf("instance = %q", got)
	}
	fail = true
	if err := c.Update(struct{}{}); err == nil {
		t.Fatal("a failing update returned nil")
	}
	w := httptest.NewRecorder()
	c.(*Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Body.String() != "m 1\n" {
		t.Errorf("after a failed update the handler serves %q", w.Body.String())
	}
}

// runner is a handler with a Run that records its life.
type runner struct {
	http.Handler
	n       int
	started chan int
	stopped chan int
	fail    error
}

func (r *runner) Run(ctx context.Context) error {
	r.started <- r.n
	if r.fail != nil {
		return r.fail
	}
	<-ctx.Done()
	r.stopped <- r.n
	return nil
}

// TestARunnerRunsUntilReplaced: a handler that is a Runner runs while it
// is current; an Update stops it before the next one starts, stopping the
// component stops the last, and a Runner's error is the component's
// health.
func TestARunnerRunsUntilReplaced(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.test.r")
	started, stopped := make(chan int, 10), make(chan int, 10)
	n := 0
	var fail error
	build := Build("prometheus.exporter.test", "test", func(component.Options, component.Arguments) (http.Handler, string, error) {
		n++
		return &runner{Handler: http.NotFoundHandler(), n: n, started: started, stopped: stopped, fail: fail}, "i", nil
	})
	c, err := build(opts, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	next := func(ch chan int, what string) int {
		t.Helper()
		select {
		case v := <-ch:
			return v
		case <-time.After(10 * time.Second):
			t.Fatalf("no runner %s", what)
			return 0
		}
	}
	if got := next(started, "started"); got != 1 {
		t.Fatalf("started %d, want 1", got)
	}
	if err := c.Update(struct{}{}); err != nil {
		t.Fatal(err)
	}
	if got := next(stopped, "stopped"); got != 1 {
		t.Errorf("stopped %d, want 1 (before 2 starts)", got)
	}
	if got := next(started, "started"); got != 2 {
		t.Errorf("started %d, want 2", got)
	}
	fail = errors.New("port busy")
	if err := c.Update(struct{}{}); err != nil {
		t.Fatal(err)
	}
	next(stopped, "stopped")
	next(started, "started")
	discoverytest.Eventually(t, 10*time.Second, func() bool {
		h := c.(*Component).CurrentHealth()
		return h.State == component.HealthUnhealthy && h.Message == "port busy"
	}, "a failing runner never made the component unhealthy")
	fail = nil
	if err := c.Update(struct{}{}); err != nil {
		t.Fatal(err)
	}
	next(started, "started")
	if h := c.(*Component).CurrentHealth(); h.State == component.HealthUnhealthy {
		t.Errorf("health after a good rebuild: %+v", h)
	}
	cancel()
	if got := next(stopped, "stopped at the end"); got != 4 {
		t.Errorf("stopped %d at the end, want 4", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestARunnerReplacedBeforeItRanIsDiscarded: a handler replaced before
// the component ran it has its Run called with an ended context (so that
// it releases what it holds), and only the latest handler runs.
func TestARunnerReplacedBeforeItRanIsDiscarded(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.test.d")
	started, stopped := make(chan int, 10), make(chan int, 10)
	n := 0
	build := Build("prometheus.exporter.test", "test", func(component.Options, component.Arguments) (http.Handler, string, error) {
		n++
		return &runner{Handler: http.NotFoundHandler(), n: n, started: started, stopped: stopped}, "i", nil
	})
	c, err := build(opts, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(struct{}{}); err != nil { // replaces 1, which never ran
		t.Fatal(err)
	}
	wait := func(ch chan int, want int, what string) {
		t.Helper()
		select {
		case got := <-ch:
			if got != want {
				t.Errorf("%s %d, want %d", what, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("runner %d never %s", want, what)
		}
	}
	wait(started, 1, "started (discarded)")
	wait(stopped, 1, "stopped (discarded)")
	discoverytest.Run(t, c)
	wait(started, 2, "started")
	select {
	case got := <-started:
		t.Errorf("runner %d also started", got)
	case <-time.After(200 * time.Millisecond):
	}
}
