//go:build linux && !shoal_lean

package unix

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/node_exporter/collector"

	"github.com/shoal-dev/shoal/internal/component"
)

// Linked reports whether node_exporter's collectors are in this build.
const Linked = true

// newHandler builds node_exporter's collectors as a configures them and a
// handler serving them.
func newHandler(opts component.Options, a *Arguments) (http.Handler, error) {
	cfg, enabled, unknown := nodeConfig(a)
	if len(unknown) > 0 {
		opts.Logger.Warn("ignoring collectors this build of node_exporter does not have", "collectors", strings.Join(unknown, ","))
	}
	nc, err := collector.NewNodeCollector(cfg, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("node_exporter: %w", err)
	}
	opts.Logger.Info("enabled node_exporter collectors", "collectors", strings.Join(enabled, ","))

	reg := prometheus.NewRegistry()
	if err := reg.Register(nc); err != nil {
		return nil, fmt.Errorf("registering node_exporter's collectors: %w", err)
	}
	if err := reg.Register(version.NewCollector("node_exporter")); err != nil {
		return nil, fmt.Errorf("registering node_exporter_build_info: %w", err)
	}
	exporterReg := prometheus.NewRegistry()
	h := promhttp.HandlerFor(prometheus.Gatherers{exporterReg, reg}, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      exporterReg,
	})
	if a.IncludeExporterMetrics {
		h = promhttp.InstrumentMetricHandler(exporterReg, h)
	}
	return h, nil
}

// enabledCollectors applies set_collectors, then disable_collectors, then
// enable_collectors to node_exporter's defaults, as Alloy does. It returns
// the state of every collector this build has, and the names asked for
// that it does not have (Alloy ignores them silently; shoal warns).
func enabledCollectors(a *Arguments) (states map[string]bool, unknown []string) {
	states = collector.GetDefaults()
	if len(a.SetCollectors) > 0 {
		for k := range states {
			states[k] = slices.Contains(a.SetCollectors, k)
		}
	}
	for _, c := range a.DisableCollectors {
		states[c] = false
	}
	for _, c := range a.EnableCollectors {
		states[c] = true
	}
	available := collector.GetAvailableCollectors()
	for k := range states {
		if !slices.Contains(available, k) {
			delete(states, k)
			unknown = append(unknown, k)
		}
	}
	for _, c := range a.SetCollectors {
		if !slices.Contains(available, c) && !slices.Contains(unknown, c) {
			unknown = append(unknown, c)
		}
	}
	slices.Sort(unknown)
	return states, unknown
}

// nodeConfig maps the arguments onto node_exporter's configuration struct.
// Every pointer is set, since a collector dereferences its own without
// checking.
func nodeConfig(a *Arguments) (cfg *collector.NodeCollectorConfig, enabled, unknown []string) {
	a = clone(a)
	states, unknown := enabledCollectors(a)
	for k, on := range states {
		if on {
			enabled = append(enabled, k)
		}
	}
	slices.Sort(enabled)

	blankS, blankB, port, workers := "", false, 123, 1
	cfg = &collector.NodeCollectorConfig{Collectors: states}
	cfg.Path = collector.PathConfig{
		ProcPath: &a.ProcFSPath, SysPath: &a.SysFSPath, RootfsPath: &a.RootFSPath, UdevDataPath: &a.UdevDataPath,
	}
	cfg.Arp = collector.ArpConfig{DeviceInclude: &a.Arp.DeviceInclude, DeviceExclude: &a.Arp.DeviceExclude, Netlink: &a.Arp.Netlink}
	cfg.Bcache = collector.BcacheConfig{PriorityStats: &a.BCache.PriorityStats}
	cfg.CPU = collector.CPUConfig{
		EnableCPUGuest: &a.CPU.EnableCPUGuest, EnableCPUInfo: &a.CPU.EnableCPUInfo,
		BugsInclude: &a.CPU.BugsInclude, FlagsInclude: &a.CPU.FlagsInclude,
	}
	// An include replaces the default exclude, as in Alloy.
	if a.Disk.DeviceInclude != "" {
		cfg.DiskstatsDeviceFilter = collector.DiskstatsDeviceFilterConfig{
			DeviceInclude: &a.Disk.DeviceInclude, DeviceExclude: &blankS, OldDeviceExclude: &blankS,
		}
	} else {
		cfg.DiskstatsDeviceFilter = collector.DiskstatsDeviceFilterConfig{
			DeviceExclude: &a.Disk.DeviceExclude, DeviceExcludeSet: true, DeviceInclude: &blankS, OldDeviceExclude: &blankS,
		}
	}
	cfg.Ethtool = collector.EthtoolConfig{
		DeviceInclude: &a.EthTool.DeviceInclude, DeviceExclude: &a.EthTool.DeviceExclude, IncludedMetrics: &a.EthTool.MetricsInclude,
	}
	cfg.Filesystem = collector.FilesystemConfig{
		MountPointsExclude: &a.Filesystem.MountPointsExclude, MountPointsExcludeSet: true,
		FSTypesExclude: &a.Filesystem.FSTypesExclude, FSTypesExcludeSet: true,
		OldMountPointsExcluded: &blankS, OldFSTypesExcluded: &blankS,
		MountTimeout: &a.Filesystem.MountTimeout, StatWorkerCount: &workers,
	}
	cfg.HwMon = collector.HwMonConfig{ChipInclude: &a.HwMon.ChipInclude, ChipExclude: &a.HwMon.ChipExclude}
	labels := strings.Join(a.IPVS.BackendLabels, ",")
	cfg.IPVS = collector.IPVSConfig{Labels: &labels, LabelsSet: len(a.IPVS.BackendLabels) > 0}
	cfg.NetClass = collector.NetClassConfig{
		IgnoredDevices: &a.Netclass.IgnoredDevices, InvalidSpeed: &a.Netclass.IgnoreInvalidSpeedDevice,
		Netlink: &blankB, RTNLWithStats: &blankB,
	}
	cfg.NetDev = collector.NetDevConfig{
		DeviceInclude: &a.Netdev.DeviceInclude, DeviceExclude: &a.Netdev.DeviceExclude, AddressInfo: &a.Netdev.AddressInfo,
		OldDeviceInclude: &blankS, OldDeviceExclude: &blankS, Netlink: &blankB, DetailedMetrics: &blankB,
	}
	cfg.NetStat = collector.NetStatConfig{Fields: &a.Netstat.Fields}
	cfg.NTP = collector.NTPConfig{
		Server: &a.NTP.Server, ServerPort: &port, ProtocolVersion: &a.NTP.ProtocolVersion, IPTTL: &a.NTP.IPTTL,
		MaxDistance: &a.NTP.MaxDistance, OffsetTolerance: &a.NTP.LocalOffsetTolerance, ServerIsLocal: &a.NTP.ServerIsLocal,
	}
	cfg.Perf = collector.PerfConfig{
		CPUs: &a.Perf.CPUS, Tracepoint: &a.Perf.Tracepoint,
		NoHwProfiler: &a.Perf.DisableHardwareProfilers, HwProfiler: &a.Perf.HardwareProfilers,
		NoSwProfiler: &a.Perf.DisableSoftwareProfilers, SwProfiler: &a.Perf.SoftwareProfilers,
		NoCaProfiler: &a.Perf.DisableCacheProfilers, CaProfilerFlag: &a.Perf.CacheProfilers,
	}
	cfg.PowerSupplyClass = collector.PowerSupplyClassConfig{IgnoredPowerSupplies: &a.Powersupply.IgnoredSupplies}
	cfg.Qdisc = collector.QdiscConfig{
		Fixtures: &blankS, DeviceInclude: &blankS, OldDeviceInclude: &blankS, DeviceExclude: &blankS, OldDeviceExclude: &blankS,
	}
	cfg.Rapl = collector.RaplConfig{ZoneLabel: &blankB}
	cfg.Runit = collector.RunitConfig{ServiceDir: &a.Runit.ServiceDir}
	cfg.Stat = collector.StatConfig{Softirq: &blankB}
	cfg.Supervisord = collector.SupervisordConfig{URL: &a.Supervisord.URL}
	cfg.Sysctl = collector.SysctlConfig{Include: &a.Sysctl.Include, IncludeInfo: &a.Sysctl.IncludeInfo}
	cfg.Systemd = collector.SystemdConfig{
		UnitInclude: &a.Systemd.UnitInclude, UnitIncludeSet: true, UnitExclude: &a.Systemd.UnitExclude, UnitExcludeSet: true,
		OldUnitInclude: &blankS, OldUnitExclude: &blankS, Private: &blankB,
		EnableTaskMetrics: &a.Systemd.EnableTaskMetrics, EnableRestartsMetrics: &a.Systemd.EnableRestartsMetrics,
		EnableStartTimeMetrics: &a.Systemd.EnableStartTimeMetrics,
	}
	cfg.Tapestats = collector.TapestatsConfig{IgnoredDevices: &a.Tapestats.IgnoredDevices}
	cfg.TextFile = collector.TextFileConfig{Directory: &a.Textfile.Directory}
	cfg.VmStat = collector.VmStatConfig{Fields: &a.VMStat.Fields}
	cfg.Wifi = collector.WifiConfig{Fixtures: &blankS}
	return cfg, enabled, unknown
}

// clone copies a, slices included, so that the collectors' pointers never
// alias arguments the runtime keeps.
func clone(a *Arguments) *Arguments {
	c := *a
	c.EnableCollectors = slices.Clone(a.EnableCollectors)
	c.DisableCollectors = slices.Clone(a.DisableCollectors)
	c.SetCollectors = slices.Clone(a.SetCollectors)
	c.IPVS.BackendLabels = slices.Clone(a.IPVS.BackendLabels)
	c.Perf.Tracepoint = nonNil(a.Perf.Tracepoint)
	c.Perf.HardwareProfilers = nonNil(a.Perf.HardwareProfilers)
	c.Perf.SoftwareProfilers = nonNil(a.Perf.SoftwareProfilers)
	c.Perf.CacheProfilers = nonNil(a.Perf.CacheProfilers)
	c.Sysctl.Include = nonNil(a.Sysctl.Include)
	c.Sysctl.IncludeInfo = nonNil(a.Sysctl.IncludeInfo)
	return &c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
