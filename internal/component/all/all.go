// Package all assembles the registry of every component shoal ships, from
// the Registration each component package exports. It owns the list, and
// nothing else: what a component does belongs to its own package, and
// loading a config against the registry to internal/runtime.
package all

import (
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/dns"
	"github.com/shoal-dev/shoal/internal/component/discovery/file"
	discoveryhttp "github.com/shoal-dev/shoal/internal/component/discovery/http"
	"github.com/shoal-dev/shoal/internal/component/discovery/kubernetes"
	discoveryrelabel "github.com/shoal-dev/shoal/internal/component/discovery/relabel"
	localfile "github.com/shoal-dev/shoal/internal/component/local/file"
	"github.com/shoal-dev/shoal/internal/component/local/filematch"
	"github.com/shoal-dev/shoal/internal/component/prometheus/enrich"
	exporterself "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/self"
	exporterunix "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/unix"
	prometheusrelabel "github.com/shoal-dev/shoal/internal/component/prometheus/relabel"
	"github.com/shoal-dev/shoal/internal/component/prometheus/remotewrite"
	"github.com/shoal-dev/shoal/internal/component/prometheus/scrape"
	remotehttp "github.com/shoal-dev/shoal/internal/component/remote/http"
	remotekubernetes "github.com/shoal-dev/shoal/internal/component/remote/kubernetes"
)

// Registry returns a registry holding every component shoal ships.
func Registry() *component.Registry {
	return component.NewRegistry(append([]component.Registration{
		dns.Registration,
		file.Registration,
		discoveryhttp.Registration,
		kubernetes.Registration,
		discoveryrelabel.Registration,
		localfile.Registration,
		exporterself.Registration,
		exporterunix.Registration,
		filematch.Registration,
		enrich.Registration,
		prometheusrelabel.Registration,
		remotewrite.Registration,
		scrape.Registration,
		remotehttp.Registration,
		remotekubernetes.ConfigMapRegistration,
		remotekubernetes.SecretRegistration,
	}, more()...)...).LeaveOut(leanWhy, leftOut...)
}
