package unix

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.unix "default" { }`, "prometheus.exporter.unix", nil, &a); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"procfs_path", a.ProcFSPath, "/proc"},
		{"sysfs_path", a.SysFSPath, "/sys"},
		{"rootfs_path", a.RootFSPath, "/"},
		{"udev_data_path", a.UdevDataPath, "/run/udev/data"},
		{"include_exporter_metrics", a.IncludeExporterMetrics, false},
		{"filesystem.mount_timeout", a.Filesystem.MountTimeout, 5 * time.Second},
		{"ntp.server", a.NTP.Server, "127.0.0.1"},
		{"ntp.protocol_version", a.NTP.ProtocolVersion, 4},
		{"ntp.max_distance", a.NTP.MaxDistance, 3466080 * time.Microsecond},
		{"ethtool.metrics_include", a.EthTool.MetricsInclude, ".*"},
		{"netclass.ignored_devices", a.Netclass.IgnoredDevices, "^$"},
		{"runit.service_dir", a.Runit.ServiceDir, "/etc/service"},
		{"systemd.unit_include", a.Systemd.UnitInclude, ".+"},
		{"systemd.unit_exclude", a.Systemd.UnitExclude, `.+\.(automount|device|mount|scope|slice)`},
		{"vmstat.fields", a.VMStat.Fields, `^(oom_kill|pgpg|pswp|pg.*fault).*`},
		{"disk.device_exclude", a.Disk.DeviceExclude, `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !strings.Contains(a.Filesystem.FSTypesExclude, "tmpfs") && !strings.Contains(a.Filesystem.FSTypesExclude, "sysfs") {
		t.Errorf("filesystem.fs_types_exclude = %q", a.Filesystem.FSTypesExclude)
	}
}

func TestSupervisordURLFromEnvironment(t *testing.T) {
	t.Setenv("SUPERVISORD_URL", "http://sup:9999/RPC2")
	var a Arguments
	a.SetToDefault()
	if a.Supervisord.URL != "http://sup:9999/RPC2" {
		t.Errorf("supervisord.url = %q", a.Supervisord.URL)
	}
}

// TestEveryBlockDecodes sets every attribute of every block Alloy's page
// lists and checks each lands where the collectors read it.
func TestEveryBlockDecodes(t *testing.T) {
	src := `prometheus.exporter.unix "all" {
  include_exporter_metrics = true
  procfs_path    = "/host/proc"
  sysfs_path     = "/host/sys"
  rootfs_path    = "/host/root"
  udev_data_path = "/host/udev"
  set_collectors     = ["cpu", "loadavg"]
  enable_collectors  = ["textfile"]
  disable_collectors = ["loadavg"]
  arp { 
    device_include = "eth.*"
    netlink = true
  }
  bcache { priority_stats = true }
  cpu {
    guest = true
    info = true
    bugs_include = "spectre.*"
    flags_include = "avx.*"
  }
  disk { device_include = "sd.*" }
  ethtool {
    device_exclude = "lo"
    metrics_include = "rx.*"
  }
  filesystem {
    fs_types_exclude = "^tmpfs$"
    mount_points_exclude = "^/boot"
    mount_timeout = "3s"
  }
  hwmon { chip_include = "coretemp" }
  ipvs { backend_labels = ["local_address", "proto"] }
  ntp {
    ip_ttl = 2
    local_offset_tolerance = "2ms"
    max_distance = "1s"
    protocol_version = 3
    server = "10.0.0.1"
    server_is_local = true
  }
  netclass {
    ignore_invalid_speed_device = true
    ignored_devices = "^veth"
  }
  netdev {
    address_info = true
    device_exclude = "^lo$"
  }
  netstat { fields = "^Tcp_.*" }
  perf {
    cpus = "0-1"
    tracepoint = ["sched:sched_switch"]
    disable_hardware_profilers = true
    disable_software_profilers = true
    disable_cache_profilers = true
    hardware_profilers = ["CpuCycles"]
    software_profilers = ["PageFaults"]
    cache_profilers = ["L1DataReadHit"]
  }
  powersupply { ignored_supplies = "^AC$" }
  runit { service_dir = "/run/service" }
  supervisord { url = "http://127.0.0.1:9001/RPC2" }
  sysctl {
    include = ["vm.swappiness"]
    include_info = ["kernel.hostname"]
  }
  systemd {
    enable_restarts = true
    start_time = true
    task_metrics = true
    unit_exclude = ".+\\.scope"
    unit_include = ".+\\.service"
  }
  tapestats { ignored_devices = "^st0$" }
  textfile { directory = "/var/lib/node_exporter" }
  vmstat { fields = "^pg.*" }
}`
	var a Arguments
	if err := discoverytest.Decode(t, src, "prometheus.exporter.unix", nil, &a); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"procfs_path", a.ProcFSPath, "/host/proc"},
		{"set_collectors", strings.Join(a.SetCollectors, ","), "cpu,loadavg"},
		{"arp.netlink", a.Arp.Netlink, true},
		{"bcache.priority_stats", a.BCache.PriorityStats, true},
		{"cpu.info", a.CPU.EnableCPUInfo, true},
		{"cpu.guest", a.CPU.EnableCPUGuest, true},
		{"disk.device_include", a.Disk.DeviceInclude, "sd.*"},
		{"ethtool.metrics_include", a.EthTool.MetricsInclude, "rx.*"},
		{"filesystem.mount_timeout", a.Filesystem.MountTimeout, 3 * time.Second},
		{"hwmon.chip_include", a.HwMon.ChipInclude, "coretemp"},
		{"ipvs.backend_labels", strings.Join(a.IPVS.BackendLabels, ","), "local_address,proto"},
		{"ntp.protocol_version", a.NTP.ProtocolVersion, 3},
		{"ntp.local_offset_tolerance", a.NTP.LocalOffsetTolerance, 2 * time.Millisecond},
		{"ntp.server_is_local", a.NTP.ServerIsLocal, true},
		{"netclass.ignored_devices", a.Netclass.IgnoredDevices, "^veth"},
		{"netdev.address_info", a.Netdev.AddressInfo, true},
		{"netstat.fields", a.Netstat.Fields, "^Tcp_.*"},
		{"perf.cpus", a.Perf.CPUS, "0-1"},
		{"perf.cache_profilers", strings.Join(a.Perf.CacheProfilers, ","), "L1DataReadHit"},
		{"powersupply.ignored_supplies", a.Powersupply.IgnoredSupplies, "^AC$"},
		{"runit.service_dir", a.Runit.ServiceDir, "/run/service"},
		{"supervisord.url", a.Supervisord.URL, "http://127.0.0.1:9001/RPC2"},
		{"sysctl.include_info", strings.Join(a.Sysctl.IncludeInfo, ","), "kernel.hostname"},
		{"systemd.start_time", a.Systemd.EnableStartTimeMetrics, true},
		{"systemd.unit_include", a.Systemd.UnitInclude, `.+\.service`},
		{"tapestats.ignored_devices", a.Tapestats.IgnoredDevices, "^st0$"},
		{"textfile.directory", a.Textfile.Directory, "/var/lib/node_exporter"},
		{"vmstat.fields", a.VMStat.Fields, "^pg.*"},
		{"ntp.server", a.NTP.Server, "10.0.0.1"},
		{"ethtool.device_exclude", a.EthTool.DeviceExclude, "lo"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestBlockKeepsDefaultsOfUnsetAttributes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.unix "x" {
  ntp { server = "10.0.0.1" }
}`, "prometheus.exporter.unix", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.NTP.Server != "10.0.0.1" || a.NTP.ProtocolVersion != 4 || a.NTP.IPTTL != 1 {
		t.Errorf("ntp = %+v; want the server set and Alloy's protocol_version 4 and ip_ttl 1 kept", a.NTP)
	}
}

func TestBadRegexIsAConfigError(t *testing.T) {
	var a Arguments
	err := discoverytest.Decode(t, `prometheus.exporter.unix "x" {
  netdev { device_exclude = "(" }
}`, "prometheus.exporter.unix", nil, &a)
	if err == nil || !strings.Contains(err.Error(), "netdev.device_exclude") {
		t.Fatalf("err = %v, want one naming netdev.device_exclude", err)
	}
	if err := discoverytest.Decode(t, `prometheus.exporter.unix "x" {
  no_such_block { }
}`, "prometheus.exporter.unix", nil, &a); err == nil {
		t.Fatal("an unknown block was accepted")
	}
}

// TestRealConfigsDecodeAndBuild decodes every prometheus.exporter.unix
// block of the real Alloy configs in testdata/real and, where the
// collectors are linked, builds it and scrapes it once.
func TestRealConfigsDecodeAndBuild(t *testing.T) {
	blocks := exportertest.RealBlocks(t, "prometheus.exporter.unix")
	if files, _ := filepath.Glob("testdata/real/*.alloy"); len(blocks) < len(files) {
		t.Errorf("found %d blocks in %d files", len(blocks), len(files))
	}
	for _, rb := range blocks {
		var a Arguments
		if err := rb.Decode(&a); err != nil {
			t.Errorf("%s: %v", rb.Path, err)
			continue
		}
		if !Linked {
			continue
		}
		opts, _, _ := discoverytest.Options(t, "prometheus.exporter.unix."+rb.Block.Label)
		c, err := Registration.Build(opts, a)
		if err != nil {
			t.Errorf("%s: building: %v", rb.Path, err)
			continue
		}
		w := httptest.NewRecorder()
		c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "node_scrape_collector_success") {
			t.Errorf("%s: scrape: %d", rb.Path, w.Code)
		}
	}
}
