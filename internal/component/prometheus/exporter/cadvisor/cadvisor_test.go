package cadvisor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.cadvisor "c" { }`, "prometheus.exporter.cadvisor", nil, &a); err != nil {
		t.Fatal(err)
	}
	if !a.StoreContainerLabels || !slices.Equal(a.AllowlistedContainerLabels, []string{""}) || !slices.Equal(a.EnvMetadataAllowlist, []string{""}) ||
		!slices.Equal(a.RawCgroupPrefixAllowlist, []string{""}) || a.PerfEventsConfig != "" || a.ResctrlInterval != 0 ||
		a.DisabledMetrics != nil || a.EnabledMetrics != nil || a.StorageDuration != 2*time.Minute ||
		a.ContainerdHost != "/run/containerd/containerd.sock" || a.ContainerdNamespace != "k8s.io" ||
		a.DockerHost != "unix:///var/run/docker.sock" || a.UseDockerTLS || a.DockerTLSCert != "cert.pem" ||
		a.DockerTLSKey != "key.pem" || a.DockerTLSCA != "ca.pem" || a.DockerOnly || a.DisableRootCgroupStats {
		t.Errorf("defaults = %+v", a)
	}
}

func TestEveryArgumentDecodes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.cadvisor "c" {
  store_container_labels       = false
  allowlisted_container_labels = ["io.kubernetes.pod.name"]
  env_metadata_allowlist       = ["APP_"]
  raw_cgroup_prefix_allowlist  = ["/system.slice"]
  perf_events_config           = "/perf.json"
  resctrl_interval             = "10s"
  disabled_metrics             = ["disk"]
  enabled_metrics              = ["cpu", "memory"]
  storage_duration             = "5m"
  containerd_host              = "/c.sock"
  containerd_namespace         = "ns"
  docker_host                  = "tcp://127.0.0.1:2375"
  use_docker_tls               = true
  docker_tls_cert              = "/c.pem"
  docker_tls_key               = "/k.pem"
  docker_tls_ca                = "/ca.pem"
  docker_only                  = true
  disable_root_cgroup_stats    = true
}`, "prometheus.exporter.cadvisor", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.StoreContainerLabels || a.AllowlistedContainerLabels[0] != "io.kubernetes.pod.name" || a.EnvMetadataAllowlist[0] != "APP_" ||
		a.RawCgroupPrefixAllowlist[0] != "/system.slice" || a.PerfEventsConfig != "/perf.json" || a.ResctrlInterval != 10*time.Second ||
		a.StorageDuration != 5*time.Minute || a.ContainerdHost != "/c.sock" || a.ContainerdNamespace != "ns" ||
		a.DockerHost != "tcp://127.0.0.1:2375" || !a.UseDockerTLS || a.DockerTLSCert != "/c.pem" || a.DockerTLSKey != "/k.pem" ||
		a.DockerTLSCA != "/ca.pem" || !a.DockerOnly || !a.DisableRootCgroupStats {
		t.Errorf("arguments = %+v", a)
	}
	checkIncluded(t, a)
}

func TestUnknownMetricSetIsAConfigError(t *testing.T) {
	if !Linked {
		t.Skip("no cAdvisor in this build")
	}
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.cadvisor "c" {
  disabled_metrics = ["cpuu"]
}`, "prometheus.exporter.cadvisor", nil, &a); err == nil || !strings.Contains(err.Error(), "cpuu") {
		t.Errorf("an unknown metric set: %v", err)
	}
}

// TestWatchesThisHostsCgroups builds cAdvisor on this machine (cgroup v2;
// no Docker or containerd socket, which cAdvisor tolerates) and scrapes
// the root cgroup's and the machine's series under cAdvisor's names; the
// target's instance is the host name, as in Alloy.
func TestWatchesThisHostsCgroups(t *testing.T) {
	if !Linked {
		t.Skip("no cAdvisor in this build")
	}
	a := DefaultArguments
	a.ContainerdHost = "/nonexistent/containerd.sock"
	a.DockerHost = "unix:///nonexistent/docker.sock"
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.cadvisor.c")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 1 || tg[0]["job"] != "integrations/cadvisor" || tg[0]["instance"] != exporter.HostName() {
		t.Errorf("targets = %v", tg)
	}
	want := []string{
		"machine_cpu_cores ",
		"machine_memory_bytes ",
		`container_cpu_usage_seconds_total{`,
		`container_memory_usage_bytes{`,
		`id="/"`,
		"cadvisor_version_info{",
		"cadvisor_build_info{",
	}
	var body string
	discoverytest.Eventually(t, 60*time.Second, func() bool {
		body = exportertest.Scrape(t, c)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	}, "cAdvisor's series never all appeared")
	if t.Failed() {
		t.Logf("last scrape:\n%.3000s", body)
	}
}
