package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/unix"
	"github.com/shoal-dev/shoal/internal/lab"
)

// exporterPipeline runs one clustered `shoal run` (a fleet of one) with
// exporterBlock → clustered prometheus.scrape → prometheus.remote_write into
// Debian's Prometheus, and returns the Prometheus, the node and its fleet.
func exporterPipeline(ctx context.Context, t *testing.T, exporterBlock, exporterRef string) (*lab.Prometheus, *lab.Fleet, *lab.Node) {
	t.Helper()
	prom := lab.StartPrometheus(t)
	cfg := fmt.Sprintf(`%s

prometheus.scrape "exp" {
  targets         = %s.targets
  scrape_interval = "1s"
  scrape_timeout  = "900ms"
  clustering {
    enabled = true
  }
  forward_to = [prometheus.remote_write.prom.receiver]
}

prometheus.remote_write "prom" {
  endpoint {
    url = %q
  }
}
`, exporterBlock, exporterRef, prom.RemoteWriteURL())
	f, err := lab.NewFleet(ctx, lab.FleetConfig{
		NamePrefix: "exporter",
		Config:     func(string) string { return cfg },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shoal log:\n%s", f.Logs(60))
		}
		f.Close()
	})
	n, err := f.Add(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return prom, f, n
}

// waitSeries waits until Prometheus holds every query in want with at
// least one series, and fails the test naming those it never saw.
func waitSeries(ctx context.Context, t *testing.T, prom *lab.Prometheus, want []string) {
	t.Helper()
	missing := map[string]bool{}
	for _, q := range want {
		missing[q] = true
	}
	qctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_ = lab.WaitFor(qctx, func() bool {
		for q := range missing {
			v, err := prom.Query(qctx, q, time.Now())
			if err == nil && len(v) > 0 {
				delete(missing, q)
			}
		}
		return len(missing) == 0
	})
	for q := range missing {
		t.Errorf("Prometheus never held %s", q)
	}
}

// get fetches url from the node and returns the body.
func get(ctx context.Context, t *testing.T, f *lab.Fleet, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestExporterSelfReachesPrometheus proves prometheus.exporter.self: its
// target is the node's own server, a clustered scrape of it delivers
// shoal's own metrics (by their names) to Prometheus with Alloy's job label
// and the host name as instance.
func TestExporterSelfReachesPrometheus(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prom, f, n := exporterPipeline(ctx, t, `prometheus.exporter.self "me" { }`, "prometheus.exporter.self.me")
	host, _ := os.Hostname()
	if h := os.Getenv("HOSTNAME"); h != "" {
		host = h
	}
	sel := fmt.Sprintf(`{job="integrations/self",instance=%q}`, host)
	waitSeries(ctx, t, prom, []string{
		"shoal_build_info" + sel,
		"go_goroutines" + sel,
		"process_resident_memory_bytes" + sel,
		`up{job="integrations/self"} == 1`,
		// a component's own metric, labelled with its ID
		`prometheus_remote_storage_samples_total{component_id="prometheus.remote_write.prom"}`,
	})

	// The handler is also reachable by hand, and an unknown ID is a 404.
	code, body := get(ctx, t, f, "http://"+n.Addr+"/api/v0/component/prometheus.exporter.self.me/metrics")
	if code != http.StatusOK || !strings.Contains(body, "shoal_build_info") {
		t.Errorf("GET the exporter's metrics: %d, body has shoal_build_info=%v", code, strings.Contains(body, "shoal_build_info"))
	}
	if code, _ := get(ctx, t, f, "http://"+n.Addr+"/api/v0/component/prometheus.exporter.self.nope/metrics"); code != http.StatusNotFound {
		t.Errorf("GET an unknown component's metrics: %d, want 404", code)
	}
}

// TestExporterUnixReachesPrometheus proves prometheus.exporter.unix:
// node_exporter's collectors, configured by Alloy's arguments, are scraped
// through a clustered prometheus.scrape into Prometheus under the names
// node_exporter gives them; the textfile block's directory is read and a
// disabled collector's series never appear.
func TestExporterUnixReachesPrometheus(t *testing.T) {
	if !unix.Linked {
		t.Skip("this build has no node_exporter collectors")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lab.prom"), []byte("# TYPE lab_textfile_probe gauge\nlab_textfile_probe 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	block := fmt.Sprintf(`prometheus.exporter.unix "host" {
  disable_collectors = ["arp"]
  textfile {
    directory = %q
  }
  filesystem {
    mount_timeout = "2s"
  }
}`, dir)
	prom, _, _ := exporterPipeline(ctx, t, block, "prometheus.exporter.unix.host")
	sel := `{job="integrations/unix"}`
	waitSeries(ctx, t, prom, []string{
		"node_load1" + sel,
		"node_cpu_seconds_total" + sel,
		"node_memory_MemAvailable_bytes" + sel,
		"node_network_receive_bytes_total" + sel,
		"node_filesystem_avail_bytes" + sel,
		"node_uname_info" + sel,
		`lab_textfile_probe{job="integrations/unix"} == 42`,
		`node_scrape_collector_success{job="integrations/unix",collector="loadavg"} == 1`,
	})
	v, err := prom.Query(ctx, `node_scrape_collector_success{collector="arp"}`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 0 {
		t.Errorf("the disabled arp collector ran: %v", v)
	}
}
