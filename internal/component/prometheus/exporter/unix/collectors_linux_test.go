//go:build linux && !shoal_lean

package unix

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

func TestCollectorSelection(t *testing.T) {
	defaults := DefaultArguments
	states, unknown := enabledCollectors(&defaults)
	for _, c := range []string{"cpu", "loadavg", "meminfo", "filesystem", "netdev", "textfile", "uname"} {
		if !states[c] {
			t.Errorf("collector %s is not enabled by default", c)
		}
	}
	for _, c := range []string{"systemd", "perf", "ntp", "interrupts"} {
		if on, ok := states[c]; !ok || on {
			t.Errorf("collector %s: known=%v enabled=%v; want known and disabled by default", c, ok, on)
		}
	}
	if len(unknown) != 0 {
		t.Errorf("unknown collectors among the defaults: %v", unknown)
	}

	a := DefaultArguments
	a.SetCollectors = []string{"cpu", "loadavg", "devstat"}
	a.DisableCollectors = []string{"loadavg"}
	a.EnableCollectors = []string{"meminfo", "no_such_collector"}
	states, unknown = enabledCollectors(&a)
	var on []string
	for k, v := range states {
		if v {
			on = append(on, k)
		}
	}
	slices.Sort(on)
	if strings.Join(on, ",") != "cpu,meminfo" {
		t.Errorf("enabled = %v, want cpu,meminfo (set, then disable, then enable)", on)
	}
	if strings.Join(unknown, ",") != "devstat,no_such_collector" {
		t.Errorf("unknown = %v, want devstat (not on Linux) and no_such_collector", unknown)
	}
}

// TestNodeConfigSetsEveryPointer guards against a nil pointer that a
// collector would dereference at its first scrape.
func TestNodeConfigSetsEveryPointer(t *testing.T) {
	a := DefaultArguments
	cfg, _, _ := nodeConfig(&a)
	v := reflect.ValueOf(cfg).Elem()
	for i := 0; i < v.NumField(); i++ {
		sub := v.Field(i)
		if sub.Kind() != reflect.Struct {
			continue
		}
		for j := 0; j < sub.NumField(); j++ {
			f := sub.Field(j)
			if f.Kind() == reflect.Pointer && f.IsNil() {
				t.Errorf("%s.%s is nil", v.Type().Field(i).Name, sub.Type().Field(j).Name)
			}
		}
	}
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body.String())
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestComponentServesNodeExporterMetrics(t *testing.T) {
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.unix.host")
	opts.Host.HTTPAddr = "127.0.0.1:12345"
	a := DefaultArguments
	a.SetCollectors = []string{"loadavg", "meminfo", "cpu", "netdev", "filesystem", "uname"}
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := rec.Last().(exporter.Exports)
	if !ok || len(e.Targets) != 1 {
		t.Fatalf("exports = %#v", rec.Last())
	}
	tg := e.Targets[0]
	if tg["__address__"] != "127.0.0.1:12345" || tg["__metrics_path__"] != "/api/v0/component/prometheus.exporter.unix.host/metrics" ||
		tg["job"] != "integrations/unix" || tg["instance"] != exporter.HostName() ||
		tg["__meta_component_name"] != "prometheus.exporter.unix" || tg["__meta_component_id"] != "prometheus.exporter.unix.host" {
		t.Errorf("target = %v", tg)
	}
	body := scrape(t, c.(*exporter.Component).Handler())
	for _, name := range []string{"node_load1 ", "node_memory_MemAvailable_bytes ", "node_cpu_seconds_total{", "node_network_receive_bytes_total{", "node_uname_info{", "node_exporter_build_info{"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("no %s in the scrape", strings.TrimRight(name, " {"))
		}
	}
	if strings.Contains(body, "promhttp_metric_handler_requests_total") {
		t.Error("exporter metrics served without include_exporter_metrics")
	}
	if strings.Contains(body, `collector="vmstat"`) {
		t.Error("vmstat ran although set_collectors left it out")
	}

	// Update applies new arguments: the exporter's own metrics appear.
	a.IncludeExporterMetrics = true
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	h := c.(*exporter.Component).Handler()
	scrape(t, h)
	if body := scrape(t, h); !strings.Contains(body, "promhttp_metric_handler_requests_total") {
		t.Error("include_exporter_metrics = true serves no promhttp_metric_handler_requests_total")
	}
}

func TestCollectorBuildErrorFailsTheComponent(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.unix.bad")
	a := DefaultArguments
	a.SetCollectors = []string{"ntp"}
	a.NTP.ProtocolVersion = 9
	if _, err := Registration.Build(opts, a); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("err = %v, want node_exporter's refusal of NTP protocol version 9", err)
	}
}

// FuzzDecodeArguments decodes arbitrary block bodies: whatever decodes and
// validates must map onto node_exporter's configuration with every pointer
// set and every regular expression compiling (the collectors would panic
// otherwise).
func FuzzDecodeArguments(f *testing.F) {
	for _, s := range []string{
		``,
		`set_collectors = ["textfile"]` + "\n" + `textfile { directory = "/etc/release-info" }`,
		`disable_collectors = ["ipvs", "btrfs"]` + "\n" + `enable_collectors = ["meminfo"]`,
		`netdev { device_exclude = "^(veth.*|cali.*|[a-f0-9]{15})$" }`,
		`filesystem { mount_timeout = "5s" }`,
		`ntp { protocol_version = 3` + "\n" + `server = "10.0.0.1" }`,
		`ipvs { backend_labels = ["proto"] }`,
		`perf { tracepoint = ["a:b"] }`,
		`disk { device_include = "sd.*" }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		src := "prometheus.exporter.unix \"f\" {\n" + body + "\n}\n"
		file, err := parser.ParseFile("fuzz.alloy", []byte(src))
		if err != nil || len(file.Body) != 1 {
			return
		}
		b, ok := file.Body[0].(*ast.BlockStmt)
		if !ok {
			return
		}
		var a Arguments
		if err := vm.New(b).Evaluate(&vm.Scope{}, &a); err != nil {
			return
		}
		cfg, enabled, _ := nodeConfig(&a)
		for _, e := range enabled {
			if !cfg.Collectors[e] {
				t.Fatalf("%s listed enabled but not in the config", e)
			}
		}
		for _, re := range []*string{cfg.NetDev.DeviceExclude, cfg.NetDev.DeviceInclude, cfg.Filesystem.FSTypesExclude, cfg.Filesystem.MountPointsExclude, cfg.Systemd.UnitInclude, cfg.VmStat.Fields} {
			if _, err := regexp.Compile(*re); err != nil {
				t.Fatalf("validated arguments hold a bad regular expression %q: %v", *re, err)
			}
		}
	})
}
