// Package redis is the prometheus.exporter.redis component: redis_exporter
// (github.com/oliver006/redis_exporter) linked as a library, configured
// with Alloy's arguments and defaults. Each scrape of its target connects
// to redis_addr and reports what INFO and the configured key checks give,
// redis_up 0 when Redis cannot be reached. The target's instance is
// redis_addr, as in Alloy.
package redis

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	re "github.com/oliver006/redis_exporter/exporter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Registration is prometheus.exporter.redis's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.redis",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.redis", "redis", create),
}

// DefaultArguments are Alloy's defaults.
var DefaultArguments = Arguments{
	Namespace:               "redis",
	ConfigCommand:           "CONFIG",
	ConnectionTimeout:       15 * time.Second,
	SetClientName:           true,
	CheckKeyGroupsBatchSize: 10000,
	MaxDistinctKeyGroups:    100,
	ExportKeyValues:         true,
}

// Arguments are prometheus.exporter.redis's, as Alloy names them.
type Arguments struct {
	IncludeExporterMetrics bool `alloy:"include_exporter_metrics,attr,optional"`

	RedisAddr               string        `alloy:"redis_addr,attr"`
	RedisUser               string        `alloy:"redis_user,attr,optional"`
	RedisPassword           types.Secret  `alloy:"redis_password,attr,optional"`
	RedisPasswordFile       string        `alloy:"redis_password_file,attr,optional"`
	RedisPasswordMapFile    string        `alloy:"redis_password_map_file,attr,optional"`
	Namespace               string        `alloy:"namespace,attr,optional"`
	ConfigCommand           string        `alloy:"config_command,attr,optional"`
	CheckKeys               []string      `alloy:"check_keys,attr,optional"`
	CheckKeyGroups          []string      `alloy:"check_key_groups,attr,optional"`
	CheckKeyGroupsBatchSize int64         `alloy:"check_key_groups_batch_size,attr,optional"`
	MaxDistinctKeyGroups    int64         `alloy:"max_distinct_key_groups,attr,optional"`
	CheckSingleKeys         []string      `alloy:"check_single_keys,attr,optional"`
	CheckStreams            []string      `alloy:"check_streams,attr,optional"`
	CheckSingleStreams      []string      `alloy:"check_single_streams,attr,optional"`
	ExportKeyValues         bool          `alloy:"export_key_values,attr,optional"`
	CountKeys               []string      `alloy:"count_keys,attr,optional"`
	ScriptPath              string        `alloy:"script_path,attr,optional"`
	ScriptPaths             []string      `alloy:"script_paths,attr,optional"`
	ConnectionTimeout       time.Duration `alloy:"connection_timeout,attr,optional"`
	TLSClientKeyFile        string        `alloy:"tls_client_key_file,attr,optional"`
	TLSClientCertFile       string        `alloy:"tls_client_cert_file,attr,optional"`
	TLSCaCertFile           string        `alloy:"tls_ca_cert_file,attr,optional"`
	SetClientName           bool          `alloy:"set_client_name,attr,optional"`
	IsTile38                bool          `alloy:"is_tile38,attr,optional"`
	IsCluster               bool          `alloy:"is_cluster,attr,optional"`
	ExportClientList        bool          `alloy:"export_client_list,attr,optional"`
	ExportClientPort        bool          `alloy:"export_client_port,attr,optional"`
	RedisMetricsOnly        bool          `alloy:"redis_metrics_only,attr,optional"`
	PingOnConnect           bool          `alloy:"ping_on_connect,attr,optional"`
	InclSystemMetrics       bool          `alloy:"incl_system_metrics,attr,optional"`
	SkipTLSVerification     bool          `alloy:"skip_tls_verification,attr,optional"`
}

// SetToDefault implements the syntax's defaulter.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks what Alloy checks, at config time rather than at build
// where Alloy can: one of script_path and script_paths, one of the
// password file kinds, and the TLS key and certificate together.
func (a *Arguments) Validate() error {
	if a.RedisAddr == "" {
		return errors.New("redis_addr must not be empty")
	}
	if a.ScriptPath != "" && len(a.ScriptPaths) > 0 {
		return errors.New("only one of script_path and script_paths should be specified")
	}
	if a.RedisPasswordFile != "" && a.RedisPasswordMapFile != "" {
		return errors.New("only one of redis_password_file and redis_password_map_file should be specified")
	}
	if (a.TLSClientKeyFile != "") != (a.TLSClientCertFile != "") {
		return errors.New("tls_client_key_file and tls_client_cert_file must be set together")
	}
	return nil
}

// options converts the arguments to redis_exporter's, reading the files
// they name (scripts, password, password map).
func (a *Arguments) options() (re.Options, error) {
	o := re.Options{
		User:                      a.RedisUser,
		Password:                  string(a.RedisPassword),
		Namespace:                 a.Namespace,
		ConfigCommandName:         a.ConfigCommand,
		CheckKeys:                 strings.Join(a.CheckKeys, ","),
		CheckKeysBatchSize:        a.CheckKeyGroupsBatchSize,
		CheckKeyGroups:            strings.Join(a.CheckKeyGroups, ","),
		MaxDistinctKeyGroups:      a.MaxDistinctKeyGroups,
		CheckSingleKeys:           strings.Join(a.CheckSingleKeys, ","),
		CheckStreams:              strings.Join(a.CheckStreams, ","),
		CheckSingleStreams:        strings.Join(a.CheckSingleStreams, ","),
		DisableExportingKeyValues: !a.ExportKeyValues,
		CountKeys:                 strings.Join(a.CountKeys, ","),
		InclSystemMetrics:         a.InclSystemMetrics,
		RedactConfigMetrics:       true,
		SkipTLSVerification:       a.SkipTLSVerification,
		SetClientName:             a.SetClientName,
		IsTile38:                  a.IsTile38,
		IsCluster:                 a.IsCluster,
		ExportClientList:          a.ExportClientList,
		ExportClientsInclPort:     a.ExportClientPort,
		ConnectionTimeouts:        a.ConnectionTimeout,
		RedisMetricsOnly:          a.RedisMetricsOnly,
		PingOnConnect:             a.PingOnConnect,
		ClientKeyFile:             a.TLSClientKeyFile,
		ClientCertFile:            a.TLSClientCertFile,
		CaCertFile:                a.TLSCaCertFile,
		// The exporter's own HTTP endpoints are not served: only its
		// collector is used.
		DisableScrapeEndpoint: true,
	}
	scripts := a.ScriptPaths
	if a.ScriptPath != "" {
		scripts = strings.Split(a.ScriptPath, ",")
	}
	if len(scripts) > 0 {
		o.LuaScript = map[string][]byte{}
		for _, p := range scripts {
			b, err := os.ReadFile(p)
			if err != nil {
				return o, fmt.Errorf("loading script file: %w", err)
			}
			o.LuaScript[p] = b
		}
	}
	if a.RedisPasswordFile != "" {
		b, err := os.ReadFile(a.RedisPasswordFile)
		if err != nil {
			return o, fmt.Errorf("loading password file: %w", err)
		}
		o.Password = strings.TrimSpace(string(b))
	}
	if a.RedisPasswordMapFile != "" {
		m, err := re.LoadPwdFile(a.RedisPasswordMapFile)
		if err != nil {
			return o, fmt.Errorf("loading password map file %s: %w", a.RedisPasswordMapFile, err)
		}
		o.PasswordMap = m
	}
	return o, nil
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	routeLogrus(opts.Logger)
	a := args.(Arguments)
	o, err := a.options()
	if err != nil {
		return nil, "", err
	}
	e, err := re.NewRedisExporter(a.RedisAddr, o)
	if err != nil {
		return nil, "", fmt.Errorf("redis_exporter: %w", err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(e); err != nil {
		return nil, "", fmt.Errorf("registering redis_exporter's collector: %w", err)
	}
	if err := reg.Register(version.NewCollector("redis_exporter")); err != nil {
		return nil, "", fmt.Errorf("registering redis_exporter_build_info: %w", err)
	}
	var h http.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	if a.IncludeExporterMetrics {
		h = promhttp.InstrumentMetricHandler(reg, h)
	}
	// Alloy's instance for redis is the address it connects to.
	return h, a.RedisAddr, nil
}
