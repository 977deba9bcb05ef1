// Package exporter is what every prometheus.exporter.* component shares: it
// serves the exporter's metrics on the node's own HTTP server under
// /api/v0/component/<id>/metrics and exports one target pointing there, with
// the labels Alloy gives it (job "integrations/<name>", instance, and
// __meta_component_name/__meta_component_id), for a prometheus.scrape to
// consume. The exporters themselves live in the folders below.
package exporter

import (
	"context"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
)

// Exports are what every exporter publishes: a list with one target.
type Exports struct {
	Targets []discovery.Target `alloy:"targets,attr"`
}

// Creator builds an exporter's metrics handler from its arguments. It is
// called at Build and at every Update; instance is the default value of the
// target's instance label ("" gives the host name).
type Creator func(opts component.Options, args component.Arguments) (h http.Handler, instance string, err error)

// Component is a running exporter. It implements component.Component and
// component.HTTPComponent.
type Component struct {
	opts    component.Options
	name    string // registration name, e.g. prometheus.exporter.unix
	job     string
	creator Creator
	targets TargetBuilder

	mu      sync.Mutex
	handler http.Handler // serves /metrics
	runner  Runner       // the latest handler's work, when it has some
	started bool         // whether runner's Run was called
	health  component.Health
	reload  chan struct{}
}

var (
	_ component.HTTPComponent   = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// Runner is a Creator's handler that has work of its own while the
// component runs: listeners to serve (statsd), connections to close
// (postgres). Run is called with a context that ends when the component
// stops or an Update replaces the handler, as Alloy runs an integration;
// the next handler's Run starts only after the previous one has returned,
// so that it can bind the same addresses. A handler replaced before it
// ran (two updates in quick succession), or left when the component stops
// before running it, has its Run called with a context already ended, so
// that it releases what its Creator took. An error from Run is logged and
// makes the component unhealthy until the next handler runs.
type Runner interface {
	http.Handler
	Run(ctx context.Context) error
}

// TargetBuilder expands the exporter's one base target into the targets
// it exports, as Alloy's blackbox exporter does (one target per probed
// address, with __param_* labels).
type TargetBuilder func(base discovery.Target, args component.Arguments) []discovery.Target

// Build returns the Build function of the exporter registered as name
// ("prometheus.exporter.unix"); job names the target's job label as Alloy
// does ("integrations/" + job, e.g. integrations/unix).
func Build(name, job string, creator Creator) func(component.Options, component.Arguments) (component.Component, error) {
	return func(opts component.Options, args component.Arguments) (component.Component, error) {
		c := &Component{opts: opts, name: name, job: "integrations/" + job, creator: creator, reload: make(chan struct{}, 1)}
		if err := c.Update(args); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// BuildWithTargets is Build for an exporter whose targets are derived from
// the base target by targets.
func BuildWithTargets(name, job string, creator Creator, targets TargetBuilder) func(component.Options, component.Arguments) (component.Component, error) {
	return func(opts component.Options, args component.Arguments) (component.Component, error) {
		c := &Component{opts: opts, name: name, job: "integrations/" + job, creator: creator, targets: targets, reload: make(chan struct{}, 1)}
		if err := c.Update(args); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Run waits for cancellation: the exporter works when it is scraped. A
// handler that is a Runner runs until it is replaced or the component
// stops.
func (c *Component) Run(ctx context.Context) error {
	var (
		cancel context.CancelFunc
		done   chan struct{}
	)
	stop := func() {
		if cancel != nil {
			cancel()
			<-done
			cancel = nil
		}
	}
	defer stop()
	defer func() {
		c.mu.Lock()
		r, started := c.runner, c.started
		c.started = true
		c.mu.Unlock()
		if r != nil && !started {
			discard(r)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.reload:
		}
		stop()
		c.mu.Lock()
		r := c.runner
		c.started = true
		c.health = component.Health{} // nothing to add to the runtime's own
		c.mu.Unlock()
		if r == nil {
			continue
		}
		rctx, cf := context.WithCancel(ctx)
		cancel, done = cf, make(chan struct{})
		go func(done chan struct{}) {
			defer close(done)
			err := r.Run(rctx)
			if err == nil || rctx.Err() != nil {
				return
			}
			c.opts.Logger.Error("error running exporter", "exporter", c.opts.ID, "err", err)
			c.mu.Lock()
			if c.runner == r {
				c.health = component.Health{State: component.HealthUnhealthy, Message: err.Error(), Updated: time.Now()}
			}
			c.mu.Unlock()
		}(done)
	}
}

// discard runs r with an ended context, so that it releases what it holds
// without starting its work.
func discard(r Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = r.Run(ctx)
}

// CurrentHealth reports a Runner's failure, and otherwise nothing (the
// runtime's own health stands).
func (c *Component) CurrentHealth() component.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

// Update rebuilds the handler from new arguments and publishes the target.
func (c *Component) Update(args component.Arguments) error {
	h, instance, err := c.creator(c.opts, args)
	if err != nil {
		return err
	}
	if instance == "" {
		instance = HostName()
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	r, _ := h.(Runner)
	c.mu.Lock()
	old, oldStarted := c.runner, c.started
	c.handler = mux
	c.runner, c.started = r, false
	c.mu.Unlock()
	if old != nil && !oldStarted {
		go discard(old)
	}
	select {
	case c.reload <- struct{}{}:
	default:
	}
	base := Target(c.opts, c.name, c.job, instance)
	targets := []discovery.Target{base}
	if c.targets != nil {
		targets = c.targets(base, args)
	}
	c.opts.OnStateChange(Exports{Targets: targets})
	return nil
}

// Handler serves the exporter's metrics (at /metrics below the
// component's path).
func (c *Component) Handler() http.Handler {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.handler
}

// Target is the one target an exporter exports: the node's own HTTP
// address, the component's metrics path, and Alloy's labels.
func Target(opts component.Options, name, job, instance string) discovery.Target {
	addr := opts.Host.HTTPAddr
	if addr == "" {
		addr = "127.0.0.1:12345" // --server.http.listen-addr's default
	}
	return discovery.Target{
		"__address__":           addr,
		"__scheme__":            "http",
		"__metrics_path__":      component.HTTPPath(opts.ID) + "metrics",
		"instance":              instance,
		"job":                   job,
		"__meta_component_name": name,
		"__meta_component_id":   opts.ID,
	}
}

// HostName is the default instance of host exporters, as in Alloy: $HOSTNAME,
// else the kernel's host name, else "unknown".
func HostName() string {
	if h := os.Getenv("HOSTNAME"); h != "" {
		return h
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "unknown"
}

// WarnIfClustered logs, as Alloy does, that a host-specific exporter in a
// cluster needs care: each node exports a different target, so a clustered
// prometheus.scrape would hand a node's own target to another node that
// does not have it.
func WarnIfClustered(opts component.Options) {
	if opts.Cluster == nil || !opts.Cluster.Enabled() {
		return
	}
	opts.Logger.Warn("a host-specific exporter is used with clustering enabled: each node exports its own target, so scrape it with a prometheus.scrape whose clustering is disabled, or give every node's target the same labels",
		"exporter", opts.ID)
}
