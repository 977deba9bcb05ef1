//go:build !shoal_lean

package all

import "testing"

func TestFullBuildHasTheHeavyComponents(t *testing.T) {
	for _, name := range []string{"discovery.docker", "discovery.dockerswarm", "discovery.ec2", "discovery.hetzner", "discovery.ionos", "discovery.kuma", "discovery.lightsail", "discovery.linode", "discovery.ovhcloud", "discovery.scaleway", "discovery.uyuni", "prometheus.exporter.blackbox", "prometheus.exporter.process", "prometheus.exporter.redis", "prometheus.exporter.cadvisor", "prometheus.exporter.mysql", "prometheus.exporter.postgres", "prometheus.exporter.statsd"} {
		if _, ok := Registry().Get(name); !ok {
			t.Errorf("%s is missing from the full build", name)
		}
	}
}
