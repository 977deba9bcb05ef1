package pipeline

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/process"
	"github.com/shoal-dev/shoal/internal/lab"
)

// TestExporterBlackboxReachesPrometheus proves prometheus.exporter.blackbox:
// each target block is its own exported target, a clustered scrape of it
// runs one probe (target and module passed as URL parameters from
// __param_* labels), and Prometheus holds probe_success under Alloy's job
// integrations/blackbox/<name> with the component's ID as instance: 1 for
// a live httptest server, 0 for a closed port.
func TestExporterBlackboxReachesPrometheus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer web.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	block := fmt.Sprintf(`prometheus.exporter.blackbox "bb" {
  config = "{ modules: { http_2xx: { prober: http, timeout: 5s }, tcp: { prober: tcp, timeout: 2s } } }"
  target {
    name    = "web"
    address = %q
    module  = "http_2xx"
    labels  = { env = "lab" }
  }
  target {
    name    = "down"
    address = %q
    module  = "tcp"
  }
}`, web.URL, closed)
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.blackbox.bb")
	waitSeries(ctx, t, prom, []string{
		`probe_success{job="integrations/blackbox/web",instance="prometheus.exporter.blackbox.bb",env="lab"} == 1`,
		`probe_http_status_code{job="integrations/blackbox/web"} == 200`,
		`probe_success{job="integrations/blackbox/down",instance="prometheus.exporter.blackbox.bb"} == 0`,
		`up{job="integrations/blackbox/down"} == 1`,
	})
}

// TestExporterProcessReachesPrometheus proves prometheus.exporter.process:
// a matcher block groups a real process (a sleep with a distinctive command
// line), and a clustered scrape delivers process-exporter's series for the
// group to Prometheus under job integrations/process.
func TestExporterProcessReachesPrometheus(t *testing.T) {
	if !process.Linked {
		t.Skip("this build has no process-exporter")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.Command("sleep", "97.531")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	block := `prometheus.exporter.process "procs" {
  track_threads = false
  matcher {
    name    = "labsleep"
    cmdline = ["^sleep 97\\.531$"]
  }
}`
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.process.procs")
	waitSeries(ctx, t, prom, []string{
		`namedprocess_namegroup_num_procs{job="integrations/process",groupname="labsleep"} == 1`,
		`namedprocess_namegroup_cpu_seconds_total{job="integrations/process",groupname="labsleep"}`,
		`process_exporter_build_info{job="integrations/process"}`,
	})
}

// TestExporterRedisReachesPrometheus proves prometheus.exporter.redis
// against Debian's redis-server on loopback: a clustered scrape delivers
// redis_up 1 and INFO's series to Prometheus under job integrations/redis
// with redis_addr as instance.
func TestExporterRedisReachesPrometheus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := lab.StartRedis(t)
	block := fmt.Sprintf(`prometheus.exporter.redis "kv" {
  redis_addr = %q
}`, r.Addr)
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.redis.kv")
	sel := fmt.Sprintf(`{job="integrations/redis",instance=%q}`, r.Addr)
	waitSeries(ctx, t, prom, []string{
		"redis_up" + sel + " == 1",
		"redis_connected_clients" + sel,
		"redis_uptime_in_seconds" + sel,
		"redis_exporter_build_info" + sel,
	})
}
