//go:build shoal_lean

package all

import (
	"strings"
	"testing"
)

func TestLeanBuildLeavesOutTheHeavyComponents(t *testing.T) {
	for _, name := range []string{"discovery.aws", "discovery.azure", "discovery.gce", "discovery.docker", "discovery.dockerswarm", "discovery.ec2", "discovery.hetzner", "discovery.ionos", "discovery.kuma", "discovery.lightsail", "discovery.linode", "discovery.ovhcloud", "discovery.scaleway", "discovery.uyuni", "prometheus.exporter.blackbox", "prometheus.exporter.process", "prometheus.exporter.redis", "prometheus.exporter.cadvisor", "prometheus.exporter.mysql", "prometheus.exporter.postgres", "prometheus.exporter.statsd", "otelcol.exporter.prometheus", "otelcol.processor.batch", "otelcol.receiver.otlp", "prometheus.operator.podmonitors", "prometheus.operator.probes", "prometheus.operator.scrapeconfigs", "prometheus.operator.servicemonitors"} {
		if _, ok := Registry().Get(name); ok {
			t.Errorf("%s is in the lean build", name)
		}
	}
}

// TestLeanBuildSaysWhatItLeftOut: every heavy component is named as left
// out, so that a config using one is told to use the default build.
func TestLeanBuildSaysWhatItLeftOut(t *testing.T) {
	reg := Registry()
	for _, name := range leftOut {
		if why, ok := reg.LeftOut(name); !ok || !strings.Contains(why, "shoal_lean") {
			t.Errorf("%s: left out %v, why %q", name, ok, why)
		}
	}
	if len(leftOut) != 28 {
		t.Errorf("%d components left out, want the 28 of full.go's heavy list", len(leftOut))
	}
}
