//go:build linux

package cadvisor

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/cadvisor/cache/memory"
	"github.com/google/cadvisor/container"
	"github.com/google/cadvisor/container/containerd"
	"github.com/google/cadvisor/container/crio"
	"github.com/google/cadvisor/container/docker"
	"github.com/google/cadvisor/container/raw"
	"github.com/google/cadvisor/container/systemd"
	v2 "github.com/google/cadvisor/info/v2"
	"github.com/google/cadvisor/manager"
	"github.com/google/cadvisor/metrics"
	"github.com/google/cadvisor/storage"
	"github.com/google/cadvisor/utils/sysfs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

// Linked reports whether cAdvisor is in this build.
const Linked = true

// defaultDisabled is cAdvisor's own default --disable_metrics, which Alloy
// copies: the costly or niche metric sets.
func defaultDisabled() container.MetricSet {
	return container.MetricSet{
		container.MemoryNumaMetrics:              struct{}{},
		container.NetworkTcpUsageMetrics:         struct{}{},
		container.NetworkUdpUsageMetrics:         struct{}{},
		container.NetworkAdvancedTcpUsageMetrics: struct{}{},
		container.ProcessSchedulerMetrics:        struct{}{},
		container.ProcessMetrics:                 struct{}{},
		container.HugetlbUsageMetrics:            struct{}{},
		container.ReferencedMemoryMetrics:        struct{}{},
		container.CPUTopologyMetrics:             struct{}{},
		container.ResctrlMetrics:                 struct{}{},
		container.CPUSetMetrics:                  struct{}{},
	}
}

// Validate checks the metric set names, as cAdvisor does.
func (a *Arguments) Validate() error {
	_, err := a.includedMetrics()
	return err
}

// includedMetrics is Alloy's choice: enabled_metrics when given, else every
// metric set but disabled_metrics (cAdvisor's default set when it is not
// given at all).
func (a *Arguments) includedMetrics() (container.MetricSet, error) {
	disabled := defaultDisabled()
	if a.DisabledMetrics != nil {
		if err := disabled.Set(strings.Join(a.DisabledMetrics, ",")); err != nil {
			return nil, fmt.Errorf("disabled_metrics: %w", err)
		}
	}
	var enabled container.MetricSet
	if a.EnabledMetrics != nil {
		if err := enabled.Set(strings.Join(a.EnabledMetrics, ",")); err != nil {
			return nil, fmt.Errorf("enabled_metrics: %w", err)
		}
	}
	if len(enabled) > 0 {
		return enabled, nil
	}
	return container.AllMetrics.Difference(disabled), nil
}

// handler serves the collectors and stops the manager with the component.
type handler struct {
	http.Handler
	m manager.Manager
}

func (h *handler) Run(ctx context.Context) error {
	<-ctx.Done()
	if err := h.m.Stop(); err != nil {
		return fmt.Errorf("stopping cAdvisor's manager: %w", err)
	}
	return nil
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	exporter.WarnIfClustered(opts)
	a := args.(Arguments).normalized()
	included, err := a.includedMetrics()
	if err != nil {
		return nil, "", err
	}
	// cAdvisor logs through klog's global logger, as in Alloy: the most
	// recently built component's logger gets its lines.
	klog.SetLogger(logr.FromSlogHandler(opts.Logger.With("source", "cadvisor").Handler()))

	plugins := map[string]container.Plugin{
		"containerd": containerd.NewPluginWithOptions(&containerd.Options{
			ContainerdEndpoint:  a.ContainerdHost,
			ContainerdNamespace: a.ContainerdNamespace,
		}),
		"crio": crio.NewPlugin(),
		"docker": docker.NewPluginWithOptions(&docker.Options{
			DockerEndpoint:     a.DockerHost,
			DockerTLS:          a.UseDockerTLS,
			DockerCert:         a.DockerTLSCert,
			DockerKey:          a.DockerTLSKey,
			DockerCA:           a.DockerTLSCA,
			ContainerDEndpoint: a.ContainerdHost,
		}),
		"systemd": systemd.NewPlugin(),
	}
	// In memory only, with no storage driver behind it.
	cache := memory.New(a.StorageDuration, []storage.StorageDriver{})
	var client http.Client
	m, err := manager.New(plugins, cache, sysfs.NewRealSysFs(), manager.HousekeepingConfigFlags, included, &client,
		a.RawCgroupPrefixAllowlist, a.EnvMetadataAllowlist, a.PerfEventsConfig, a.ResctrlInterval,
		raw.Options{DockerOnly: a.DockerOnly, DisableRootCgroupStats: a.DisableRootCgroupStats})
	if err != nil {
		return nil, "", fmt.Errorf("cAdvisor's manager: %w", err)
	}
	if err := m.Start(); err != nil {
		return nil, "", fmt.Errorf("starting cAdvisor's manager: %w", err)
	}
	labels := metrics.DefaultContainerLabels
	if !a.StoreContainerLabels {
		labels = metrics.BaseContainerLabels(a.AllowlistedContainerLabels)
	}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		metrics.NewPrometheusMachineCollector(m, included),
		// cAdvisor's default /metrics request: every container by name,
		// recursively, its latest stats.
		metrics.NewPrometheusCollector(m, labels, included, clock.RealClock{}, v2.RequestOptions{IdType: v2.TypeName, Count: 1, Recursive: true}),
		version.NewCollector("cadvisor"),
	} {
		if err := reg.Register(c); err != nil {
			_ = m.Stop()
			return nil, "", fmt.Errorf("registering cAdvisor's collectors: %w", err)
		}
	}
	return &handler{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), m: m}, "", nil
}
