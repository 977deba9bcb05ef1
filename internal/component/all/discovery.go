package all

import (
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/consul"
	"github.com/shoal-dev/shoal/internal/component/discovery/digitalocean"
	"github.com/shoal-dev/shoal/internal/component/discovery/eureka"
	"github.com/shoal-dev/shoal/internal/component/discovery/ionos"
	"github.com/shoal-dev/shoal/internal/component/discovery/linode"
	"github.com/shoal-dev/shoal/internal/component/discovery/marathon"
	"github.com/shoal-dev/shoal/internal/component/discovery/nomad"
	"github.com/shoal-dev/shoal/internal/component/discovery/openstack"
	"github.com/shoal-dev/shoal/internal/component/discovery/ovhcloud"
	"github.com/shoal-dev/shoal/internal/component/discovery/puppetdb"
	"github.com/shoal-dev/shoal/internal/component/discovery/scaleway"
	"github.com/shoal-dev/shoal/internal/component/discovery/triton"
	"github.com/shoal-dev/shoal/internal/component/discovery/uyuni"
)

// moreDiscovery is the discovery.* family beyond file, http, dns and
// kubernetes: those every build has, and the heavy ones of the full build
// (heavyDiscovery).
func moreDiscovery() []component.Registration {
	return append([]component.Registration{
		consul.Registration,
		digitalocean.Registration,
		eureka.Registration,
		ionos.Registration,
		linode.Registration,
		marathon.Registration,
		nomad.Registration,
		openstack.Registration,
		ovhcloud.Registration,
		puppetdb.Registration,
		scaleway.Registration,
		triton.Registration,
		uyuni.Registration,
	}, heavyDiscovery...)
}
