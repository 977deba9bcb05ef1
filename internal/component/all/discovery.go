package all

import (
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/consul"
	"github.com/shoal-dev/shoal/internal/component/discovery/consulagent"
	"github.com/shoal-dev/shoal/internal/component/discovery/digitalocean"
	"github.com/shoal-dev/shoal/internal/component/discovery/eureka"
	"github.com/shoal-dev/shoal/internal/component/discovery/kubelet"
	"github.com/shoal-dev/shoal/internal/component/discovery/marathon"
	"github.com/shoal-dev/shoal/internal/component/discovery/nerve"
	"github.com/shoal-dev/shoal/internal/component/discovery/nomad"
	"github.com/shoal-dev/shoal/internal/component/discovery/openstack"
	"github.com/shoal-dev/shoal/internal/component/discovery/process"
	"github.com/shoal-dev/shoal/internal/component/discovery/puppetdb"
	"github.com/shoal-dev/shoal/internal/component/discovery/serverset"
	"github.com/shoal-dev/shoal/internal/component/discovery/triton"
)

// more is the discovery.* family beyond file, http, dns and kubernetes
// that every build has, and the heavy components of the full build
// (heavy, full.go).
func more() []component.Registration {
	return append([]component.Registration{
		consul.Registration,
		consulagent.Registration,
		digitalocean.Registration,
		eureka.Registration,
		kubelet.Registration,
		marathon.Registration,
		nerve.Registration,
		nomad.Registration,
		openstack.Registration,
		process.Registration,
		puppetdb.Registration,
		serverset.Registration,
		triton.Registration,
	}, heavy...)
}
