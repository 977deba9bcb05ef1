package pipeline

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/cadvisor"
	"github.com/shoal-dev/shoal/internal/lab"
	"github.com/shoal-dev/shoal/internal/lab/labdb"
)

// TestExporterMySQLReachesPrometheus proves prometheus.exporter.mysql
// against Debian's MariaDB on loopback: a clustered scrape delivers
// mysql_up 1 and the server's status and variables to Prometheus under job
// integrations/mysql with Alloy's instance, tcp(<address>)/<database>.
func TestExporterMySQLReachesPrometheus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := labdb.MariaDBOnce(t)
	block := fmt.Sprintf(`prometheus.exporter.mysql "db" {
  data_source_name  = %q
  enable_collectors = ["info_schema.tables"]
  info_schema.tables {
    databases = "lab"
  }
}`, db.DSN("lab"))
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.mysql.db")
	sel := fmt.Sprintf(`{job="integrations/mysql",instance=%q}`, "tcp("+db.Addr+")/lab")
	waitSeries(ctx, t, prom, []string{
		"mysql_up" + sel + " == 1",
		"mysql_global_status_uptime" + sel,
		"mysql_global_variables_max_connections" + sel,
		`mysql_info_schema_table_rows{job="integrations/mysql",schema="lab",table="t"}`,
		"mysqld_exporter_build_info" + sel,
	})
}

// TestExporterPostgresReachesPrometheus proves prometheus.exporter.postgres
// against Debian's postgresql on loopback: a clustered scrape delivers
// pg_up 1 and the collector package's series to Prometheus under job
// integrations/postgres with Alloy's instance, postgresql://<address>/<db>.
func TestExporterPostgresReachesPrometheus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg := labdb.PostgresOnce(t)
	block := fmt.Sprintf(`prometheus.exporter.postgres "pg" {
  data_source_names = [%q]
}`, pg.DSN("lab"))
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.postgres.pg")
	sel := fmt.Sprintf(`{job="integrations/postgres",instance=%q}`, "postgresql://"+pg.Addr+"/lab")
	waitSeries(ctx, t, prom, []string{
		"pg_up" + sel + " == 1",
		`pg_database_size_bytes{job="integrations/postgres",datname="lab"}`,
		"pg_settings_max_connections" + sel,
		`pg_scrape_collector_success{job="integrations/postgres",collector="database"} == 1`,
		"postgres_exporter_build_info" + sel,
	})
}

// TestExporterStatsdReachesPrometheus proves prometheus.exporter.statsd:
// StatsD lines sent over UDP to the node are mapped by the mapping file
// and delivered by a clustered scrape to Prometheus under job
// integrations/statsd with the component's ID as instance.
func TestExporterStatsdReachesPrometheus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port, err := lab.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	mapping := writeFile(t, "mapping.yaml", `mappings:
- match: "lab.*.requests"
  name: "lab_requests_total"
  labels:
    service: "$1"
`)
	block := fmt.Sprintf(`prometheus.exporter.statsd "s" {
  listen_udp          = %q
  listen_tcp          = ""
  mapping_config_path = %q
}`, addr, mapping)
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.statsd.s")
	// Send until Prometheus has it: UDP may be dropped, and the listener
	// starts in the background.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < 600; i++ {
			if c, err := net.Dial("udp", addr); err == nil {
				_, _ = c.Write([]byte("lab.checkout.requests:1|c\n"))
				c.Close()
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	sel := `{job="integrations/statsd",instance="prometheus.exporter.statsd.s"}`
	waitSeries(ctx, t, prom, []string{
		`lab_requests_total{job="integrations/statsd",instance="prometheus.exporter.statsd.s",service="checkout"} > 0`,
		"statsd_exporter_udp_packets_total" + sel + " > 0",
		"statsd_exporter_loaded_mappings" + sel + " == 1",
	})
}

// TestExporterCadvisorReachesPrometheus proves prometheus.exporter.cadvisor
// on this host's cgroups: a clustered scrape delivers the root cgroup's and
// the machine's series to Prometheus under job integrations/cadvisor.
func TestExporterCadvisorReachesPrometheus(t *testing.T) {
	if !cadvisor.Linked {
		t.Skip("this build has no cAdvisor")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	block := `prometheus.exporter.cadvisor "c" {
  docker_host     = "unix:///nonexistent/docker.sock"
  containerd_host = "/nonexistent/containerd.sock"
}`
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.cadvisor.c")
	sel := `{job="integrations/cadvisor"}`
	waitSeries(ctx, t, prom, []string{
		"machine_cpu_cores" + sel,
		`container_cpu_usage_seconds_total{job="integrations/cadvisor",id="/"}`,
		`container_memory_usage_bytes{job="integrations/cadvisor",id="/"}`,
		"cadvisor_version_info" + sel,
	})
}

// writeFile writes body to name in a temporary directory and returns its
// path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
