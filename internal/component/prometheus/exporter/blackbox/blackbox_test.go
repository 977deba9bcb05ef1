package blackbox

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"

	"github.com/miekg/dns"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

const modules = `modules:
  http_2xx:
    prober: http
    timeout: 5s
  tcp_connect:
    prober: tcp
    timeout: 5s
  dns_a:
    prober: dns
    timeout: 5s
    dns:
      query_name: lab.example.
      query_type: A
      transport_protocol: udp
      preferred_ip_protocol: ip4
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
`

func TestDefaultsAndTargets(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.blackbox "bb" {
  config = "{ modules: { http_2xx: { prober: http, timeout: 5s } } }"
  target {
    name    = "site"
    address = "http://127.0.0.1:1/"
    module  = "http_2xx"
    labels  = { env = "lab", job = "ignored" }
  }
  target {
    name    = "plain"
    address = "127.0.0.1:2"
  }
}`, "prometheus.exporter.blackbox", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.ProbeTimeoutOffset != 500*time.Millisecond {
		t.Errorf("probe_timeout_offset = %v, want Alloy's 500ms", a.ProbeTimeoutOffset)
	}
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.blackbox.bb")
	opts.Host.HTTPAddr = "127.0.0.1:4242"
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 2 {
		t.Fatalf("targets = %v, want 2", tg)
	}
	want := map[string]string{
		"job": "integrations/blackbox/site", "instance": "prometheus.exporter.blackbox.bb", "env": "lab",
		"__param_target": "http://127.0.0.1:1/", "__param_module": "http_2xx",
		"__address__": "127.0.0.1:4242", "__metrics_path__": "/api/v0/component/prometheus.exporter.blackbox.bb/metrics",
		"__meta_component_name": "prometheus.exporter.blackbox", "__meta_component_id": "prometheus.exporter.blackbox.bb",
	}
	for k, v := range want {
		if tg[0][k] != v {
			t.Errorf("target 0 %s = %q, want %q", k, tg[0][k], v)
		}
	}
	if tg[1]["job"] != "integrations/blackbox/plain" || tg[1]["__param_target"] != "127.0.0.1:2" {
		t.Errorf("target 1 = %v", tg[1])
	}
	if _, ok := tg[1]["__param_module"]; ok {
		t.Errorf("a target without module has __param_module: %v", tg[1])
	}
}

func TestTargetsListKeepsExtraLabels(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.blackbox "bb" {
  config  = "modules: { tcp: { prober: tcp } }"
  targets = [{ name = "a", __address__ = "127.0.0.1:9", module = "tcp", team = "x" }]
}`, "prometheus.exporter.blackbox", nil, &a); err != nil {
		t.Fatal(err)
	}
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.blackbox.bb")
	tg := buildTargets(exporter.Target(opts, "prometheus.exporter.blackbox", "integrations/blackbox", "i"), a)
	if len(tg) != 1 || tg[0]["team"] != "x" || tg[0]["__param_target"] != "127.0.0.1:9" || tg[0]["__param_module"] != "tcp" || tg[0]["job"] != "integrations/blackbox/a" {
		t.Fatalf("targets = %v", tg)
	}
	if _, ok := tg[0]["name"]; ok {
		t.Errorf("name kept as a label: %v", tg[0])
	}
}

func TestConfigErrors(t *testing.T) {
	for name, src := range map[string]string{
		"neither":        ``,
		"both":           `config = "modules: {}"` + "\n" + `config_file = "x.yml"`,
		"bad yaml":       `config = "modules: { a: { prober: http, nope: 1 } }"`,
		"block and list": `config = "modules: {}"` + "\n" + `targets = [{name = "a", address = "b"}]` + "\n" + `target {` + "\n" + `name = "c"` + "\n" + `address = "d"` + "\n}",
		"list no name":   `config = "modules: {}"` + "\n" + `targets = [{address = "b"}]`,
		"list no addr":   `config = "modules: {}"` + "\n" + `targets = [{name = "b"}]`,
		"no address":     `config = "modules: {}"` + "\n" + `target {` + "\n" + `name = "c"` + "\n" + `}`,
	} {
		var a Arguments
		if err := discoverytest.Decode(t, "prometheus.exporter.blackbox \"bb\" {\n"+src+"\n}", "prometheus.exporter.blackbox", nil, &a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// probe runs one scrape of the exporter's handler for target and module.
func probe(t *testing.T, c any, target, module string) string {
	t.Helper()
	w := httptest.NewRecorder()
	q := url.Values{"target": {target}, "module": {module}}
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics?"+q.Encode(), nil))
	if w.Code != http.StatusOK {
		t.Fatalf("probe %s %s: %d %s", module, target, w.Code, w.Body.String())
	}
	return w.Body.String()
}

func build(t *testing.T, a Arguments) any {
	t.Helper()
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.blackbox.bb")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestProbesRealServers runs the http, tcp and dns probers against servers
// on loopback, from a config file, and a failing probe against a closed port.
func TestProbesRealServers(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer web.Close()

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		rr, _ := dns.NewRR("lab.example. 60 IN A 127.0.0.7")
		m.Answer = append(m.Answer, rr)
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	defer func() { _ = srv.Shutdown() }()

	file := filepath.Join(t.TempDir(), "blackbox.yml")
	if err := os.WriteFile(file, []byte(modules), 0o644); err != nil {
		t.Fatal(err)
	}
	c := build(t, Arguments{ConfigFile: file, ProbeTimeoutOffset: DefaultArguments.ProbeTimeoutOffset})

	if body := probe(t, c, web.URL, "http_2xx"); !strings.Contains(body, "probe_success 1") || !strings.Contains(body, "probe_http_status_code 200") {
		t.Errorf("http probe:\n%s", body)
	}
	if body := probe(t, c, web.Listener.Addr().String(), "tcp_connect"); !strings.Contains(body, "probe_success 1") {
		t.Errorf("tcp probe:\n%s", body)
	}
	if body := probe(t, c, pc.LocalAddr().String(), "dns_a"); !strings.Contains(body, "probe_success 1") || !strings.Contains(body, "probe_dns_answer_rrs 1") {
		t.Errorf("dns probe:\n%s", body)
	}
	// A closed port: the probe runs and fails.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	if body := probe(t, c, closed, "tcp_connect"); !strings.Contains(body, "probe_success 0") {
		t.Errorf("tcp probe of a closed port:\n%s", body)
	}
	// An unknown module is the client's error, as in blackbox_exporter.
	w := httptest.NewRecorder()
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics?target=x&module=nope", nil))
	if w.Code != http.StatusBadRequest {
		t.Errorf("unknown module: %d", w.Code)
	}
}

// TestICMPProbe pings 127.0.0.1. It needs raw sockets (root) or
// unprivileged ping allowed by net.ipv4.ping_group_range, so it runs only
// as root.
func TestICMPProbe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("icmp probing needs root here")
	}
	c := build(t, Arguments{Config: types.OptionalSecret{Value: modules}, ProbeTimeoutOffset: DefaultArguments.ProbeTimeoutOffset})
	if body := probe(t, c, "127.0.0.1", "icmp"); !strings.Contains(body, "probe_success 1") {
		t.Errorf("icmp probe:\n%s", body)
	}
}

func TestMissingConfigFileFailsBuild(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.blackbox.bb")
	if _, err := Registration.Build(opts, Arguments{ConfigFile: filepath.Join(t.TempDir(), "none.yml")}); err == nil {
		t.Fatal("built with a missing config file")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(modules))
	f.Add([]byte("{ modules: { http_2xx: { prober: http, timeout: 5s } } }"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseConfig(b)
	})
}

// TestRealConfigsDecodeAndBuild decodes every prometheus.exporter.blackbox block
// of the real Alloy configs in testdata/real and builds it.
func TestRealConfigsDecodeAndBuild(t *testing.T) {
	for _, rb := range exportertest.RealBlocks(t, "prometheus.exporter.blackbox") {
		var a Arguments
		if err := rb.Decode(&a); err != nil {
			t.Errorf("%s: %v", rb.Path, err)
			continue
		}
		opts, _, _ := discoverytest.Options(t, "prometheus.exporter.blackbox."+rb.Block.Label)
		if _, err := Registration.Build(opts, a); err != nil {
			t.Errorf("%s: building: %v", rb.Path, err)
		}
	}
}
