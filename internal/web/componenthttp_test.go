package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echo answers with the component's ID and the path it was given.
func echo(id string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, id+" "+r.URL.Path)
	})
}

func componentServer() *Server {
	handlers := map[string]http.Handler{
		"prometheus.exporter.self.a":                 echo("prometheus.exporter.self.a"),
		"custom.app/prometheus.exporter.unix.b":      echo("custom.app/prometheus.exporter.unix.b"),
		"custom.app":                                 echo("custom.app"),
		"outer.x/inner.y/prometheus.exporter.self.c": echo("outer.x/inner.y/prometheus.exporter.self.c"),
	}
	return New(Options{ComponentHandler: func(id string) (http.Handler, bool) {
		if id == "prometheus.exporter.self.starting" {
			return nil, true
		}
		h, ok := handlers[id]
		return h, ok
	}})
}

func TestComponentRouteReachesTheLongestID(t *testing.T) {
	s := componentServer()
	cases := []struct {
		path string
		code int
		body string
	}{
		{"/api/v0/component/prometheus.exporter.self.a/metrics", 200, "prometheus.exporter.self.a /metrics"},
		{"/api/v0/component/prometheus.exporter.self.a/", 200, "prometheus.exporter.self.a /"},
		{"/api/v0/component/prometheus.exporter.self.a", 200, "prometheus.exporter.self.a /"},
		// A module's component: its ID holds a slash, and wins over its module.
		{"/api/v0/component/custom.app/prometheus.exporter.unix.b/metrics", 200, "custom.app/prometheus.exporter.unix.b /metrics"},
		{"/api/v0/component/custom.app/other/metrics", 200, "custom.app /other/metrics"},
		{"/api/v0/component/outer.x/inner.y/prometheus.exporter.self.c/metrics", 200, "outer.x/inner.y/prometheus.exporter.self.c /metrics"},
		{"/api/v0/component/prometheus.exporter.self.nope/metrics", 404, ""},
		{"/api/v0/component/", 404, ""},
		{"/api/v0/component/prometheus.exporter.self.starting/metrics", 503, ""},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
		if w.Code != c.code || (c.body != "" && w.Body.String() != c.body) {
			t.Errorf("GET %s: %d %q, want %d %q", c.path, w.Code, w.Body.String(), c.code, c.body)
		}
	}
}

func TestComponentRouteWithoutLookupIs404(t *testing.T) {
	s := New(Options{})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v0/component/x.y.z/metrics", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("got %d, want 404", w.Code)
	}
}

// FuzzResolveComponentPath checks that any path resolves to an ID the
// lookup knows and a rest that starts with a slash and, joined back,
// gives the path again.
func FuzzResolveComponentPath(f *testing.F) {
	for _, s := range []string{"a.b.c/metrics", "m.x/a.b.c/metrics", "/", "", "a.b.c", "a//b", "m.x/"} {
		f.Add(s)
	}
	known := map[string]bool{"a.b.c": true, "m.x": true, "m.x/a.b.c": true}
	f.Fuzz(func(t *testing.T, p string) {
		id, rest, _, ok := resolveComponentPath(p, func(id string) (http.Handler, bool) { return nil, known[id] })
		if !ok {
			return
		}
		if !known[id] || !strings.HasPrefix(rest, "/") {
			t.Fatalf("%q resolved to %q %q", p, id, rest)
		}
		if !strings.HasPrefix(p, id) {
			t.Fatalf("%q resolved to id %q, not a prefix", p, id)
		}
		if tail := p[len(id):]; tail != "" && tail != rest {
			t.Fatalf("%q resolved to %q %q, dropping %q", p, id, rest, tail)
		}
	})
}
