package runtime

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
)

// The test components. test.node adds its inputs and a bias the test can
// change, and exports the sum as output; it counts builds, updates and runs,
// and fails on demand.

type nodeArgs struct {
	Input      int           `alloy:"input,attr,optional"`
	Inputs     []int         `alloy:"inputs,attr,optional"`
	Interval   time.Duration `alloy:"interval,attr,optional"`
	FailBuild  bool          `alloy:"fail_build,attr,optional"`
	FailUpdate bool          `alloy:"fail_update,attr,optional"`
	ExitWith   string        `alloy:"exit_with,attr,optional"`
}

type nodeExports struct {
	Output int `alloy:"output,attr"`
}

type reqArgs struct {
	Needed string     `alloy:"needed,attr"`
	Inner  *innerArgs `alloy:"inner,block,optional"`
}

type innerArgs struct {
	Size int `alloy:"size,attr"`
}

// fakes records every instance the test registry builds.
type fakes struct {
	mu        sync.Mutex
	instances map[string][]*fakeNode // by ID, in build order
	ready     map[string]bool
	stopOrder []string
}

type fakeNode struct {
	id   string
	opts component.Options
	f    *fakes

	mu       sync.Mutex
	args     nodeArgs
	bias     int
	updates  int
	running  bool
	runs     int
	stopped  int
	lastSeen int
}

func newFakes() *fakes {
	return &fakes{instances: make(map[string][]*fakeNode), ready: make(map[string]bool)}
}

func (f *fakes) registry() *component.Registry {
	return component.NewRegistry(
		component.Registration{
			Name:    "test.node",
			Args:    nodeArgs{},
			Exports: nodeExports{},
			Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
				a := args.(nodeArgs)
				if a.FailBuild {
					return nil, errors.New("build failed on purpose")
				}
				n := &fakeNode{id: opts.ID, opts: opts, f: f, args: a}
				f.mu.Lock()
				f.instances[opts.ID] = append(f.instances[opts.ID], n)
				f.mu.Unlock()
				n.publish()
				return n, nil
			},
		},
		component.Registration{
			Name: "test.req",
			Args: reqArgs{},
			Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
				return &idle{}, nil
			},
		},
		component.Registration{
			Name: "test.discovery",
			Args: struct{}{},
			Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
				return &fakeDiscovery{id: opts.ID, f: f}, nil
			},
		},
	)
}

// latest returns the newest instance built for id.
func (f *fakes) latest(t *testing.T, id string) *fakeNode {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	is := f.instances[id]
	if len(is) == 0 {
		t.Fatalf("component %s was never built", id)
	}
	return is[len(is)-1]
}

func (f *fakes) builds(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.instances[id])
}

func (n *fakeNode) publish() {
	n.mu.Lock()
	out := n.args.Input + n.bias
	for _, v := range n.args.Inputs {
		out += v
	}
	n.mu.Unlock()
	n.opts.OnStateChange(nodeExports{Output: out})
}

// setBias changes the node's output, as a discovery finding new targets
// would.
func (n *fakeNode) setBias(b int) {
	n.mu.Lock()
	n.bias = b
	n.mu.Unlock()
	n.publish()
}

func (n *fakeNode) Run(ctx context.Context) error {
	n.mu.Lock()
	n.running = true
	n.runs++
	exit := n.args.ExitWith
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.running = false
		n.stopped++
		n.mu.Unlock()
		n.f.mu.Lock()
		n.f.stopOrder = append(n.f.stopOrder, n.id)
		n.f.mu.Unlock()
	}()
	if exit != "" {
		return errors.New(exit)
	}
	<-ctx.Done()
	return nil
}

func (n *fakeNode) Update(args component.Arguments) error {
	a := args.(nodeArgs)
	if a.FailUpdate {
		return errors.New("update failed on purpose")
	}
	n.mu.Lock()
	n.args = a
	n.updates++
	n.mu.Unlock()
	n.publish()
	return nil
}

func (n *fakeNode) state() (args nodeArgs, updates, runs, stopped int, running bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.args, n.updates, n.runs, n.stopped, n.running
}

type idle struct{}

func (*idle) Run(ctx context.Context) error    { <-ctx.Done(); return nil }
func (*idle) Update(component.Arguments) error { return nil }

type fakeDiscovery struct {
	idle
	id string
	f  *fakes
}

func (d *fakeDiscovery) Ready() bool {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	return d.f.ready[d.id]
}

func (d *fakeDiscovery) CurrentHealth() component.Health {
	return component.Health{State: component.HealthHealthy, Message: "refreshed"}
}

// eventually waits up to 10 s for cond, failing the test with what.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// started runs rt until the test ends and waits for Run to return then.
func started(t *testing.T, rt *Runtime) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func output(t *testing.T, rt *Runtime, id string) int {
	t.Helper()
	info, ok := rt.Component(id)
	if !ok {
		t.Fatalf("no component %s", id)
	}
	e, ok := info.Exports.(nodeExports)
	if !ok {
		t.Fatalf("%s exports %T", id, info.Exports)
	}
	return e.Output
}
