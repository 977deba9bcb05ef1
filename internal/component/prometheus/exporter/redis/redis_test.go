package redis

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/lab"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.redis "r" {
  redis_addr = "127.0.0.1:6379"
}`, "prometheus.exporter.redis", nil, &a); err != nil {
		t.Fatal(err)
	}
	want := DefaultArguments
	want.RedisAddr = "127.0.0.1:6379"
	if a.Namespace != "redis" || a.ConfigCommand != "CONFIG" || a.ConnectionTimeout != 15*time.Second || !a.SetClientName ||
		a.CheckKeyGroupsBatchSize != 10000 || a.MaxDistinctKeyGroups != 100 || !a.ExportKeyValues || a.IncludeExporterMetrics {
		t.Errorf("defaults = %+v, want %+v", a, want)
	}
	if err := discoverytest.Decode(t, `prometheus.exporter.redis "r" { }`, "prometheus.exporter.redis", nil, &a); err == nil {
		t.Error("redis_addr is required, but a block without it was accepted")
	}
}

func TestEveryArgumentDecodes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.redis "r" {
  include_exporter_metrics    = true
  redis_addr                  = "redis://127.0.0.1:6379"
  redis_user                  = "u"
  redis_password              = "p"
  namespace                   = "kv"
  config_command              = "C"
  check_keys                  = ["a*", "b"]
  check_key_groups            = ["^(.*)$"]
  check_key_groups_batch_size = 5
  max_distinct_key_groups     = 7
  check_single_keys           = ["s"]
  check_streams               = ["st*"]
  check_single_streams        = ["st1"]
  export_key_values           = false
  count_keys                  = ["c*"]
  script_paths                = ["/x.lua", "/y.lua"]
  connection_timeout          = "2s"
  tls_client_key_file         = "/k"
  tls_client_cert_file        = "/c"
  tls_ca_cert_file            = "/ca"
  set_client_name             = false
  is_tile38                   = true
  is_cluster                  = true
  export_client_list          = true
  export_client_port          = true
  redis_metrics_only          = true
  ping_on_connect             = true
  incl_system_metrics         = true
  skip_tls_verification       = true
}`, "prometheus.exporter.redis", nil, &a); err != nil {
		t.Fatal(err)
	}
	if !a.IncludeExporterMetrics || a.RedisUser != "u" || string(a.RedisPassword) != "p" || a.Namespace != "kv" || a.ConfigCommand != "C" ||
		len(a.CheckKeys) != 2 || a.CheckKeyGroupsBatchSize != 5 || a.MaxDistinctKeyGroups != 7 || a.ExportKeyValues ||
		len(a.ScriptPaths) != 2 || a.ConnectionTimeout != 2*time.Second || a.TLSCaCertFile != "/ca" || a.SetClientName ||
		!a.IsTile38 || !a.IsCluster || !a.ExportClientList || !a.ExportClientPort || !a.RedisMetricsOnly || !a.PingOnConnect ||
		!a.InclSystemMetrics || !a.SkipTLSVerification {
		t.Errorf("arguments = %+v", a)
	}
	o, err := (&Arguments{RedisAddr: "x", CheckKeys: []string{"a", "b"}, ExportKeyValues: false, ConnectionTimeout: time.Second}).options()
	if err != nil || o.CheckKeys != "a,b" || !o.DisableExportingKeyValues || o.ConnectionTimeouts != time.Second || !o.RedactConfigMetrics {
		t.Errorf("options = %+v, %v", o, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, src := range map[string]string{
		"both scripts":   `script_path = "a"` + "\n" + `script_paths = ["b"]`,
		"both passwords": `redis_password_file = "a"` + "\n" + `redis_password_map_file = "b"`,
		"key only":       `tls_client_key_file = "k"`,
	} {
		var a Arguments
		err := discoverytest.Decode(t, "prometheus.exporter.redis \"r\" {\nredis_addr = \"127.0.0.1:1\"\n"+src+"\n}", "prometheus.exporter.redis", nil, &a)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.redis.r")
	a := DefaultArguments
	a.RedisAddr = "127.0.0.1:1"
	a.RedisPasswordFile = filepath.Join(t.TempDir(), "missing")
	if _, err := Registration.Build(opts, a); err == nil {
		t.Error("built with a missing password file")
	}
}

func scrape(t *testing.T, c any) string {
	t.Helper()
	w := httptest.NewRecorder()
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", w.Code, w.Body.String())
	}
	return w.Body.String()
}

// TestScrapesARealRedis starts Debian's redis-server on loopback, stores a
// key and scrapes the exporter: redis_up is 1, the checked key is counted
// and the target's instance is redis_addr; against a closed port redis_up
// is 0.
func TestScrapesARealRedis(t *testing.T) {
	r := lab.StartRedis(t)
	if reply, err := r.Do("SET lab:key hello"); err != nil || reply != "+OK" {
		t.Fatalf("SET: %q %v", reply, err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := DefaultArguments
	a.RedisAddr = r.Addr
	a.CheckSingleKeys = []string{"lab:key"}
	a.RedisPasswordFile = pw // empty: no AUTH, but the file is read
	a.ConnectionTimeout = 5 * time.Second
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.redis.r")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 1 || tg[0]["job"] != "integrations/redis" || tg[0]["instance"] != r.Addr {
		t.Errorf("targets = %v", tg)
	}
	body := scrape(t, c)
	for _, want := range []string{"redis_up 1", `redis_key_size{db="db0",key="lab:key"} 5`, "redis_connected_clients ", "redis_exporter_build_info{"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	a.RedisAddr = closed
	a.ConnectionTimeout = 2 * time.Second
	opts, _, _ = discoverytest.Options(t, "prometheus.exporter.redis.down")
	c, err = Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	if body := scrape(t, c); !strings.Contains(body, "redis_up 0") {
		t.Errorf("a closed port: scrape lacks redis_up 0:\n%.1500s", body)
	}
}

// TestRealConfigsDecodeAndBuild decodes every prometheus.exporter.redis block
// of the real Alloy configs in testdata/real and builds it.
func TestRealConfigsDecodeAndBuild(t *testing.T) {
	for _, rb := range exportertest.RealBlocks(t, "prometheus.exporter.redis") {
		var a Arguments
		if err := rb.Decode(&a); err != nil {
			t.Errorf("%s: %v", rb.Path, err)
			continue
		}
		opts, _, _ := discoverytest.Options(t, "prometheus.exporter.redis."+rb.Block.Label)
		if _, err := Registration.Build(opts, a); err != nil {
			t.Errorf("%s: building: %v", rb.Path, err)
		}
	}
}

// TestExporterLogsReachTheComponentLogger checks that redis_exporter's
// logrus lines (here: it cannot connect) go to the component's logger.
func TestExporterLogsReachTheComponentLogger(t *testing.T) {
	var buf syncBuffer
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	a := DefaultArguments
	a.RedisAddr = closed
	a.ConnectionTimeout = time.Second
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.redis.logs")
	opts.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	scrape(t, c)
	if got := buf.String(); !strings.Contains(got, "source=redis_exporter") || !strings.Contains(got, "level=ERROR") {
		t.Errorf("component log = %q, want redis_exporter's error line", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
