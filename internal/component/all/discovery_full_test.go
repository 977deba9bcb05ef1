//go:build !shoal_lean

package all

import "testing"

func TestFullBuildHasTheHeavyDiscoveries(t *testing.T) {
	for _, name := range []string{"discovery.docker", "discovery.dockerswarm", "discovery.ec2", "discovery.hetzner", "discovery.kuma", "discovery.lightsail"} {
		if _, ok := Registry().Get(name); !ok {
			t.Errorf("%s is missing from the full build", name)
		}
	}
}
