package runtime_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/runtime"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
)

// TestValidateAlloyDocExamples checks that shoal accepts every complete
// example of Alloy's documentation for the components it implements.
func TestValidateAlloyDocExamples(t *testing.T) {
	paths, err := filepath.Glob("testdata/alloy-doc-examples/*.alloy")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	reg := all.Registry()
	rt := runtime.New(runtime.Options{Registry: reg})
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if diags := rt.Validate(p, src); len(diags) > 0 {
				var b strings.Builder
				diag.Fprint(&b, diags, map[string][]byte{p: src})
				t.Fatalf("shoal rejects an example Alloy accepts:\n%s", b.String())
			}
		})
	}
}

// BenchmarkLoad5000Lines parses, validates and evaluates a config of about
// 5,000 lines of real components, without building or running them.
func BenchmarkLoad5000Lines(b *testing.B) {
	src := bigConfig(5000)
	rt := runtime.New(runtime.Options{Registry: all.Registry()})
	if diags := rt.Validate("big.alloy", src); len(diags) > 0 {
		b.Fatal(diags)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if diags := rt.Validate("big.alloy", src); len(diags) > 0 {
			b.Fatal(diags)
		}
	}
}

// bigConfig writes one remote write and groups of discovery, relabelling
// and scraping until the config has at least lines lines.
func bigConfig(lines int) []byte {
	var b strings.Builder
	b.WriteString(`prometheus.remote_write "default" {
	external_labels = {cluster = "bench"}

	endpoint {
		url            = "http://127.0.0.1:9009/api/v1/push"
		remote_timeout = "30s"

		basic_auth {
			username = "bench"
			password = sys.env("BENCH_PASSWORD")
		}
	}
}

`)
	for i := 0; strings.Count(b.String(), "\n") < lines; i++ {
		fmt.Fprintf(&b, `discovery.file "f%[1]d" {
	files            = ["/etc/targets/%[1]d/*.json", "/etc/targets/%[1]d/*.yaml"]
	refresh_interval = "30s"
}

discovery.relabel "r%[1]d" {
	targets = discovery.file.f%[1]d.targets

	rule {
		source_labels = ["__meta_filepath"]
		regex         = "/etc/targets/([^/]+)/.*"
		target_label  = "team"
	}

	rule {
		source_labels = ["__address__"]
		regex         = ".*:9100"
		action        = "drop"
	}
}

prometheus.scrape "s%[1]d" {
	targets         = array.concat(discovery.relabel.r%[1]d.output, [{"__address__" = "127.0.0.1:%[2]d", "job" = string.format("job-%%d", %[1]d)}])
	forward_to      = [prometheus.remote_write.default.receiver]
	job_name        = "job_%[1]d"
	scrape_interval = "15s"
	scrape_timeout  = "5s"
	metrics_path    = "/metrics"
	honor_labels    = true

	clustering {
		enabled = true
	}
}

`, i, 9000+i%1000)
	}
	return []byte(b.String())
}

// BenchmarkReload5000LinesUnchanged reloads a built 5,000-line config that
// has not changed: every block is evaluated and compared, nothing updated.
func BenchmarkReload5000LinesUnchanged(b *testing.B) {
	src := bigConfig(5000)
	rt := runtime.New(runtime.Options{Registry: all.Registry(), DataPath: b.TempDir()})
	if err := rt.Load("big.alloy", src); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rt.Load("big.alloy", src); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValidateRealModules checks modules written for Alloy: a module of
// grafana/alloy-modules, and a clustered scrape whose interval is an
// argument (its check waits for the value).
func TestValidateRealModules(t *testing.T) {
	rt := runtime.New(runtime.Options{Registry: all.Registry()})
	p := "testdata/modules/annotations-metrics.alloy"
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if diags := rt.Validate(p, src); len(diags) > 0 {
		t.Fatalf("shoal rejects a module Alloy accepts: %v", diags)
	}
	cfg := `
declare "scrapes" {
  argument "targets" { }
  argument "interval" {
    optional = true
    default  = "60s"
  }
  prometheus.scrape "x" {
    targets         = argument.targets.value
    forward_to      = []
    scrape_interval = argument.interval.value
    clustering {
      enabled = true
    }
  }
}
scrapes "a" {
  targets  = [{"__address__" = "127.0.0.1:1"}]
  interval = "5s"
}
`
	if diags := rt.Validate("cfg.alloy", []byte(cfg)); len(diags) > 0 {
		t.Fatalf("a scrape configured by arguments is refused: %v", diags)
	}
	if err := rt.Load("cfg.alloy", []byte(cfg)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	info, ok := rt.Component("scrapes.a/prometheus.scrape.x")
	if !ok || info.Health.State != "healthy" {
		t.Fatalf("the module's scrape = %+v, %v", info.Health, ok)
	}
}
