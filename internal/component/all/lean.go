//go:build shoal_lean

package all

import "github.com/shoal-dev/shoal/internal/component"

// heavy is empty in the lean build (-tags shoal_lean).
var heavy []component.Registration

// leftOut are the components of full.go's heavy list, which a config of
// the lean build is told are left out rather than unknown.
var leftOut = []string{
	"discovery.aws", "discovery.azure", "discovery.gce",
	"discovery.docker", "discovery.dockerswarm", "discovery.ec2", "discovery.hetzner",
	"discovery.ionos", "discovery.kuma", "discovery.lightsail", "discovery.linode",
	"discovery.ovhcloud", "discovery.scaleway", "discovery.uyuni",
	"prometheus.exporter.blackbox", "prometheus.exporter.process", "prometheus.exporter.redis",
	"prometheus.exporter.cadvisor", "prometheus.exporter.mysql", "prometheus.exporter.postgres",
	"prometheus.exporter.statsd",
	"otelcol.exporter.prometheus", "otelcol.processor.batch", "otelcol.receiver.otlp",
	"prometheus.operator.podmonitors", "prometheus.operator.probes",
	"prometheus.operator.scrapeconfigs", "prometheus.operator.servicemonitors",
}

const leanWhy = "it was built with -tags shoal_lean, which leaves it out to save memory; use the default build (see docs/deploy.md, \"The lean build\")"
