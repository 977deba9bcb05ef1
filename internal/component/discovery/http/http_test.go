package http

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

// sdServer serves a settable http_sd answer.
type sdServer struct {
	mu     sync.Mutex
	status int
	body   string
	auth   string
}

func (s *sdServer) set(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func (s *sdServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth = r.Header.Get("Authorization")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.status)
	_, _ = w.Write([]byte(s.body))
}

func start(t *testing.T, a Arguments) (*discovery.Component, *discoverytest.Recorder) {
	t.Helper()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "discovery.http.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return c, rec
}

func args(url string, every time.Duration) Arguments {
	var a Arguments
	a.SetToDefault()
	a.URL = url
	a.RefreshInterval = every
	return a
}

func addrs(rec *discoverytest.Recorder) string {
	ts, _ := rec.Targets()
	var as []string
	for _, t := range ts {
		as = append(as, t["__address__"])
	}
	return strings.Join(as, ",")
}

func TestTargetsFromTheURLWithBasicAuth(t *testing.T) {
	s := &sdServer{}
	s.set(200, `[{"targets": ["b:80", "a:80"], "labels": {"team": "x"}}]`)
	srv := httptest.NewServer(s)
	defer srv.Close()

	a := args(srv.URL+"/sd", time.Hour)
	a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "u", Password: "p"}
	c, rec := start(t, a)
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	if got := addrs(rec); got != "a:80,b:80" {
		t.Fatalf("targets = %s, want a:80,b:80", got)
	}
	ts, _ := rec.Targets()
	if ts[0]["team"] != "x" || ts[0]["__meta_url"] != srv.URL+"/sd" {
		t.Fatalf("target labels = %v, want the group label and __meta_url", ts[0])
	}
	s.mu.Lock()
	auth := s.auth
	s.mu.Unlock()
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p")); auth != want {
		t.Fatalf("Authorization header = %q, want %q", auth, want)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
}

func TestFailingEndpointIsUnhealthyKeepsTargetsAndRecovers(t *testing.T) {
	s := &sdServer{}
	s.set(200, `[{"targets": ["a:80"]}]`)
	srv := httptest.NewServer(s)
	defer srv.Close()

	c, rec := start(t, args(srv.URL, 50*time.Millisecond))
	discoverytest.Eventually(t, wait, c.Ready, "never ready")

	s.set(500, "boom")
	discoverytest.Eventually(t, wait, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "500")
	}, "a 500 answer did not show as unhealthy with the status: %+v", c.CurrentHealth())
	if got := addrs(rec); got != "a:80" {
		t.Fatalf("targets = %s, want the last good a:80", got)
	}

	s.set(200, `[{"targets": ["c:80"]}]`)
	discoverytest.Eventually(t, wait, func() bool {
		return addrs(rec) == "c:80" && c.CurrentHealth().State == component.HealthHealthy
	}, "did not recover: targets %s, health %+v", addrs(rec), c.CurrentHealth())
}

func TestUnreachableAtStartIsReadyButUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()

	c, rec := start(t, args(url, time.Hour))
	discoverytest.Eventually(t, wait, c.Ready, "a failed first refresh must still count as complete")
	if h := c.CurrentHealth(); h.State != component.HealthUnhealthy {
		t.Fatalf("health = %+v, want unhealthy", h)
	}
	if ts, ok := rec.Targets(); !ok || len(ts) != 0 {
		t.Fatalf("targets = %v (published %v), want an empty list", ts, ok)
	}
}

func TestEmptyAnswerIsReady(t *testing.T) {
	s := &sdServer{}
	s.set(200, `[]`)
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, rec := start(t, args(srv.URL, time.Hour))
	discoverytest.Eventually(t, wait, c.Ready, "an empty answer never made it ready")
	if ts, ok := rec.Targets(); !ok || len(ts) != 0 {
		t.Fatalf("targets = %v (published %v), want an empty list", ts, ok)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"missing url", func(a *Arguments) { a.URL = "" }, "url must be set"},
		{"ftp url", func(a *Arguments) { a.URL = "ftp://x/y" }, "scheme must be http or https"},
		{"no host", func(a *Arguments) { a.URL = "http:///sd" }, "host is missing"},
		{"two auths", func(a *Arguments) {
			a.HTTPClientConfig.BearerToken = "t"
			a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "u"}
		}, "at most one of"},
		{"bad tls version", func(a *Arguments) { a.HTTPClientConfig.TLSConfig.MinVersion = "TLS9" }, "unknown TLS version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args("http://example.com/sd", time.Minute)
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
