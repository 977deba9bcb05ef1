package agent

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/stability"
)

// syncBuffer is a bytes.Buffer safe for the node's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

var addrRE = regexp.MustCompile(`msg="serving HTTP" addr=(127\.0\.0\.1:\d+)`)

// startNode runs a whole node in-process on a free loopback port with the
// given run flags and returns its base URL.
func startNode(t *testing.T, configFile string, flags ...string) string {
	t.Helper()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var cfg Config
	cfg.RegisterFlags(fs)
	ccfg := cluster.DefaultConfig()
	ccfg.RegisterFlags(fs)
	if err := fs.Parse(append([]string{"--server.http.listen-addr=127.0.0.1:0", "--storage.path=" + t.TempDir(), "--shutdown.timeout=5s"}, flags...)); err != nil {
		t.Fatal(err)
	}
	cfg.ConfigFile, cfg.Cluster, cfg.Version = configFile, ccfg, "test"
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, &logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("node stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("node did not stop")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("node exited: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("node did not serve HTTP:\n%s", logs.String())
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestLiveDebuggingStreamsARealScrape runs a node whose config enables
// livedebugging and scrapes a real target, with the UI under a path
// prefix, and reads the samples of that target from the component's live
// stream; the component page links the stream under the prefix. A reload
// that turns live debugging off ends the stream.
func TestLiveDebuggingStreamsARealScrape(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE shoal_livedebug_probe gauge")
		fmt.Fprintln(w, `shoal_livedebug_probe{kind="real"} 42`)
	}))
	defer target.Close()
	addr := strings.TrimPrefix(target.URL, "http://")
	sdFile := filepath.Join(t.TempDir(), "targets.json")
	if err := os.WriteFile(sdFile, []byte(`[{"targets": ["sd-host:9100"], "labels": {"team": "live"}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	pipeline := fmt.Sprintf(`
discovery.file "sd" {
  files = [%q]
}
`, sdFile) + fmt.Sprintf(`
prometheus.scrape "app" {
  targets         = [{"__address__" = %q}]
  forward_to      = [prometheus.relabel.keep.receiver]
  scrape_interval = "200ms"
  scrape_timeout  = "150ms"
}

prometheus.relabel "keep" {
  forward_to = []
}
`, addr)
	cfgFile := filepath.Join(t.TempDir(), "config.alloy")
	if err := os.WriteFile(cfgFile, []byte("livedebugging {\n  enabled = true\n}\n"+pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	base := startNode(t, cfgFile, "--server.http.ui-path-prefix=/shoal/")

	// The UI is under the prefix, and links its stream there.
	code, page := get(t, base+"/shoal/component/prometheus.scrape.app")
	if code != http.StatusOK {
		t.Fatalf("component page: %d\n%s", code, page)
	}
	for _, want := range []string{`data-url="/shoal/api/v0/web/debug/prometheus.scrape.app"`, `src="/shoal/static/livedebug.js"`, `href="/shoal/static/style.css"`, `id="livedebug-toggle"`} {
		if !strings.Contains(page, want) {
			t.Errorf("component page lacks %s", want)
		}
	}
	if code, _ := get(t, base+"/shoal/static/livedebug.js"); code != http.StatusOK {
		t.Errorf("livedebug.js under the prefix: %d", code)
	}
	if code, _ := get(t, base+"/component/prometheus.scrape.app"); code != http.StatusNotFound {
		t.Errorf("the UI is also served outside the prefix: %d", code)
	}
	if code, body := get(t, base+"/shoal/api/v0/web/components"); code != http.StatusOK || !strings.Contains(body, `"liveDebuggingEnabled": true`) {
		t.Errorf("API under the prefix: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/shoal/api/v0/web/debug/prometheus.scrape.app?sampleProb=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	r := bufio.NewReader(resp.Body)
	var line string
	for {
		chunk, err := r.ReadString('|')
		if err != nil {
			t.Fatalf("stream ended before the probe's sample: %v", err)
		}
		line += chunk
		if !strings.HasSuffix(line, "|;|") {
			continue
		}
		if strings.Contains(line, `shoal_livedebug_probe`) {
			if !strings.HasPrefix(line, "sample: ts=") || !strings.Contains(line, `kind="real"`) || !strings.Contains(line, "value=42.000000") {
				t.Fatalf("sample line = %q", line)
			}
			break
		}
		line = ""
	}

	// A discovery component streams the targets it exports.
	sdReq, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/shoal/api/v0/web/debug/discovery.file.sd", nil)
	sdResp, err := http.DefaultClient.Do(sdReq)
	if err != nil {
		t.Fatal(err)
	}
	defer sdResp.Body.Close()
	sdLine, err := bufio.NewReader(sdResp.Body).ReadString(';')
	if err != nil || !strings.HasPrefix(sdLine, "target: {") || !strings.Contains(sdLine, `__address__="sd-host:9100"`) || !strings.Contains(sdLine, `team="live"`) {
		t.Fatalf("discovery stream: %q, %v", sdLine, err)
	}

	// Turning live debugging off by a reload ends the stream.
	if err := os.WriteFile(cfgFile, []byte(pipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, base+"/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, body)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatalf("the stream did not end cleanly: %v", err)
	}
	if code, body := get(t, base+"/shoal/api/v0/web/debug/prometheus.scrape.app"); code != http.StatusServiceUnavailable || !strings.Contains(body, "livedebugging") {
		t.Fatalf("stream with live debugging off: %d %s", code, body)
	}
}

func TestRunFlags(t *testing.T) {
	parse := func(args ...string) (Config, error) {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var cfg Config
		cfg.RegisterFlags(fs)
		return cfg, fs.Parse(args)
	}
	cfg, err := parse()
	if err != nil || cfg.StabilityLevel != stability.GenerallyAvailable || cfg.CommunityComponents || cfg.UIPathPrefix != "/" {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = parse("--stability.level=experimental", "--feature.community-components.enabled", "--disable-reporting", "--server.http.ui-path-prefix=/x")
	if err != nil || cfg.StabilityLevel != stability.Experimental || !cfg.CommunityComponents || !cfg.DisableReporting || cfg.UIPathPrefix != "/x" {
		t.Fatalf("set: %+v, %v", cfg, err)
	}
	if _, err := parse("--stability.level=beta"); err == nil || !strings.Contains(err.Error(), "experimental, public-preview or generally-available") {
		t.Fatalf("--stability.level=beta: %v", err)
	}
	if _, err := parse("--cluster.discover-peers=provider=aws tag_key=x"); err == nil || !strings.Contains(err.Error(), "--cluster.join-addresses") {
		t.Fatalf("--cluster.discover-peers: %v", err)
	}
	// Alloy's other run flags: accepted where shoal already behaves so,
	// refused with the reason otherwise.
	for _, ok := range [][]string{
		{"--config.format=alloy"}, {"--server.http.disable-support-bundle"}, {"--server.http.enable-graphql=false"},
		{"--feature.prometheus.direct-fanout.enabled"}, {"--feature.prometheus.metric-validation-scheme=utf8"},
	} {
		if _, err := parse(ok...); err != nil {
			t.Errorf("%v refused: %v", ok, err)
		}
	}
	for flagArg, reason := range map[string]string{
		"--config.format=prometheus":                 "alloy convert",
		"--server.http.enable-graphql":               "no GraphQL API",
		"--feature.component-shutdown-deadline=1m":   "--shutdown.timeout",
		"--server.http.memory-addr=alloy.internal:1": "no in-memory HTTP listener",
		"--config.bypass-conversion-errors":          "converts no other config format",
	} {
		if _, err := parse(flagArg); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: %v, want a refusal saying %q", flagArg, err, reason)
		}
	}
}

// TestRunRefusesBelowTheStabilityLevel checks that `shoal run` honours
// --stability.level before binding anything.
func TestRunRefusesBelowTheStabilityLevel(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "config.alloy")
	if err := os.WriteFile(cfgFile, []byte("foreach \"x\" {\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cfg := Config{ConfigFile: cfgFile, ListenAddr: "127.0.0.1:0", StoragePath: t.TempDir(), StabilityLevel: stability.GenerallyAvailable, Cluster: cluster.DefaultConfig()}
	err := Run(context.Background(), cfg, &logs)
	if err == nil || !strings.Contains(logs.String(), "--stability.level=experimental") || !strings.Contains(logs.String(), "config.alloy:1:1") {
		t.Fatalf("Run = %v\n%s", err, logs.String())
	}
}
