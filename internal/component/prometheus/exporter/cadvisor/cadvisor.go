// Package cadvisor is the prometheus.exporter.cadvisor component: cAdvisor
// (grafana's fork of github.com/google/cadvisor without its singletons,
// which Alloy builds against) linked as a library. Its manager watches the
// host's cgroups, and the containers of Docker, containerd and CRI-O when
// their sockets answer, and the target serves cAdvisor's container_* and
// machine_* series. The target is host-specific (instance the host name),
// as in Alloy.
//
// cAdvisor reads cgroups, so it is linked only into Linux builds; elsewhere
// a config using the component decodes and validates, but building it
// fails.
package cadvisor

import (
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

// Registration is prometheus.exporter.cadvisor's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.cadvisor",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.cadvisor", "cadvisor", create),
}

// DefaultArguments are Alloy's defaults.
var DefaultArguments = Arguments{
	StoreContainerLabels:       true,
	AllowlistedContainerLabels: []string{""},
	EnvMetadataAllowlist:       []string{""},
	RawCgroupPrefixAllowlist:   []string{""},
	StorageDuration:            2 * time.Minute,
	ContainerdHost:             "/run/containerd/containerd.sock",
	ContainerdNamespace:        "k8s.io",
	DockerHost:                 "unix:///var/run/docker.sock",
	DockerTLSCert:              "cert.pem",
	DockerTLSKey:               "key.pem",
	DockerTLSCA:                "ca.pem",
}

// Arguments are prometheus.exporter.cadvisor's, as Alloy names them.
type Arguments struct {
	StoreContainerLabels       bool          `alloy:"store_container_labels,attr,optional"`
	AllowlistedContainerLabels []string      `alloy:"allowlisted_container_labels,attr,optional"`
	EnvMetadataAllowlist       []string      `alloy:"env_metadata_allowlist,attr,optional"`
	RawCgroupPrefixAllowlist   []string      `alloy:"raw_cgroup_prefix_allowlist,attr,optional"`
	PerfEventsConfig           string        `alloy:"perf_events_config,attr,optional"`
	ResctrlInterval            time.Duration `alloy:"resctrl_interval,attr,optional"`
	DisabledMetrics            []string      `alloy:"disabled_metrics,attr,optional"`
	EnabledMetrics             []string      `alloy:"enabled_metrics,attr,optional"`
	StorageDuration            time.Duration `alloy:"storage_duration,attr,optional"`
	ContainerdHost             string        `alloy:"containerd_host,attr,optional"`
	ContainerdNamespace        string        `alloy:"containerd_namespace,attr,optional"`
	DockerHost                 string        `alloy:"docker_host,attr,optional"`
	UseDockerTLS               bool          `alloy:"use_docker_tls,attr,optional"`
	DockerTLSCert              string        `alloy:"docker_tls_cert,attr,optional"`
	DockerTLSKey               string        `alloy:"docker_tls_key,attr,optional"`
	DockerTLSCA                string        `alloy:"docker_tls_ca,attr,optional"`
	DockerOnly                 bool          `alloy:"docker_only,attr,optional"`
	DisableRootCgroupStats     bool          `alloy:"disable_root_cgroup_stats,attr,optional"`
}

// SetToDefault implements the syntax's defaulter.
func (a *Arguments) SetToDefault() {
	*a = DefaultArguments
	// Fresh slices: decoding must not write into the defaults' arrays.
	a.AllowlistedContainerLabels = []string{""}
	a.EnvMetadataAllowlist = []string{""}
	a.RawCgroupPrefixAllowlist = []string{""}
}

// normalized gives the three allowlists cAdvisor's form: a list with at
// least one element (its flags are split CSVs, so "" is "none").
func (a Arguments) normalized() Arguments {
	for _, l := range []*[]string{&a.AllowlistedContainerLabels, &a.EnvMetadataAllowlist, &a.RawCgroupPrefixAllowlist} {
		if len(*l) == 0 {
			*l = []string{""}
		}
	}
	return a
}
