package postgres

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"
	"github.com/shoal-dev/shoal/internal/lab/labdb"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// TestMain stops the Postgres the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	labdb.StopDatabases()
	os.Exit(code)
}

func TestEveryArgumentDecodes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.postgres "pg" {
  data_source_names          = ["postgresql://u:p@db1:5433/app", "postgresql://u:p@db2/app"]
  disable_settings_metrics   = true
  custom_queries_config_path = "/q.yaml"
  enabled_collectors         = ["database", "stat_statements"]
  autodiscovery {
    enabled            = true
    database_allowlist = ["a"]
    database_denylist  = ["b", "c"]
  }
  stat_statements {
    include_query     = true
    query_length      = 80
    limit             = 50
    exclude_databases = ["x"]
    exclude_users     = ["y"]
  }
}`, "prometheus.exporter.postgres", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.DataSourceNames) != 2 || !a.DisableSettingsMetrics || a.DisableDefaultMetrics || a.CustomQueriesConfigPath != "/q.yaml" ||
		len(a.EnabledCollectors) != 2 || !a.AutoDiscovery.Enabled || len(a.AutoDiscovery.DatabaseDenylist) != 2 ||
		a.StatStatements == nil || !a.StatStatements.IncludeQuery || a.StatStatements.QueryLength != 80 || a.StatStatements.Limit != 50 ||
		len(a.StatStatements.ExcludeUsers) != 1 {
		t.Errorf("arguments = %+v", a)
	}
	var empty Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.postgres "pg" { }`, "prometheus.exporter.postgres", nil, &empty); err != nil {
		t.Fatal(err)
	}
	if empty.StatStatements != nil || empty.AutoDiscovery.Enabled || empty.DisableDefaultMetrics || empty.DisableSettingsMetrics {
		t.Errorf("defaults = %+v, want Alloy's zero values", empty)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no queries":                `disable_default_metrics = true`,
		"collectors and no default": "disable_default_metrics = true\ncustom_queries_config_path = \"/q\"\nenabled_collectors = [\"database\"]",
	} {
		var a Arguments
		if err := discoverytest.Decode(t, "prometheus.exporter.postgres \"pg\" {\n"+src+"\n}", "prometheus.exporter.postgres", nil, &a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.postgres.bad")
	if _, err := Registration.Build(opts, Arguments{DataSourceNames: []types.Secret{"postgresql://127.0.0.1:1/x"}, EnabledCollectors: []string{"nope"}}); err == nil {
		t.Error("built with an unknown collector")
	}
	os.Unsetenv("POSTGRES_EXPORTER_DATA_SOURCE_NAME")
	if _, err := Registration.Build(opts, Arguments{}); err == nil {
		t.Error("built with no DSN and no $POSTGRES_EXPORTER_DATA_SOURCE_NAME")
	}
	if _, err := Registration.Build(opts, Arguments{DataSourceNames: []types.Secret{"mysql://u:secret@x/y"}}); err == nil {
		t.Error("built with a DSN that is not a postgres URL")
	} else if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestInstanceIsAlloys(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgresql://u:p@db.example:5433/app?sslmode=disable": "postgresql://db.example:5433/app",
		"postgres://u@db.example/app":                          "postgresql://db.example/app",
		"postgresql:///app":                                    "postgresql://localhost:5432/app",
		"postgresql://":                                        "postgresql://localhost:5432/",
		"postgresql://u@[::1]:5432/x":                          "postgresql://::1:5432/x",
		"postgresql://u:it's%20a%20secret@h/d":                 "postgresql://h/d",
	} {
		if got, err := instance([]string{dsn}, "id"); err != nil || got != want {
			t.Errorf("instance(%q) = %q, %v; want %q", dsn, got, err, want)
		}
	}
	if got, _ := instance([]string{"postgresql://a/x", "postgresql://b/x"}, "prometheus.exporter.postgres.pg"); got != "prometheus.exporter.postgres.pg" {
		t.Errorf("two DSNs: instance %q, want the component's ID", got)
	}
}

// FuzzParseURL: the keyword splitting of pq's form never panics, and a
// URL pq accepts always gives a host-less or hosted instance.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"postgresql://u:p@h:1/d", "postgres://", "postgresql://u:it's%20x@h/d?application_name=a%20b", "postgresql://h/d?options=-c%20x%3D'y'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kv, err := parseURL(s)
		if err != nil {
			return
		}
		if _, err := instance([]string{s}, "id"); err != nil {
			t.Errorf("parseURL(%q) = %v, but instance fails: %v", s, kv, err)
		}
	})
}

// TestScrapesARealPostgres runs Debian's postgresql on loopback and
// scrapes the exporter: pg_up is 1, the collector package's pg_database
// and pg_stat_database series name the lab database, a custom query file
// adds its metric, and the target's instance is Alloy's; a closed port
// gives pg_up 0.
func TestScrapesARealPostgres(t *testing.T) {
	pg := labdb.PostgresOnce(t)
	queries := filepath.Join(t.TempDir(), "queries.yaml")
	if err := os.WriteFile(queries, []byte(`lab_probe:
  query: "SELECT 42::float AS answer"
  metrics:
    - answer:
        usage: "GAUGE"
        description: "a constant"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	a := Arguments{
		DataSourceNames:         []types.Secret{types.Secret(pg.DSN("lab"))},
		CustomQueriesConfigPath: queries,
	}
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.postgres.pg")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 1 || tg[0]["job"] != "integrations/postgres" || tg[0]["instance"] != "postgresql://"+pg.Addr+"/lab" {
		t.Errorf("targets = %v", tg)
	}
	body := exportertest.Scrape(t, c)
	for _, want := range []string{
		"pg_up 1",
		`pg_database_size_bytes{datname="lab"}`,
		`pg_stat_database_xact_commit{datid=`,
		"pg_settings_max_connections",
		"lab_probe_answer{server=\"" + pg.Addr + "\"} 42",
		`pg_scrape_collector_success{collector="database"} 1`,
		"postgres_exporter_build_info{",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%.4000s", want, body)
		}
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	opts, _, _ = discoverytest.Options(t, "prometheus.exporter.postgres.down")
	c, err = Registration.Build(opts, Arguments{DataSourceNames: []types.Secret{types.Secret("postgresql://postgres@" + closed + "/x?sslmode=disable&connect_timeout=2")}})
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	if body := exportertest.Scrape(t, c); !strings.Contains(body, "pg_up 0") {
		t.Errorf("a closed port: scrape lacks pg_up 0:\n%.1500s", body)
	}
}
