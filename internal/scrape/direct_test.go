package scrape

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
)

// connCounter counts the connections a test server accepted.
type connCounter struct {
	mu  sync.Mutex
	new int
}

func (c *connCounter) hook(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		c.mu.Lock()
		c.new++
		c.mu.Unlock()
	}
}

func (c *connCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.new
}

func newDirectFetcher(t *testing.T, srv *httptest.Server, cfg Config) *fetcher {
	t.Helper()
	tg, err := newTarget(labels.FromStrings("__address__", srv.Listener.Addr().String()), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, err := commoncfg.NewClientFromConfig(cfg.HTTPClient, "scrape")
	if err != nil {
		t.Fatal(err)
	}
	f, err := newFetcher(client, tg, &cfg, acceptHeader(cfg.Protocols, cfg.EscapingScheme), &pools{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.close)
	return f
}

func fetchString(t *testing.T, f *fetcher) string {
	t.Helper()
	body, _, err := f.fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	f.release(body)
	return s
}

func TestDirectScrapesReuseOneConnection(t *testing.T) {
	var cc connCounter
	var gotHeaders http.Header
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHeaders = r.Header.Clone()
		if r.URL.Query().Get("chunked") != "" {
			// Flushing before the end forces a chunked body.
			_, _ = w.Write([]byte("a 1\n"))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte("b 2\n"))
			return
		}
		_, _ = w.Write([]byte("a 1\nb 2\n"))
	}))
	srv.Config.ConnState = cc.hook
	srv.Start()
	defer srv.Close()

	cfg := testConfig()
	f := newDirectFetcher(t, srv, cfg)
	if f.direct == nil {
		t.Fatal("a plain http target with the default client should be scraped directly")
	}
	for range 3 {
		if got := fetchString(t, f); got != "a 1\nb 2\n" {
			t.Fatalf("body %q", got)
		}
	}
	if n := cc.count(); n != 1 {
		t.Fatalf("%d connections for 3 scrapes, want 1", n)
	}
	if gotHeaders.Get("User-Agent") != cfg.UserAgent || gotHeaders.Get("X-Prometheus-Scrape-Timeout-Seconds") != "2" ||
		!strings.Contains(gotHeaders.Get("Accept"), "text/plain") {
		t.Fatalf("request headers %v", gotHeaders)
	}

	cfg.Params = map[string][]string{"chunked": {"1"}}
	f = newDirectFetcher(t, srv, cfg)
	for range 2 {
		if got := fetchString(t, f); got != "a 1\nb 2\n" {
			t.Fatalf("chunked body %q", got)
		}
	}
}

func TestDirectRedialsAConnectionTheTargetClosed(t *testing.T) {
	var cc connCounter
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("close") != "" {
			w.Header().Set("Connection", "close")
		}
		_, _ = w.Write([]byte("a 1\n"))
	}))
	srv.Config.ConnState = cc.hook
	srv.Start()
	defer srv.Close()

	f := newDirectFetcher(t, srv, testConfig())
	fetchString(t, f)
	// The server drops its idle connections, as one restarting or with a
	// short idle timeout would.
	srv.CloseClientConnections()
	if got := fetchString(t, f); got != "a 1\n" {
		t.Fatalf("body after the target closed the connection: %q", got)
	}

	cfg := testConfig()
	cfg.Params = map[string][]string{"close": {"1"}}
	f = newDirectFetcher(t, srv, cfg)
	before := cc.count()
	fetchString(t, f)
	fetchString(t, f)
	if n := cc.count() - before; n != 2 {
		t.Fatalf("%d connections for 2 scrapes answered with Connection: close, want 2", n)
	}
}

func TestDirectFollowsRedirectsThroughNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("moved 1\n"))
	}))
	defer srv.Close()
	if got := fetchString(t, newDirectFetcher(t, srv, testConfig())); got != "moved 1\n" {
		t.Fatalf("body %q", got)
	}
	cfg := testConfig()
	cfg.HTTPClient.FollowRedirects = false
	_, _, err := newDirectFetcher(t, srv, cfg).fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "302") {
		t.Fatalf("err = %v, want the 302 status", err)
	}
}

func TestDirectOnlyWithoutAuthProxyOrHeaders(t *testing.T) {
	plain := commoncfg.DefaultHTTPClientConfig
	withAuth := plain
	withAuth.BasicAuth = &commoncfg.BasicAuth{Username: "u", Password: "p"}
	withHeaders := plain
	withHeaders.HTTPHeaders = &commoncfg.Headers{Headers: map[string]commoncfg.Header{"X-A": {Values: []string{"b"}}}}
	noRedirects := plain
	noRedirects.FollowRedirects = false
	for _, tc := range []struct {
		name string
		url  string
		cfg  commoncfg.HTTPClientConfig
		want bool
	}{
		{"plain http", "http://h:1/metrics", plain, true},
		{"redirects off", "http://h:1/metrics", noRedirects, true},
		{"https", "https://h:1/metrics", plain, false},
		{"basic auth", "http://h:1/metrics", withAuth, false},
		{"extra headers", "http://h:1/metrics", withHeaders, false},
	} {
		if got := directEligible(tc.url, &tc.cfg); got != tc.want {
			t.Errorf("%s: eligible = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// rawServer answers every request with the same bytes and closes the
// connection.
func rawServer(t testing.TB, answer []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				head := make([]byte, 0, 1024)
				buf := make([]byte, 1024)
				for !bytes.Contains(head, []byte("\r\n\r\n")) {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					head = append(head, buf[:n]...)
				}
				_, _ = c.Write(answer)
			})
		}
	})
	return ln.Addr().String()
}

// FuzzDirectMatchesNetHTTP sends arbitrary response bytes to the direct
// client and to net/http: both must fail, or both return the same body.
// Seeds live in testdata/responses.
func FuzzDirectMatchesNetHTTP(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/responses/*")
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		addr := rawServer(t, answer)
		cfg := testConfig()
		cfg.Timeout = time.Second
		cfg.BodySizeLimit = 1 << 16
		cfg.HTTPClient.FollowRedirects = false
		tg, err := newTarget(labels.FromStrings("__address__", addr), &cfg)
		if err != nil {
			t.Fatal(err)
		}
		client, err := commoncfg.NewClientFromConfig(cfg.HTTPClient, "scrape")
		if err != nil {
			t.Fatal(err)
		}
		defer client.CloseIdleConnections()
		var results [2]string
		var errs [2]error
		for i := range 2 {
			fe, err := newFetcher(client, tg, &cfg, "*/*", &pools{})
			if err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				fe.direct = nil
			}
			body, _, err := fe.fetch(context.Background())
			results[i], errs[i] = string(body), err
			fe.close()
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Fatalf("direct: %v, net/http: %v\nanswer: %q", errs[0], errs[1], answer)
		}
		if errs[0] == nil && results[0] != results[1] {
			t.Fatalf("direct read %q, net/http %q\nanswer: %q", results[0], results[1], answer)
		}
	})
}
