package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/livedebug"
)

func TestLiveDebugRefusals(t *testing.T) {
	hub := livedebug.NewHub()
	hub.Publisher("discovery.file.targets", "discovery.file")
	hub.Publisher("local.file.secret", "local.file")
	opts := fakeOptions(1)
	opts.LiveDebug = hub
	h := New(opts).Handler()

	if code, body := get(t, h, "/api/v0/web/debug/discovery.file.targets"); code != http.StatusServiceUnavailable || !strings.Contains(body, "livedebugging { enabled = true }") {
		t.Errorf("disabled: %d %s", code, body)
	}
	_, page := get(t, h, "/component/discovery.file.targets")
	if !strings.Contains(page, "Live debugging is off") || strings.Contains(page, "livedebug.js") {
		t.Errorf("the component page does not say live debugging is off")
	}
	hub.SetEnabled(true)
	for path, want := range map[string]int{
		"/api/v0/web/debug/nope.nope.x":                          http.StatusNotFound,
		"/api/v0/web/debug/local.file.secret":                    http.StatusBadRequest,
		"/api/v0/web/debug/discovery.file.targets?sampleProb=2":  http.StatusBadRequest,
		"/api/v0/web/debug/discovery.file.targets?sampleProb=no": http.StatusBadRequest,
	} {
		if code, body := get(t, h, path); code != want {
			t.Errorf("%s: %d %s, want %d", path, code, body, want)
		}
	}
	_, page = get(t, h, "/component/discovery.file.targets")
	if !strings.Contains(page, `data-url="/api/v0/web/debug/discovery.file.targets"`) || !strings.Contains(page, `src="/static/livedebug.js"`) {
		t.Errorf("the component page has no live view")
	}
	_, page = get(t, h, "/component/prometheus.remote_write.rx")
	if !strings.Contains(page, `id="livedebug"`) {
		t.Errorf("remote_write's page has no live view")
	}
}

// TestLiveDebugStreamsDiscoveryTargets watches a discovery component: the
// stream starts with the targets it holds, then follows its changes, in
// Alloy's framing.
func TestLiveDebugStreamsDiscoveryTargets(t *testing.T) {
	hub := livedebug.NewHub()
	hub.SetEnabled(true)
	pub := hub.Publisher("discovery.file.targets", "discovery.file")
	pub.SetSnapshot(func() []string { return []string{`target: {__address__="a:1"}`} })
	opts := fakeOptions(1)
	opts.LiveDebug = hub
	srv := httptest.NewServer(New(opts).Handler())
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v0/web/debug/discovery.file.targets", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	next := func() string {
		var line string
		for !strings.HasSuffix(line, LiveDebugDelimiter) {
			chunk, err := r.ReadString('|')
			if err != nil {
				t.Fatalf("stream ended: %v (got %q)", err, line)
			}
			line += chunk
		}
		return strings.TrimSuffix(line, LiveDebugDelimiter)
	}
	if got := next(); got != `target: {__address__="a:1"}` {
		t.Fatalf("first line = %q", got)
	}
	// Publish until the watcher is attached and the line arrives.
	go func() {
		for ctx.Err() == nil {
			pub.PublishTargets(1, func(int) string { return `{__address__="b:2"}` })
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if got := next(); got != `target: {__address__="b:2"}` {
		t.Fatalf("second line = %q", got)
	}
	hub.Remove("discovery.file.targets")
	for {
		if _, err := r.ReadString('|'); err != nil {
			break // the stream ends when the component is removed
		}
	}
}

// TestUIPathPrefix serves the UI and API under a prefix, with every link of
// a page under it, and leaves /metrics and the probes at the root.
func TestUIPathPrefix(t *testing.T) {
	for _, prefix := range []string{"/shoal", "/shoal/", "shoal", "/a/b/"} {
		opts := fakeOptions(3)
		opts.UIPrefix = prefix
		h := New(opts).Handler()
		p := NormalizePrefix(prefix)
		code, page := get(t, h, p+"/")
		if code != http.StatusOK {
			t.Fatalf("%s: %d", p+"/", code)
		}
		for _, attr := range []string{"href", "src", "action", "data-url"} {
			open := " " + attr + `="`
			for rest := page; ; {
				i := strings.Index(rest, open+"/")
				if i < 0 {
					break
				}
				rest = rest[i+len(open):]
				if !strings.HasPrefix(rest, p+"/") {
					t.Errorf("prefix %q: a link outside it: %q", prefix, rest[:min(len(rest), 60)])
				}
			}
		}
		if !strings.Contains(page, `href="`+p+`/component/prometheus.scrape.default"`) {
			t.Errorf("prefix %q: no link to a component page under it", prefix)
		}
		for path, want := range map[string]int{
			p + "/component/prometheus.scrape.default": http.StatusOK,
			p + "/static/style.css":                    http.StatusOK,
			p + "/api/v0/web/components":               http.StatusOK,
			"/metrics":                                 http.StatusOK,
			"/component/prometheus.scrape.default":     http.StatusNotFound,
			"/api/v0/web/components":                   http.StatusNotFound,
			"/":                                        http.StatusFound,
			p:                                          http.StatusFound,
		} {
			if code, _ := get(t, h, path); code != want {
				t.Errorf("prefix %q: GET %s = %d, want %d", prefix, path, code, want)
			}
		}
	}
	if NormalizePrefix("/") != "" || NormalizePrefix("") != "" {
		t.Error("the root prefix is not empty")
	}
}

// FuzzNormalizePrefix checks that any --server.http.ui-path-prefix becomes
// "" or a path with one leading slash and no trailing one, and that
// normalising twice changes nothing.
func FuzzNormalizePrefix(f *testing.F) {
	for _, s := range []string{"", "/", "//", "ui", "/ui/", "/a/b", "a//b/", "/%2F/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := NormalizePrefix(s)
		if p != "" && (!strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/")) {
			t.Fatalf("NormalizePrefix(%q) = %q", s, p)
		}
		if NormalizePrefix(p) != p {
			t.Fatalf("NormalizePrefix is not idempotent on %q: %q then %q", s, p, NormalizePrefix(p))
		}
	})
}

// TestShutdownEndsLiveStreams checks that a graceful shutdown ends an open
// live debugging stream instead of waiting for the viewer to leave.
func TestShutdownEndsLiveStreams(t *testing.T) {
	hub := livedebug.NewHub()
	hub.SetEnabled(true)
	hub.Publisher("prometheus.scrape.default", "prometheus.scrape")
	opts := fakeOptions(1)
	opts.LiveDebug = hub
	s := New(opts)
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()

	rctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+addr.String()+"/api/v0/web/debug/prometheus.scrape.default", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %s", resp.Status)
	}
	stop()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatalf("the stream did not end cleanly at shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
