// Package all assembles the registry of every component shoal ships, from
// the Registration each component package exports. It owns the list, and
// nothing else: what a component does belongs to its own package, and
// loading a config against the registry to internal/runtime.
package all

import (
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/consul"
	"github.com/shoal-dev/shoal/internal/component/discovery/dns"
	"github.com/shoal-dev/shoal/internal/component/discovery/docker"
	"github.com/shoal-dev/shoal/internal/component/discovery/dockerswarm"
	"github.com/shoal-dev/shoal/internal/component/discovery/eureka"
	"github.com/shoal-dev/shoal/internal/component/discovery/file"
	discoveryhttp "github.com/shoal-dev/shoal/internal/component/discovery/http"
	"github.com/shoal-dev/shoal/internal/component/discovery/kubernetes"
	"github.com/shoal-dev/shoal/internal/component/discovery/marathon"
	"github.com/shoal-dev/shoal/internal/component/discovery/nomad"
	"github.com/shoal-dev/shoal/internal/component/discovery/puppetdb"
	discoveryrelabel "github.com/shoal-dev/shoal/internal/component/discovery/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery/triton"
	localfile "github.com/shoal-dev/shoal/internal/component/local/file"
	prometheusrelabel "github.com/shoal-dev/shoal/internal/component/prometheus/relabel"
	"github.com/shoal-dev/shoal/internal/component/prometheus/remotewrite"
	"github.com/shoal-dev/shoal/internal/component/prometheus/scrape"
)

// Registry returns a registry holding every component shoal ships.
func Registry() *component.Registry {
	return component.NewRegistry(
		dns.Registration,
		docker.Registration,
		file.Registration,
		discoveryhttp.Registration,
		kubernetes.Registration,
		discoveryrelabel.Registration,
		localfile.Registration,
		prometheusrelabel.Registration,
		remotewrite.Registration,
		scrape.Registration,
		dockerswarm.Registration,
		consul.Registration,
		eureka.Registration,
		marathon.Registration,
		puppetdb.Registration,
		nomad.Registration,
		triton.Registration,
	)
}
