// Package postgres is the prometheus.exporter.postgres component:
// postgres_exporter (grafana's fork of
// github.com/prometheus-community/postgres_exporter, which Alloy builds
// against) linked as a library, configured with Alloy's arguments and
// defaults. Its exporter package serves the pg_* series of every
// data_source_names server (pg_up 0 for one it cannot reach), and, unless
// disable_default_metrics, its collector package adds the series of the
// enabled collectors for the first one. The target's instance is
// "postgresql://<host>:<port>/<database>" from the one DSN, or the
// component's ID when there are several, as in Alloy.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/lib/pq"
	"github.com/prometheus-community/postgres_exporter/collector"
	pe "github.com/prometheus-community/postgres_exporter/exporter"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Registration is prometheus.exporter.postgres's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.postgres",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.postgres", "postgres", create),
}

// Arguments are prometheus.exporter.postgres's, as Alloy names them. Every
// default is the zero value.
type Arguments struct {
	DataSourceNames []types.Secret `alloy:"data_source_names,attr,optional"`

	DisableSettingsMetrics  bool     `alloy:"disable_settings_metrics,attr,optional"`
	DisableDefaultMetrics   bool     `alloy:"disable_default_metrics,attr,optional"`
	CustomQueriesConfigPath string   `alloy:"custom_queries_config_path,attr,optional"`
	EnabledCollectors       []string `alloy:"enabled_collectors,attr,optional"`

	AutoDiscovery  AutoDiscovery   `alloy:"autodiscovery,block,optional"`
	StatStatements *StatStatements `alloy:"stat_statements,block,optional"`
}

// AutoDiscovery is the autodiscovery block: scrape the databases of the
// servers beyond those data_source_names names.
type AutoDiscovery struct {
	Enabled           bool     `alloy:"enabled,attr,optional"`
	DatabaseAllowlist []string `alloy:"database_allowlist,attr,optional"`
	DatabaseDenylist  []string `alloy:"database_denylist,attr,optional"`
}

// StatStatements is the stat_statements block, the settings of the
// stat_statements collector.
type StatStatements struct {
	IncludeQuery     bool     `alloy:"include_query,attr,optional"`
	QueryLength      uint     `alloy:"query_length,attr,optional"`
	Limit            uint     `alloy:"limit,attr,optional"`
	ExcludeDatabases []string `alloy:"exclude_databases,attr,optional"`
	ExcludeUsers     []string `alloy:"exclude_users,attr,optional"`
}

// Validate checks what Alloy checks.
func (a *Arguments) Validate() error {
	if a.DisableDefaultMetrics && a.CustomQueriesConfigPath == "" {
		return errors.New("custom_queries_config_path must be set when disable_default_metrics is true")
	}
	if a.DisableDefaultMetrics && len(a.EnabledCollectors) != 0 {
		return errors.New("enabled_collectors cannot be set when disable_default_metrics is true")
	}
	return nil
}

// dsns are data_source_names, or $POSTGRES_EXPORTER_DATA_SOURCE_NAME split
// at commas when it is empty, as in Alloy.
func (a *Arguments) dsns() ([]string, error) {
	if len(a.DataSourceNames) == 0 {
		env, ok := os.LookupEnv("POSTGRES_EXPORTER_DATA_SOURCE_NAME")
		if !ok {
			return nil, errors.New("neither data_source_names nor $POSTGRES_EXPORTER_DATA_SOURCE_NAME is set")
		}
		return strings.Split(env, ","), nil
	}
	out := make([]string, len(a.DataSourceNames))
	for i, d := range a.DataSourceNames {
		out[i] = string(d)
	}
	return out, nil
}

// instance is Alloy's instance key: "postgresql://host:port/dbname" of the
// one DSN (localhost:5432 when it names no host), or id when there are
// several.
func instance(dsns []string, id string) (string, error) {
	if len(dsns) != 1 {
		return id, nil
	}
	kv, err := parseURL(dsns[0])
	if err != nil {
		// pq's errors may quote the URL, password and all.
		return "", errors.New("data_source_names: cannot parse the DSN as a postgres URL")
	}
	if _, ok := kv["host"]; !ok {
		kv["host"], kv["port"] = "localhost", "5432"
	}
	hostport := kv["host"]
	if p, ok := kv["port"]; ok {
		hostport += ":" + p
	}
	return fmt.Sprintf("postgresql://%s/%s", hostport, kv["dbname"]), nil
}

// parseURL turns a postgres URL into its connection keywords, undoing the
// quoting of pq's key='value' form.
func parseURL(url string) (map[string]string, error) {
	if url == "postgresql://" || url == "postgres://" {
		return map[string]string{}, nil
	}
	raw, err := pq.ParseURL(url)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	if raw == "" {
		return out, nil
	}
	unescape := strings.NewReplacer(`\'`, `'`, `\\`, `\`)
	for _, kv := range splitKeywords(raw) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("unexpected keyword %q", k)
		}
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = v[1 : len(v)-1]
		}
		out[k] = unescape.Replace(v)
	}
	return out, nil
}

// splitKeywords splits pq's "k='v' k2='v 2'" at the spaces outside quotes
// (Alloy splits at every space, which cuts a value holding one).
func splitKeywords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '\'':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// handler serves the exporters' registry and closes their connections when
// the component stops or is rebuilt.
type handler struct {
	http.Handler
	e *pe.Exporter
}

func (h *handler) Run(ctx context.Context) error {
	<-ctx.Done()
	h.close()
	return nil
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	a := args.(Arguments)
	dsns, err := a.dsns()
	if err != nil {
		return nil, "", err
	}
	inst, err := instance(dsns, opts.ID)
	if err != nil {
		return nil, "", err
	}
	logger := opts.Logger.With("source", "postgres_exporter")
	e := pe.NewExporter(dsns, logger,
		pe.DisableDefaultMetrics(a.DisableDefaultMetrics),
		pe.WithUserQueriesPath(a.CustomQueriesConfigPath),
		pe.DisableSettingsMetrics(a.DisableSettingsMetrics),
		pe.AutoDiscoverDatabases(a.AutoDiscovery.Enabled),
		pe.ExcludeDatabases(a.AutoDiscovery.DatabaseDenylist),
		pe.IncludeDatabases(strings.Join(a.AutoDiscovery.DatabaseAllowlist, ",")),
		pe.WithMetricPrefix("pg"),
	)
	h := &handler{e: e}
	collectors := []prometheus.Collector{e}
	// The collector package's series, for the first DSN only (as
	// postgres_exporter and Alloy do), unless the default metrics are off.
	if !a.DisableDefaultMetrics {
		copts := []collector.Option{collector.WithCollectionTimeout("10s")}
		if s := a.StatStatements; s != nil {
			copts = append(copts, collector.WithStatStatementsConfig(collector.StatStatementsConfig{
				IncludeQuery:     s.IncludeQuery,
				QueryLength:      s.QueryLength,
				Limit:            s.Limit,
				ExcludeDatabases: s.ExcludeDatabases,
				ExcludeUsers:     s.ExcludeUsers,
			}))
		}
		c, err := collector.NewPostgresCollector(logger, a.AutoDiscovery.DatabaseDenylist, dsns[0], a.EnabledCollectors, copts...)
		if err != nil {
			e.CloseServers()
			return nil, "", fmt.Errorf("postgres_exporter's collector: %w", err)
		}
		collectors = append(collectors, c)
	}
	reg := prometheus.NewRegistry()
	collectors = append(collectors, version.NewCollector("postgres_exporter"))
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			h.close()
			return nil, "", fmt.Errorf("registering postgres_exporter's collectors: %w", err)
		}
	}
	h.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return h, inst, nil
}

// close closes the exporter's connections. The collector package opens
// and closes one per scrape (its Close would fail on the instance it never
// opened).
func (h *handler) close() { h.e.CloseServers() }
