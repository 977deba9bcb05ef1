package mysql

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/mysqld_exporter/collector"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"
	"github.com/shoal-dev/shoal/internal/lab/labdb"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// TestMain stops the MariaDB the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	labdb.StopDatabases()
	os.Exit(code)
}

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.mysql "db" {
  data_source_name = "u:p@tcp(127.0.0.1:3306)/"
}`, "prometheus.exporter.mysql", nil, &a); err != nil {
		t.Fatal(err)
	}
	if !a.EnableLockWaitTimeout || a.LockWaitTimeout != 2 || a.LogSlowFilter ||
		!a.InfoSchemaProcessList.ProcessesByUser || !a.InfoSchemaProcessList.ProcessesByHost || a.InfoSchemaProcessList.MinTime != 0 ||
		a.InfoSchemaTables.Databases != "*" ||
		a.PerfSchemaEventsStatements.Limit != 250 || a.PerfSchemaEventsStatements.TimeLimit != 86400 || a.PerfSchemaEventsStatements.TextLimit != 120 ||
		a.PerfSchemaFileInstances.Filter != ".*" || a.PerfSchemaFileInstances.RemovePrefix != "/var/lib/mysql" ||
		a.PerfSchemaMemoryEvents.RemovePrefix != "memory/" ||
		a.Heartbeat.Database != "heartbeat" || a.Heartbeat.Table != "heartbeat" || a.Heartbeat.UTC || a.MySQLUser.Privileges {
		t.Errorf("defaults = %+v", a)
	}
	// Alloy's default collectors.
	var got []string
	for _, s := range a.enabled() {
		got = append(got, s.Name())
	}
	slices.Sort(got)
	want := []string{"global_status", "global_variables", "info_schema.innodb_cmp", "info_schema.innodb_cmpmem", "info_schema.query_response_time", "slave_status"}
	if !slices.Equal(got, want) {
		t.Errorf("default collectors = %v, want %v", got, want)
	}
}

func TestEveryArgumentDecodes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.mysql "db" {
  data_source_name         = "u:p@unix(/run/mysqld.sock)/app"
  enable_collectors        = ["heartbeat", "mysql.user"]
  disable_collectors       = ["slave_status"]
  set_collectors           = ["global_status", "slave_status", "info_schema.tables"]
  enable_lock_wait_timeout = false
  lock_wait_timeout        = 7
  log_slow_filter          = true
  info_schema.processlist {
    min_time          = 3
    processes_by_user = false
    processes_by_host = false
  }
  info_schema.tables {
    databases = "app"
  }
  perf_schema.eventsstatements {
    limit           = 10
    time_limit      = 20
    text_limit      = 30
    exclude_schemas = ["mysql"]
  }
  perf_schema.file_instances {
    filter        = "ib.*"
    remove_prefix = "/data"
  }
  perf_schema.memory_events {
    remove_prefix = "mem/"
  }
  heartbeat {
    database = "hb"
    table    = "beats"
    utc      = true
  }
  mysql.user {
    privileges = true
  }
}`, "prometheus.exporter.mysql", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.EnableLockWaitTimeout || a.LockWaitTimeout != 7 || !a.LogSlowFilter || a.InfoSchemaProcessList.MinTime != 3 ||
		a.InfoSchemaProcessList.ProcessesByUser || a.InfoSchemaTables.Databases != "app" || a.PerfSchemaEventsStatements.Limit != 10 ||
		a.PerfSchemaEventsStatements.TextLimit != 30 || len(a.PerfSchemaEventsStatements.ExcludeSchemas) != 1 ||
		a.PerfSchemaFileInstances.Filter != "ib.*" || a.PerfSchemaMemoryEvents.RemovePrefix != "mem/" ||
		a.Heartbeat.Table != "beats" || !a.Heartbeat.UTC || !a.MySQLUser.Privileges {
		t.Errorf("arguments = %+v", a)
	}
	// set_collectors replaces the defaults, disable_collectors then turns
	// off, enable_collectors then turns on; the configured collectors carry
	// their blocks.
	var got []string
	for _, s := range a.enabled() {
		got = append(got, s.Name())
		if s.Name() == "heartbeat" {
			if s.(*collector.ScrapeHeartbeat).Table != "beats" {
				t.Errorf("heartbeat collector = %+v", s)
			}
		}
	}
	slices.Sort(got)
	if want := []string{"global_status", "heartbeat", "info_schema.tables", "mysql.user"}; !slices.Equal(got, want) {
		t.Errorf("collectors = %v, want %v", got, want)
	}
}

func TestConfigErrorsAndInstance(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.mysql "db" {
  data_source_name = "u:secret@tcp(127.0.0.1:3306"
}`, "prometheus.exporter.mysql", nil, &a); err == nil {
		t.Error("a DSN that does not parse was accepted")
	} else if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
	for dsn, want := range map[string]string{
		"u:p@tcp(10.0.0.1:3307)/app":       "tcp(10.0.0.1:3307)/app",
		"u:p@unix(/run/mysqld.sock)/":      "unix(/run/mysqld.sock)/",
		"u@/":                              "tcp(127.0.0.1:3306)/",
		"root@tcp(db.example:3306)/?tls=1": "tcp(db.example:3306)/",
	} {
		if got, err := instance(dsn); err != nil || got != want {
			t.Errorf("instance(%q) = %q, %v; want %q", dsn, got, err, want)
		}
	}
	t.Setenv("MYSQLD_EXPORTER_DATA_SOURCE_NAME", "")
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.mysql.none")
	if _, err := Registration.Build(opts, DefaultArguments); err == nil {
		t.Error("built with no DSN and no $MYSQLD_EXPORTER_DATA_SOURCE_NAME")
	}
}

// TestUnknownCollectorsAreIgnoredWithAWarning: Alloy ignores a collector
// name it does not know, so shoal accepts it too, and says so.
func TestUnknownCollectorsAreIgnoredWithAWarning(t *testing.T) {
	var buf strings.Builder
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.mysql.typo")
	opts.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	a := DefaultArguments
	a.DataSourceName = "u:p@tcp(127.0.0.1:1)/"
	a.EnableCollectors = []string{"global_statuss"}
	if _, err := Registration.Build(opts, a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "global_statuss") || !strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("log = %q, want a warning naming the unknown collector", buf.String())
	}
}

// TestScrapesARealMariaDB runs Debian's MariaDB on loopback and scrapes
// the exporter: mysql_up is 1 with the server's status and variables, the
// info_schema.tables collector sees the lab table, and the target's
// instance is Alloy's; a wrong password gives mysql_up 0.
func TestScrapesARealMariaDB(t *testing.T) {
	db := labdb.MariaDBOnce(t)
	a := DefaultArguments
	a.DataSourceName = types.Secret(db.DSN(""))
	a.EnableCollectors = []string{"info_schema.tables", "info_schema.processlist"}
	a.InfoSchemaTables.Databases = "lab"
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.mysql.db")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 1 || tg[0]["job"] != "integrations/mysql" || tg[0]["instance"] != "tcp("+db.Addr+")/" {
		t.Errorf("targets = %v", tg)
	}
	body := exportertest.Scrape(t, c)
	for _, want := range []string{
		"mysql_up 1",
		"mysql_global_status_uptime ",
		"mysql_global_status_threads_connected ",
		"mysql_global_variables_max_connections ",
		"mysql_version_info{",
		`mysql_info_schema_table_rows{schema="lab",table="t"}`,
		`mysql_exporter_collector_success{collector="collect.global_status"} 1`,
		"mysqld_exporter_build_info{",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%.3000s", want, body)
		}
	}

	a.DataSourceName = types.Secret("exporter:wrong@tcp(" + db.Addr + ")/")
	opts, _, _ = discoverytest.Options(t, "prometheus.exporter.mysql.bad")
	c, err = Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	if body := exportertest.Scrape(t, c); !strings.Contains(body, "mysql_up 0") {
		t.Errorf("a wrong password: scrape lacks mysql_up 0:\n%.1500s", body)
	}
}
