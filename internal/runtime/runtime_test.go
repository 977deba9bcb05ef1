package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/config"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
)

const chain = `
test.node "c" {
	inputs = [test.node.b.output, 100]
}
test.node "b" {
	input = test.node.a.output
}
test.node "a" {
	input = 1
}
test.node "other" {
	input = 7
}
`

func load(t *testing.T, rt *Runtime, src string) {
	t.Helper()
	if err := rt.Load("cfg.alloy", []byte(src)); err != nil {
		t.Fatalf("Load: %v", err)
	}
}

func TestLoadEvaluatesInTopologicalOrder(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, chain)
	// c is declared first but depends on b, which depends on a: each saw
	// the other's exports when it was built.
	if got := output(t, rt, "test.node.c"); got != 101 {
		t.Fatalf("c.output = %d, want 101", got)
	}
	info, _ := rt.Component("test.node.b")
	if !slices.Equal(info.ReferencesTo, []string{"test.node.a"}) || !slices.Equal(info.ReferencedBy, []string{"test.node.c"}) {
		t.Fatalf("b references %v, referenced by %v", info.ReferencesTo, info.ReferencedBy)
	}
	if info.Name != "test.node" || info.Label != "b" || info.Position.String() != "cfg.alloy:5:1" {
		t.Fatalf("b info = %+v", info)
	}
	if args := info.Arguments.(nodeArgs); args.Input != 1 {
		t.Fatalf("b arguments = %+v", args)
	}
	if !rt.Loaded() {
		t.Fatal("Loaded() = false after a load")
	}
}

func TestExportChangeReevaluatesOnlyDependants(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, chain)
	started(t, rt)

	a := f.latest(t, "test.node.a")
	a.setBias(10)
	eventually(t, "c sees a's new output through b", func() bool { return output(t, rt, "test.node.c") == 111 })

	_, bUpdates, _, _, _ := f.latest(t, "test.node.b").state()
	_, cUpdates, _, _, _ := f.latest(t, "test.node.c").state()
	_, otherUpdates, _, _, _ := f.latest(t, "test.node.other").state()
	_, aUpdates, _, _, _ := a.state()
	if bUpdates != 1 || cUpdates != 1 {
		t.Errorf("b and c updated %d and %d times, want once each", bUpdates, cUpdates)
	}
	if otherUpdates != 0 || aUpdates != 0 {
		t.Errorf("unrelated components updated: other %d, a %d", otherUpdates, aUpdates)
	}

	// Publishing equal exports again re-evaluates nothing.
	a.setBias(10)
	a.setBias(10)
	f.latest(t, "test.node.other").setBias(5) // a change elsewhere, to know a pass ran
	eventually(t, "other's change is seen", func() bool { return output(t, rt, "test.node.other") == 12 })
	if _, n, _, _, _ := f.latest(t, "test.node.b").state(); n != 1 {
		t.Errorf("b updated %d times after unchanged exports, want 1", n)
	}
}

func TestFailedEvaluationKeepsLastGoodArgumentsAndTurnsUnhealthy(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	// b fails to update whenever a's output is over 100.
	load(t, rt, `
test.node "a" { input = 1 }
test.node "b" {
	input       = test.node.a.output
	fail_update = test.node.a.output > 100
}
test.node "c" {
	input = [10, 20, 30][test.node.a.output - 1]
}
`)
	started(t, rt)
	if h := health(rt, "test.node.c"); h.State != component.HealthHealthy {
		t.Fatalf("c health = %+v", h)
	}

	// a's output 5 makes c's index out of range: c keeps input 10.
	f.latest(t, "test.node.a").setBias(4)
	eventually(t, "c turns unhealthy", func() bool { return health(rt, "test.node.c").State == component.HealthUnhealthy })
	h := health(rt, "test.node.c")
	if !strings.Contains(h.Message, "cfg.alloy:8:23: test.node.a.output - 1 index 4 is out of range") || h.Updated.IsZero() {
		t.Errorf("c health = %+v, want the evaluation error with its position and a time", h)
	}
	info, _ := rt.Component("test.node.c")
	if got := info.Arguments.(nodeArgs).Input; got != 10 {
		t.Errorf("c arguments input = %d, want the last good 10", got)
	}
	if got := output(t, rt, "test.node.c"); got != 10 {
		t.Errorf("c output = %d, want 10", got)
	}

	// Update failing counts as unhealthy too, and keeps the old arguments.
	f.latest(t, "test.node.a").setBias(200)
	eventually(t, "b turns unhealthy", func() bool { return health(rt, "test.node.b").State == component.HealthUnhealthy })
	if got := output(t, rt, "test.node.b"); got != 5 {
		t.Errorf("b output = %d, want the last good 5", got)
	}

	// Recovery: valid inputs again make both healthy.
	f.latest(t, "test.node.a").setBias(1)
	eventually(t, "b and c recover", func() bool {
		return health(rt, "test.node.b").State == component.HealthHealthy && health(rt, "test.node.c").State == component.HealthHealthy
	})
	if got := output(t, rt, "test.node.c"); got != 20 {
		t.Errorf("c output = %d, want 20", got)
	}
}

func health(rt *Runtime, id string) component.Health {
	info, _ := rt.Component(id)
	return info.Health
}

func TestComponentWhoseRunFailsIsExited(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, `test.node "a" { exit_with = "disk on fire" }`)
	started(t, rt)
	eventually(t, "a is exited", func() bool { return health(rt, "test.node.a").State == component.HealthExited })
	if h := health(rt, "test.node.a"); !strings.Contains(h.Message, "disk on fire") {
		t.Errorf("health = %+v", h)
	}
}

func TestReloadWithBadConfigChangesNothing(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, chain)
	started(t, rt)
	waitRunning(t, f, "test.node.a", "test.node.b", "test.node.c")
	before := rt.Fingerprint()

	bad := strings.Replace(chain, "input = 1\n", "input = \"one\"\n", 1) + "test.node \"new\" {}\ntest.node \"zzz\" { input = test.node.gone.output }\n"
	err := rt.Load("cfg.alloy", []byte(bad))
	var diags diag.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("Load error = %v, want diagnostics", err)
	}
	want := []string{
		`cfg.alloy:9:10: "one" should be number, got string`,
		`cfg.alloy:15:27: component "test.node.gone.output" does not exist or is out of scope`,
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Error())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("diagnostics = %q, want %q", got, want)
	}
	if _, ok := rt.Component("test.node.new"); ok || f.builds("test.node.new") != 0 {
		t.Error("a component of the bad config was built")
	}
	for _, id := range []string{"test.node.a", "test.node.b", "test.node.c"} {
		if _, updates, _, stopped, running := f.latest(t, id).state(); updates != 0 || stopped != 0 || !running {
			t.Errorf("%s touched: updates %d, stopped %d, running %v", id, updates, stopped, running)
		}
	}
	if rt.Fingerprint() != before {
		t.Error("fingerprint changed")
	}
}

func TestReloadKeepsUpdatesStopsAndStarts(t *testing.T) {
	f := newFakes()
	reg := prometheus.NewRegistry()
	rt := New(Options{Registry: f.registry(), Registerer: reg})
	load(t, rt, chain)
	started(t, rt)
	waitRunning(t, f, "test.node.a", "test.node.b", "test.node.c", "test.node.other")
	a, b, c, other := f.latest(t, "test.node.a"), f.latest(t, "test.node.b"), f.latest(t, "test.node.c"), f.latest(t, "test.node.other")

	// a changes its input; b is rewritten but evaluates the same; c changes
	// because a does; other is removed; d is new. Layout changes too.
	next := `
test.node "a" {
	input = 2 // changed
}

test.node "b" { input = test.node.a.output - 0 }

test.node "c" {
	inputs = [test.node.b.output, 100]
}

test.node "d" {
	input = test.node.c.output
}
`
	load(t, rt, next)

	if f.builds("test.node.a") != 1 || f.builds("test.node.b") != 1 || f.builds("test.node.c") != 1 {
		t.Fatal("a kept component was rebuilt")
	}
	if args, updates, runs, stopped, _ := a.state(); updates != 1 || args.Input != 2 || runs != 1 || stopped != 0 {
		t.Errorf("a: updates %d, input %d, runs %d, stopped %d; want updated in place once", updates, args.Input, runs, stopped)
	}
	// b's new arguments are equal until a's new output propagates; then it
	// updates like any dependant. Its instance never restarts.
	eventually(t, "d sees the new chain", func() bool { return output(t, rt, "test.node.d") == 102 })
	for name, n := range map[string]*fakeNode{"b": b, "c": c} {
		if _, _, runs, stopped, running := n.state(); runs != 1 || stopped != 0 || !running {
			t.Errorf("%s restarted: runs %d, stopped %d", name, runs, stopped)
		}
	}
	if _, _, _, stopped, running := other.state(); stopped != 1 || running {
		t.Errorf("other not stopped: stopped %d, running %v", stopped, running)
	}
	if _, ok := rt.Component("test.node.other"); ok {
		t.Error("removed component still listed")
	}
	d := f.latest(t, "test.node.d")
	eventually(t, "d runs", func() bool { _, _, runs, _, _ := d.state(); return runs == 1 })

	// The same config again touches nothing.
	load(t, rt, next)
	if _, updates, _, _, _ := a.state(); updates != 1 {
		t.Errorf("a updated by an identical reload: %d updates", updates)
	}
	if _, updates, _, _, _ := d.state(); updates != 0 {
		t.Errorf("d updated by an identical reload: %d updates", updates)
	}
}

func TestReloadWithUnchangedArgumentsDoesNotCallUpdate(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, chain)
	started(t, rt)
	before := rt.Fingerprint()
	// Same meaning, different layout and comments.
	load(t, rt, strings.ReplaceAll(strings.ReplaceAll(chain, "\t", "    "), "}\n", "} // done\n"))
	for _, id := range []string{"test.node.a", "test.node.b", "test.node.c", "test.node.other"} {
		if _, updates, _, stopped, _ := f.latest(t, id).state(); updates != 0 || stopped != 0 || f.builds(id) != 1 {
			t.Errorf("%s: updates %d, stopped %d, builds %d", id, updates, stopped, f.builds(id))
		}
	}
	if rt.Fingerprint() != before {
		t.Error("fingerprint depends on layout or comments")
	}
	load(t, rt, strings.Replace(chain, "input = 7", "input = 8", 1))
	if rt.Fingerprint() == before {
		t.Error("fingerprint did not change with the config")
	}
}

func TestBuildFailureLeavesTheRestRunning(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	err := rt.Load("cfg.alloy", []byte(`
test.node "a" { input = 1 }
test.node "bad" { fail_build = true }
`))
	var ae *ApplyError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "test.node.bad (cfg.alloy:3:1): building: build failed on purpose") {
		t.Fatalf("Load error = %v, want an ApplyError naming test.node.bad", err)
	}
	started(t, rt)
	a := f.latest(t, "test.node.a")
	eventually(t, "a runs", func() bool { _, _, runs, _, _ := a.state(); return runs == 1 })
	if h := health(rt, "test.node.bad"); h.State != component.HealthUnhealthy || !strings.Contains(h.Message, "build failed on purpose") {
		t.Errorf("bad health = %+v", h)
	}
	// Fixing it in a reload builds and starts it.
	load(t, rt, `
test.node "a" { input = 1 }
test.node "bad" { }
`)
	bad := f.latest(t, "test.node.bad")
	eventually(t, "bad runs", func() bool { _, _, runs, _, _ := bad.state(); return runs == 1 })
	if h := health(rt, "test.node.bad"); h.State != component.HealthHealthy {
		t.Errorf("bad health = %+v", h)
	}
}

func TestDiscoveryReadyWaitsForEveryDiscovery(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	if rt.DiscoveryReady() {
		t.Fatal("ready before any load")
	}
	load(t, rt, `
test.discovery "one" {}
test.discovery "two" {}
test.node "n" {}
`)
	if rt.DiscoveryReady() {
		t.Fatal("ready before any refresh")
	}
	f.mu.Lock()
	f.ready["test.discovery.one"] = true
	f.mu.Unlock()
	if rt.DiscoveryReady() {
		t.Fatal("ready with one discovery pending")
	}
	f.mu.Lock()
	f.ready["test.discovery.two"] = true
	f.mu.Unlock()
	if !rt.DiscoveryReady() {
		t.Fatal("not ready after every discovery refreshed")
	}
}

func TestGlobalsAreDecodedAndAnnounced(t *testing.T) {
	rt := New(Options{Registry: newFakes().registry()})
	if g := rt.Globals(); g.Logging.Level != "info" || g.Logging.Format != "logfmt" {
		t.Fatalf("default globals = %+v", g)
	}
	var seen []config.Globals
	unsubscribe := rt.SubscribeGlobals(func(g config.Globals) { seen = append(seen, g) })
	load(t, rt, `logging { level = "debug" }`)
	load(t, rt, `logging { level = "debug" }`) // unchanged: no announcement
	load(t, rt, `
logging {
	level  = "warn"
	format = "json"
}
http {
	auth {
		basic {
			username = "admin"
			password = "hunter2"
		}
		filter {
			paths = ["/metrics"]
			authenticate_matching_paths = false
		}
	}
}
`)
	unsubscribe()
	load(t, rt, `logging { level = "error" }`)
	if len(seen) != 2 {
		t.Fatalf("announced %d times, want 2", len(seen))
	}
	if seen[0].Logging.Level != "debug" || seen[1].Logging.Level != "warn" || seen[1].Logging.Format != "json" {
		t.Errorf("announced %+v", seen)
	}
	auth := seen[1].HTTP.Auth
	if auth == nil || auth.Basic == nil || auth.Basic.Username != "admin" || string(auth.Basic.Password) != "hunter2" {
		t.Fatalf("auth = %+v", auth)
	}
	if auth.NeedsAuth("/metrics") || !auth.NeedsAuth("/api/v0/web/components") {
		t.Error("filter with authenticate_matching_paths = false should exempt /metrics only")
	}
	if rt.Globals().Logging.Level != "error" {
		t.Errorf("globals = %+v", rt.Globals())
	}
}

func TestComponentMetricsAreLabelledAndDroppedWithTheComponent(t *testing.T) {
	reg := prometheus.NewRegistry()
	regs := component.NewRegistry(component.Registration{
		Name: "test.metered",
		Args: struct{}{},
		Build: func(opts component.Options, _ component.Arguments) (component.Component, error) {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "Things."})
			if err := opts.Registerer.Register(c); err != nil {
				return nil, err
			}
			c.Inc()
			return &idle{}, nil
		},
	})
	rt := New(Options{Registry: regs, Registerer: reg})
	load(t, rt, `test.metered "x" {}`)
	started(t, rt)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetMetric()[0].GetLabel()[0].GetValue() != "test.metered.x" {
		t.Fatalf("gathered %v, %v", mfs, err)
	}
	load(t, rt, ``)
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Fatalf("metrics of a removed component remain: %v", mfs)
	}
	// The same ID can come back and register its metrics again.
	if err := rt.Load("cfg.alloy", []byte(`test.metered "x" {}`)); err != nil {
		t.Fatal(err)
	}
}

func waitRunning(t *testing.T, f *fakes, ids ...string) {
	t.Helper()
	for _, id := range ids {
		n := f.latest(t, id)
		eventually(t, id+" runs", func() bool { _, _, _, _, running := n.state(); return running })
	}
}

func TestShutdownStopsUsersBeforeWhatTheyUse(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, chain)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	waitRunning(t, f, "test.node.a", "test.node.b", "test.node.c", "test.node.other")
	if err := rt.Run(ctx); err == nil {
		t.Error("a second Run succeeded")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Run has returned: every component has stopped.
	for _, id := range []string{"test.node.a", "test.node.b", "test.node.c", "test.node.other"} {
		if _, _, _, stopped, running := f.latest(t, id).state(); stopped != 1 || running {
			t.Errorf("%s still running after Run returned", id)
		}
	}
	f.mu.Lock()
	order := slices.Clone(f.stopOrder)
	f.mu.Unlock()
	pos := func(id string) int { return slices.Index(order, id) }
	if !(pos("test.node.c") < pos("test.node.b") && pos("test.node.b") < pos("test.node.a")) {
		t.Errorf("stop order %v: want c before b before a", order)
	}
	// A load after Run has ended builds but starts nothing.
	load(t, rt, chain+"test.node \"late\" {}\n")
	if _, _, runs, _, _ := f.latest(t, "test.node.late").state(); runs != 0 {
		t.Error("a component was started after Run ended")
	}
}

func TestConcurrentReloadsAndExportChanges(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, chain)
	started(t, rt)
	a := f.latest(t, "test.node.a")
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 50 {
			a.setBias(i)
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 20 {
			src := strings.Replace(chain, "input = 7", fmt.Sprintf("input = %d", i), 1)
			if err := rt.Load("cfg.alloy", []byte(src)); err != nil {
				t.Error(err)
			}
			_ = rt.Components()
		}
	}()
	wg.Wait()
	a.setBias(1000)
	eventually(t, "c settles on a's last output", func() bool { return output(t, rt, "test.node.c") == 1101 })
}

func TestReloadRestartsAnExitedComponent(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, `test.node "a" { exit_with = "disk on fire" }`)
	started(t, rt)
	eventually(t, "a is exited", func() bool { return health(rt, "test.node.a").State == component.HealthExited })
	load(t, rt, `test.node "a" { }`)
	a := f.latest(t, "test.node.a")
	eventually(t, "a runs again", func() bool { _, _, runs, _, running := a.state(); return runs == 2 && running })
	if h := health(rt, "test.node.a"); h.State != component.HealthHealthy {
		t.Errorf("health after restart = %+v", h)
	}
	if f.builds("test.node.a") != 1 {
		t.Error("restart rebuilt the component")
	}
}
