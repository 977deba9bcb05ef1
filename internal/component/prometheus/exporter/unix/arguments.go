package unix

import (
	"fmt"
	"regexp"
	"time"
)

// Arguments are prometheus.exporter.unix's, as Alloy names them.
type Arguments struct {
	IncludeExporterMetrics bool   `alloy:"include_exporter_metrics,attr,optional"`
	ProcFSPath             string `alloy:"procfs_path,attr,optional"`
	SysFSPath              string `alloy:"sysfs_path,attr,optional"`
	RootFSPath             string `alloy:"rootfs_path,attr,optional"`
	UdevDataPath           string `alloy:"udev_data_path,attr,optional"`

	// EnableCollectors turns collectors on, after SetCollectors.
	EnableCollectors []string `alloy:"enable_collectors,attr,optional"`
	// DisableCollectors turns collectors off, after SetCollectors.
	DisableCollectors []string `alloy:"disable_collectors,attr,optional"`
	// SetCollectors, when not empty, replaces the default set.
	SetCollectors []string `alloy:"set_collectors,attr,optional"`

	Arp         ArpConfig         `alloy:"arp,block,optional"`
	BCache      BCacheConfig      `alloy:"bcache,block,optional"`
	CPU         CPUConfig         `alloy:"cpu,block,optional"`
	Disk        DiskStatsConfig   `alloy:"disk,block,optional"`
	EthTool     EthToolConfig     `alloy:"ethtool,block,optional"`
	Filesystem  FilesystemConfig  `alloy:"filesystem,block,optional"`
	HwMon       HwMonConfig       `alloy:"hwmon,block,optional"`
	IPVS        IPVSConfig        `alloy:"ipvs,block,optional"`
	NTP         NTPConfig         `alloy:"ntp,block,optional"`
	Netclass    NetclassConfig    `alloy:"netclass,block,optional"`
	Netdev      NetdevConfig      `alloy:"netdev,block,optional"`
	Netstat     NetstatConfig     `alloy:"netstat,block,optional"`
	Perf        PerfConfig        `alloy:"perf,block,optional"`
	Powersupply PowersupplyConfig `alloy:"powersupply,block,optional"`
	Runit       RunitConfig       `alloy:"runit,block,optional"`
	Supervisord SupervisordConfig `alloy:"supervisord,block,optional"`
	Sysctl      SysctlConfig      `alloy:"sysctl,block,optional"`
	Systemd     SystemdConfig     `alloy:"systemd,block,optional"`
	Tapestats   TapestatsConfig   `alloy:"tapestats,block,optional"`
	Textfile    TextfileConfig    `alloy:"textfile,block,optional"`
	VMStat      VMStatConfig      `alloy:"vmstat,block,optional"`
}

// ArpConfig is the arp block.
type ArpConfig struct {
	DeviceExclude string `alloy:"device_exclude,attr,optional"`
	DeviceInclude string `alloy:"device_include,attr,optional"`
	Netlink       bool   `alloy:"netlink,attr,optional"`
}

// BCacheConfig is the bcache block.
type BCacheConfig struct {
	PriorityStats bool `alloy:"priority_stats,attr,optional"`
}

// CPUConfig is the cpu block.
type CPUConfig struct {
	BugsInclude    string `alloy:"bugs_include,attr,optional"`
	EnableCPUGuest bool   `alloy:"guest,attr,optional"`
	EnableCPUInfo  bool   `alloy:"info,attr,optional"`
	FlagsInclude   string `alloy:"flags_include,attr,optional"`
}

// DiskStatsConfig is the disk block (the diskstats collector).
type DiskStatsConfig struct {
	DeviceExclude string `alloy:"device_exclude,attr,optional"`
	DeviceInclude string `alloy:"device_include,attr,optional"`
}

// EthToolConfig is the ethtool block.
type EthToolConfig struct {
	DeviceExclude  string `alloy:"device_exclude,attr,optional"`
	DeviceInclude  string `alloy:"device_include,attr,optional"`
	MetricsInclude string `alloy:"metrics_include,attr,optional"`
}

// FilesystemConfig is the filesystem block.
type FilesystemConfig struct {
	FSTypesExclude     string        `alloy:"fs_types_exclude,attr,optional"`
	MountPointsExclude string        `alloy:"mount_points_exclude,attr,optional"`
	MountTimeout       time.Duration `alloy:"mount_timeout,attr,optional"`
}

// HwMonConfig is the hwmon block.
type HwMonConfig struct {
	ChipExclude string `alloy:"chip_exclude,attr,optional"`
	ChipInclude string `alloy:"chip_include,attr,optional"`
}

// IPVSConfig is the ipvs block.
type IPVSConfig struct {
	BackendLabels []string `alloy:"backend_labels,attr,optional"`
}

// NTPConfig is the ntp block.
type NTPConfig struct {
	IPTTL                int           `alloy:"ip_ttl,attr,optional"`
	LocalOffsetTolerance time.Duration `alloy:"local_offset_tolerance,attr,optional"`
	MaxDistance          time.Duration `alloy:"max_distance,attr,optional"`
	ProtocolVersion      int           `alloy:"protocol_version,attr,optional"`
	Server               string        `alloy:"server,attr,optional"`
	ServerIsLocal        bool          `alloy:"server_is_local,attr,optional"`
}

// NetclassConfig is the netclass block.
type NetclassConfig struct {
	IgnoreInvalidSpeedDevice bool   `alloy:"ignore_invalid_speed_device,attr,optional"`
	IgnoredDevices           string `alloy:"ignored_devices,attr,optional"`
}

// NetdevConfig is the netdev block.
type NetdevConfig struct {
	AddressInfo   bool   `alloy:"address_info,attr,optional"`
	DeviceExclude string `alloy:"device_exclude,attr,optional"`
	DeviceInclude string `alloy:"device_include,attr,optional"`
}

// NetstatConfig is the netstat block.
type NetstatConfig struct {
	Fields string `alloy:"fields,attr,optional"`
}

// PerfConfig is the perf block.
type PerfConfig struct {
	CPUS       string   `alloy:"cpus,attr,optional"`
	Tracepoint []string `alloy:"tracepoint,attr,optional"`

	DisableHardwareProfilers bool `alloy:"disable_hardware_profilers,attr,optional"`
	DisableSoftwareProfilers bool `alloy:"disable_software_profilers,attr,optional"`
	DisableCacheProfilers    bool `alloy:"disable_cache_profilers,attr,optional"`

	HardwareProfilers []string `alloy:"hardware_profilers,attr,optional"`
	SoftwareProfilers []string `alloy:"software_profilers,attr,optional"`
	CacheProfilers    []string `alloy:"cache_profilers,attr,optional"`
}

// PowersupplyConfig is the powersupply block.
type PowersupplyConfig struct {
	IgnoredSupplies string `alloy:"ignored_supplies,attr,optional"`
}

// RunitConfig is the runit block.
type RunitConfig struct {
	ServiceDir string `alloy:"service_dir,attr,optional"`
}

// SupervisordConfig is the supervisord block.
type SupervisordConfig struct {
	URL string `alloy:"url,attr,optional"`
}

// SysctlConfig is the sysctl block.
type SysctlConfig struct {
	Include     []string `alloy:"include,attr,optional"`
	IncludeInfo []string `alloy:"include_info,attr,optional"`
}

// SystemdConfig is the systemd block.
type SystemdConfig struct {
	EnableRestartsMetrics  bool   `alloy:"enable_restarts,attr,optional"`
	EnableStartTimeMetrics bool   `alloy:"start_time,attr,optional"`
	EnableTaskMetrics      bool   `alloy:"task_metrics,attr,optional"`
	UnitExclude            string `alloy:"unit_exclude,attr,optional"`
	UnitInclude            string `alloy:"unit_include,attr,optional"`
}

// TapestatsConfig is the tapestats block.
type TapestatsConfig struct {
	IgnoredDevices string `alloy:"ignored_devices,attr,optional"`
}

// TextfileConfig is the textfile block.
type TextfileConfig struct {
	Directory string `alloy:"directory,attr,optional"`
}

// VMStatConfig is the vmstat block.
type VMStatConfig struct {
	Fields string `alloy:"fields,attr,optional"`
}

// DefaultArguments are Alloy's defaults on Linux.
var DefaultArguments = Arguments{
	ProcFSPath:   "/proc",
	SysFSPath:    "/sys",
	RootFSPath:   "/",
	UdevDataPath: "/run/udev/data",
	Disk: DiskStatsConfig{
		DeviceExclude: `^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`,
	},
	EthTool: EthToolConfig{MetricsInclude: ".*"},
	Filesystem: FilesystemConfig{
		MountTimeout:       5 * time.Second,
		MountPointsExclude: `^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+)($|/)`,
		FSTypesExclude:     `^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$`,
	},
	NTP: NTPConfig{
		IPTTL:                1,
		LocalOffsetTolerance: time.Millisecond,
		MaxDistance:          3466080 * time.Microsecond,
		ProtocolVersion:      4,
		Server:               "127.0.0.1",
	},
	Netclass: NetclassConfig{IgnoredDevices: "^$"},
	Netstat: NetstatConfig{
		Fields: `^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$`,
	},
	Powersupply: PowersupplyConfig{IgnoredSupplies: "^$"},
	Runit:       RunitConfig{ServiceDir: "/etc/service"},
	Supervisord: SupervisordConfig{URL: "http://localhost:9001/RPC2"},
	Systemd: SystemdConfig{
		UnitExclude: `.+\.(automount|device|mount|scope|slice)`,
		UnitInclude: ".+",
	},
	Tapestats: TapestatsConfig{IgnoredDevices: "^$"},
	VMStat:    VMStatConfig{Fields: `^(oom_kill|pgpg|pswp|pg.*fault).*`},
}

// SetToDefault sets Alloy's defaults; $SUPERVISORD_URL overrides the
// supervisord URL's, as in Alloy.
func (a *Arguments) SetToDefault() {
	*a = DefaultArguments
	if u := supervisordURLFromEnv(); u != "" {
		a.Supervisord.URL = u
	}
}

// Validate checks the regular expressions the collectors will compile (they
// would panic on a bad one), so that a bad one is a config error with a
// position. What the collectors check themselves when they are built (such
// as include and exclude both set) fails the component's build, as in
// Alloy.
func (a *Arguments) Validate() error {
	res := []struct{ name, re string }{
		{"arp.device_exclude", a.Arp.DeviceExclude},
		{"arp.device_include", a.Arp.DeviceInclude},
		{"cpu.bugs_include", a.CPU.BugsInclude},
		{"cpu.flags_include", a.CPU.FlagsInclude},
		{"disk.device_exclude", a.Disk.DeviceExclude},
		{"disk.device_include", a.Disk.DeviceInclude},
		{"ethtool.device_exclude", a.EthTool.DeviceExclude},
		{"ethtool.device_include", a.EthTool.DeviceInclude},
		{"ethtool.metrics_include", a.EthTool.MetricsInclude},
		{"filesystem.fs_types_exclude", a.Filesystem.FSTypesExclude},
		{"filesystem.mount_points_exclude", a.Filesystem.MountPointsExclude},
		{"hwmon.chip_exclude", a.HwMon.ChipExclude},
		{"hwmon.chip_include", a.HwMon.ChipInclude},
		{"netclass.ignored_devices", a.Netclass.IgnoredDevices},
		{"netdev.device_exclude", a.Netdev.DeviceExclude},
		{"netdev.device_include", a.Netdev.DeviceInclude},
		{"netstat.fields", a.Netstat.Fields},
		{"powersupply.ignored_supplies", a.Powersupply.IgnoredSupplies},
		{"systemd.unit_exclude", a.Systemd.UnitExclude},
		{"systemd.unit_include", a.Systemd.UnitInclude},
		{"tapestats.ignored_devices", a.Tapestats.IgnoredDevices},
		{"vmstat.fields", a.VMStat.Fields},
	}
	for _, r := range res {
		if _, err := regexp.Compile(r.re); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
	}
	if a.Filesystem.MountTimeout < 0 {
		return fmt.Errorf("filesystem.mount_timeout must not be negative, got %s", a.Filesystem.MountTimeout)
	}
	return nil
}
