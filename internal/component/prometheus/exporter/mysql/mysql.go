// Package mysql is the prometheus.exporter.mysql component: mysqld_exporter's
// collector package (grafana's fork of github.com/prometheus/mysqld_exporter,
// which Alloy builds against) linked as a library, configured with Alloy's
// arguments and defaults. Each scrape of its target connects to
// data_source_name, runs the enabled collectors and reports mysql_up 0 when
// the server cannot be reached. The target's instance is
// "<net>(<address>)/<database>" from the DSN, as in Alloy.
package mysql

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/mysqld_exporter/collector"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Registration is prometheus.exporter.mysql's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.mysql",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.mysql", "mysql", create),
}

// DefaultArguments are Alloy's defaults.
var DefaultArguments = Arguments{
	EnableLockWaitTimeout: true,
	LockWaitTimeout:       2,
	InfoSchemaProcessList: InfoSchemaProcessList{
		ProcessesByUser: true,
		ProcessesByHost: true,
	},
	InfoSchemaTables: InfoSchemaTables{Databases: "*"},
	PerfSchemaEventsStatements: PerfSchemaEventsStatements{
		Limit:     250,
		TimeLimit: 86400,
		TextLimit: 120,
	},
	PerfSchemaFileInstances: PerfSchemaFileInstances{
		Filter:       ".*",
		RemovePrefix: "/var/lib/mysql",
	},
	PerfSchemaMemoryEvents: PerfSchemaMemoryEvents{RemovePrefix: "memory/"},
	Heartbeat:              Heartbeat{Database: "heartbeat", Table: "heartbeat"},
}

// Arguments are prometheus.exporter.mysql's, as Alloy names them.
type Arguments struct {
	DataSourceName types.Secret `alloy:"data_source_name,attr,optional"`

	EnableCollectors  []string `alloy:"enable_collectors,attr,optional"`
	DisableCollectors []string `alloy:"disable_collectors,attr,optional"`
	SetCollectors     []string `alloy:"set_collectors,attr,optional"`

	EnableLockWaitTimeout bool `alloy:"enable_lock_wait_timeout,attr,optional"`
	LockWaitTimeout       int  `alloy:"lock_wait_timeout,attr,optional"`
	LogSlowFilter         bool `alloy:"log_slow_filter,attr,optional"`

	InfoSchemaProcessList      InfoSchemaProcessList      `alloy:"info_schema.processlist,block,optional"`
	InfoSchemaTables           InfoSchemaTables           `alloy:"info_schema.tables,block,optional"`
	PerfSchemaEventsStatements PerfSchemaEventsStatements `alloy:"perf_schema.eventsstatements,block,optional"`
	PerfSchemaFileInstances    PerfSchemaFileInstances    `alloy:"perf_schema.file_instances,block,optional"`
	PerfSchemaMemoryEvents     PerfSchemaMemoryEvents     `alloy:"perf_schema.memory_events,block,optional"`

	Heartbeat Heartbeat `alloy:"heartbeat,block,optional"`
	MySQLUser MySQLUser `alloy:"mysql.user,block,optional"`
}

// InfoSchemaProcessList configures the info_schema.processlist collector.
type InfoSchemaProcessList struct {
	MinTime         int  `alloy:"min_time,attr,optional"`
	ProcessesByUser bool `alloy:"processes_by_user,attr,optional"`
	ProcessesByHost bool `alloy:"processes_by_host,attr,optional"`
}

// InfoSchemaTables configures the info_schema.tables collector.
type InfoSchemaTables struct {
	Databases string `alloy:"databases,attr,optional"`
}

// PerfSchemaEventsStatements configures the perf_schema.eventsstatements
// collector.
type PerfSchemaEventsStatements struct {
	Limit          int      `alloy:"limit,attr,optional"`
	TimeLimit      int      `alloy:"time_limit,attr,optional"`
	TextLimit      int      `alloy:"text_limit,attr,optional"`
	ExcludeSchemas []string `alloy:"exclude_schemas,attr,optional"`
}

// PerfSchemaFileInstances configures the perf_schema.file_instances
// collector.
type PerfSchemaFileInstances struct {
	Filter       string `alloy:"filter,attr,optional"`
	RemovePrefix string `alloy:"remove_prefix,attr,optional"`
}

// PerfSchemaMemoryEvents configures the perf_schema.memory_events collector.
type PerfSchemaMemoryEvents struct {
	RemovePrefix string `alloy:"remove_prefix,attr,optional"`
}

// Heartbeat configures the heartbeat collector.
type Heartbeat struct {
	Database string `alloy:"database,attr,optional"`
	Table    string `alloy:"table,attr,optional"`
	UTC      bool   `alloy:"utc,attr,optional"`
}

// MySQLUser configures the mysql.user collector.
type MySQLUser struct {
	Privileges bool `alloy:"privileges,attr,optional"`
}

// SetToDefault implements the syntax's defaulter.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks what Alloy checks: the DSN parses as the Go MySQL
// driver's. Unknown collector names are ignored, as Alloy ignores them,
// with a warning when the component is built.
func (a *Arguments) Validate() error {
	if _, err := mysql.ParseDSN(string(a.DataSourceName)); err != nil {
		// The driver's errors do not quote the DSN, which holds the password.
		return fmt.Errorf("data_source_name: %w", err)
	}
	return nil
}

// unknown returns the collector names of the three lists that name no
// collector.
func (a *Arguments) unknown() []string {
	known := CollectorNames()
	var out []string
	for _, list := range [][]string{a.EnableCollectors, a.DisableCollectors, a.SetCollectors} {
		for _, c := range list {
			if !slices.Contains(known, c) && !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// CollectorNames are the names mysqld_exporter's collectors answer to,
// sorted.
func CollectorNames() []string {
	var names []string
	for _, s := range (&Arguments{}).scrapers() {
		names = append(names, s.scraper.Name())
	}
	slices.Sort(names)
	return names
}

type scraper struct {
	scraper collector.Scraper
	on      bool // enabled by default, as in Alloy (and mysqld_exporter)
}

// scrapers are every collector, configured from the arguments, with
// whether Alloy enables it by default.
func (a *Arguments) scrapers() []scraper {
	return []scraper{
		{&collector.ScrapeAutoIncrementColumns{}, false},
		{&collector.ScrapeBinlogSize{}, false},
		{&collector.ScrapeClientStat{}, false},
		{&collector.ScrapeEngineInnodbStatus{}, false},
		{&collector.ScrapeEngineTokudbStatus{}, false},
		{&collector.ScrapeGlobalStatus{}, true},
		{&collector.ScrapeGlobalVariables{}, true},
		{&collector.ScrapeInfoSchemaInnodbTablespaces{}, false},
		{&collector.ScrapeInnodbCmpMem{}, true},
		{&collector.ScrapeInnodbCmp{}, true},
		{&collector.ScrapeInnodbMetrics{}, false},
		{&collector.ScrapePerfEventsStatementsSum{}, false},
		{&collector.ScrapePerfEventsWaits{}, false},
		{&collector.ScrapePerfFileEvents{}, false},
		{&collector.ScrapePerfIndexIOWaits{}, false},
		{&collector.ScrapePerfReplicationApplierStatsByWorker{}, false},
		{&collector.ScrapePerfReplicationGroupMemberStats{}, false},
		{&collector.ScrapePerfReplicationGroupMembers{}, false},
		{&collector.ScrapePerfTableIOWaits{}, false},
		{&collector.ScrapePerfTableLockWaits{}, false},
		{&collector.ScrapeQueryResponseTime{}, true},
		{&collector.ScrapeReplicaHost{}, false},
		{&collector.ScrapeSchemaStat{}, false},
		{&collector.ScrapeSlaveHosts{}, false},
		{&collector.ScrapeSlaveStatus{}, true},
		{&collector.ScrapeTableStat{}, false},
		{&collector.ScrapeUserStat{}, false},
		{&collector.ScrapeSysUserSummary{}, false},
		{&collector.ScrapeHeartbeat{
			Database: a.Heartbeat.Database,
			Table:    a.Heartbeat.Table,
			UTC:      a.Heartbeat.UTC,
		}, false},
		{&collector.ScrapePerfEventsStatements{
			Limit:           a.PerfSchemaEventsStatements.Limit,
			TimeLimit:       a.PerfSchemaEventsStatements.TimeLimit,
			DigestTextLimit: a.PerfSchemaEventsStatements.TextLimit,
			ExcludeSchemas:  a.PerfSchemaEventsStatements.ExcludeSchemas,
		}, false},
		{&collector.ScrapePerfFileInstances{
			Filter:       a.PerfSchemaFileInstances.Filter,
			RemovePrefix: a.PerfSchemaFileInstances.RemovePrefix,
		}, false},
		{&collector.ScrapePerfMemoryEvents{RemovePrefix: a.PerfSchemaMemoryEvents.RemovePrefix}, false},
		{&collector.ScrapeProcesslist{
			ProcessListMinTime:  a.InfoSchemaProcessList.MinTime,
			ProcessesByHostFlag: a.InfoSchemaProcessList.ProcessesByHost,
			ProcessesByUserFlag: a.InfoSchemaProcessList.ProcessesByUser,
		}, false},
		{&collector.ScrapeTableSchema{Databases: a.InfoSchemaTables.Databases}, false},
		{&collector.ScrapeUser{Privileges: a.MySQLUser.Privileges}, false},
	}
}

// enabled is the collectors to run, as Alloy picks them: the defaults, or
// set_collectors when it is not empty; then disable_collectors turned
// off, then enable_collectors turned on.
func (a *Arguments) enabled() []collector.Scraper {
	all := a.scrapers()
	for i := range all {
		name := all[i].scraper.Name()
		if len(a.SetCollectors) > 0 {
			all[i].on = slices.Contains(a.SetCollectors, name)
		}
		if slices.Contains(a.DisableCollectors, name) {
			all[i].on = false
		}
		if slices.Contains(a.EnableCollectors, name) {
			all[i].on = true
		}
	}
	var out []collector.Scraper
	for _, s := range all {
		if s.on {
			out = append(out, s.scraper)
		}
	}
	return out
}

// instance is Alloy's instance key for a DSN: "<net>(<addr>)/<db>".
func instance(dsn string) (string, error) {
	m, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("data_source_name: %w", err)
	}
	if m.Addr == "" {
		m.Addr = "localhost:3306"
	}
	if m.Net == "" {
		m.Net = "tcp"
	}
	return fmt.Sprintf("%s(%s)/%s", m.Net, m.Addr, m.DBName), nil
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	a := args.(Arguments)
	inst, err := instance(string(a.DataSourceName))
	if err != nil {
		return nil, "", err
	}
	dsn := string(a.DataSourceName)
	if dsn == "" {
		dsn = os.Getenv("MYSQLD_EXPORTER_DATA_SOURCE_NAME")
	}
	if dsn == "" {
		return nil, "", errors.New("neither data_source_name nor $MYSQLD_EXPORTER_DATA_SOURCE_NAME is set")
	}
	if u := a.unknown(); len(u) > 0 {
		opts.Logger.Warn("ignoring unknown mysqld_exporter collectors", "collectors", u, "known", CollectorNames())
	}
	e := collector.New(context.Background(), dsn, a.enabled(), opts.Logger.With("source", "mysqld_exporter"),
		collector.EnableLockWaitTimeout(a.EnableLockWaitTimeout),
		collector.SetLockWaitTimeout(a.LockWaitTimeout),
		collector.SetSlowLogFilter(a.LogSlowFilter),
	)
	reg := prometheus.NewRegistry()
	if err := reg.Register(e); err != nil {
		return nil, "", fmt.Errorf("registering mysqld_exporter's collector: %w", err)
	}
	if err := reg.Register(version.NewCollector("mysqld_exporter")); err != nil {
		return nil, "", fmt.Errorf("registering mysqld_exporter_build_info: %w", err)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), inst, nil
}
