//go:build !shoal_lean

package all

import (
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/aws"
	"github.com/shoal-dev/shoal/internal/component/discovery/azure"
	"github.com/shoal-dev/shoal/internal/component/discovery/docker"
	"github.com/shoal-dev/shoal/internal/component/discovery/dockerswarm"
	"github.com/shoal-dev/shoal/internal/component/discovery/ec2"
	"github.com/shoal-dev/shoal/internal/component/discovery/gce"
	"github.com/shoal-dev/shoal/internal/component/discovery/hetzner"
	"github.com/shoal-dev/shoal/internal/component/discovery/ionos"
	"github.com/shoal-dev/shoal/internal/component/discovery/kuma"
	"github.com/shoal-dev/shoal/internal/component/discovery/lightsail"
	"github.com/shoal-dev/shoal/internal/component/discovery/linode"
	"github.com/shoal-dev/shoal/internal/component/discovery/ovhcloud"
	"github.com/shoal-dev/shoal/internal/component/discovery/scaleway"
	"github.com/shoal-dev/shoal/internal/component/discovery/uyuni"
	otelexporterprometheus "github.com/shoal-dev/shoal/internal/component/otelcol/exporter/prometheus"
	otelprocessorbatch "github.com/shoal-dev/shoal/internal/component/otelcol/processor/batch"
	otelreceiverotlp "github.com/shoal-dev/shoal/internal/component/otelcol/receiver/otlp"
	exporterblackbox "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/blackbox"
	exportercadvisor "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/cadvisor"
	exportermysql "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/mysql"
	exporterpostgres "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/postgres"
	exporterprocess "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/process"
	exporterredis "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/redis"
	exporterstatsd "github.com/shoal-dev/shoal/internal/component/prometheus/exporter/statsd"
	"github.com/shoal-dev/shoal/internal/component/prometheus/operator"
)

// heavy holds the components whose libraries' start-up costs every node
// memory whether a config uses them or not: the Docker client brings
// OpenTelemetry's packages and their init work, hcloud-go, the AWS SDK
// and Kuma's xDS protobufs theirs, the scaleway, linode, ionos, ovhcloud
// and uyuni clients their validation tables and HTTP stacks, the
// blackbox, process, redis, mysql, postgres and statsd exporters their
// collectors (mysqld_exporter's and postgres_exporter's kingpin flags
// among them), and cAdvisor its container runtimes' clients and klog. Building with
// -tags shoal_lean leaves them out; see docs/deploy.md, "The lean build".
// leftOut is empty: the full build leaves nothing out.
var leftOut []string

const leanWhy = ""

var heavy = []component.Registration{
	aws.Registration,
	azure.Registration,
	gce.Registration,
	docker.Registration,
	dockerswarm.Registration,
	ec2.Registration,
	hetzner.Registration,
	ionos.Registration,
	kuma.Registration,
	lightsail.Registration,
	linode.Registration,
	ovhcloud.Registration,
	scaleway.Registration,
	uyuni.Registration,
	exporterblackbox.Registration,
	exporterprocess.Registration,
	exporterredis.Registration,
	exportercadvisor.Registration,
	exportermysql.Registration,
	exporterpostgres.Registration,
	exporterstatsd.Registration,
	otelexporterprometheus.Registration,
	otelprocessorbatch.Registration,
	otelreceiverotlp.Registration,
	operator.ServiceMonitorsRegistration,
	operator.PodMonitorsRegistration,
	operator.ProbesRegistration,
	operator.ScrapeConfigsRegistration,
}
