// Package unix is the prometheus.exporter.unix component: node_exporter's
// collectors (from grafana's fork of node_exporter, which Alloy builds
// against and which takes its configuration as a struct instead of global
// command-line flags), configured with Alloy's arguments and blocks and
// served as an exporter target.
//
// The collectors are linked only into builds for Linux without the
// shoal_lean build tag; elsewhere the component is still known, so that a
// config using it decodes and validates, but building it fails with a
// message naming the tag.
package unix

import (
	"net/http"
	"os"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

// Registration is prometheus.exporter.unix's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.unix",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.unix", "unix", create),
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	exporter.WarnIfClustered(opts)
	a := args.(Arguments)
	h, err := newHandler(opts, &a)
	if err != nil {
		return nil, "", err
	}
	return h, exporter.HostName(), nil
}

func supervisordURLFromEnv() string { return os.Getenv("SUPERVISORD_URL") }
