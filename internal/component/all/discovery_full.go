//go:build !shoal_lean

package all

import (
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/docker"
	"github.com/shoal-dev/shoal/internal/component/discovery/dockerswarm"
	"github.com/shoal-dev/shoal/internal/component/discovery/ec2"
	"github.com/shoal-dev/shoal/internal/component/discovery/hetzner"
	"github.com/shoal-dev/shoal/internal/component/discovery/kuma"
	"github.com/shoal-dev/shoal/internal/component/discovery/lightsail"
)

// heavyDiscovery holds the discovery components whose client libraries
// cost an idle node more than the lean build allows (the Docker client
// brings OpenTelemetry's packages and their init work, hcloud-go its
// own, the AWS SDK and Kuma's xDS protobufs theirs). Building with
// -tags shoal_lean leaves them out; see docs/deploy.md.
var heavyDiscovery = []component.Registration{
	docker.Registration,
	dockerswarm.Registration,
	ec2.Registration,
	hetzner.Registration,
	kuma.Registration,
	lightsail.Registration,
}
