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

	mu      sync.Mutex
	handler http.Handler // serves /metrics
}

var _ component.HTTPComponent = (*Component)(nil)

// Build returns the Build function of the exporter registered as name
// ("prometheus.exporter.unix"); job names the target's job label as Alloy
// does ("integrations/" + job, e.g. integrations/unix).
func Build(name, job string, creator Creator) func(component.Options, component.Arguments) (component.Component, error) {
	return func(opts component.Options, args component.Arguments) (component.Component, error) {
		c := &Component{opts: opts, name: name, job: "integrations/" + job, creator: creator}
		if err := c.Update(args); err != nil {
			return nil, err
		}
		return c, nil
	}
}

// Run waits for cancellation: the exporter works when it is scraped.
func (c *Component) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
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
	c.mu.Lock()
	c.handler = mux
	c.mu.Unlock()
	c.opts.OnStateChange(Exports{Targets: []discovery.Target{Target(c.opts, c.name, c.job, instance)}})
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
