// Package self is the prometheus.exporter.self component: it serves the
// node's own metrics (what shoal's /metrics shows: the Go runtime, the
// process, shoal_build_info and every component's metrics) as an exporter
// target, the way Alloy's serves Alloy's. It takes no arguments.
package self

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

// Arguments are prometheus.exporter.self's: there are none.
type Arguments struct{}

// Registration is prometheus.exporter.self's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.self",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.self", "self", create),
}

func create(opts component.Options, _ component.Arguments) (http.Handler, string, error) {
	// Not host-specific, so no warning in a cluster: Alloy does the same.
	if opts.Host.Gatherer == nil {
		return nil, "", errors.New("this node has no metrics registry to export")
	}
	return promhttp.HandlerFor(opts.Host.Gatherer, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), "", nil
}
