package exporter

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestTargetOfAModuleComponent(t *testing.T) {
	opts := component.Options{ID: "custom.app/prometheus.exporter.self.x", Host: component.Host{HTTPAddr: "10.0.0.1:9000"}}
	tg := Target(opts, "prometheus.exporter.self", "integrations/self", "h1")
	want := map[string]string{
		"__address__": "10.0.0.1:9000", "__scheme__": "http",
		"__metrics_path__": "/api/v0/component/custom.app/prometheus.exporter.self.x/metrics",
		"instance":         "h1", "job": "integrations/self",
		"__meta_component_name": "prometheus.exporter.self", "__meta_component_id": "custom.app/prometheus.exporter.self.x",
	}
	if len(tg) != len(want) {
		t.Errorf("target = %v", tg)
	}
	for k, v := range want {
		if tg[k] != v {
			t.Errorf("%s = %q, want %q", k, tg[k], v)
		}
	}
	if tg := Target(component.Options{ID: "a.b.c"}, "a.b", "j", "i"); tg["__address__"] != "127.0.0.1:12345" {
		t.Errorf("without a server address: %v, want the default listen address", tg["__address__"])
	}
}

func TestUpdateKeepsTheLastGoodHandler(t *testing.T) {
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.test.x")
	fail := false
	build := Build("prometheus.exporter.test", "test", func(component.Options, component.Arguments) (http.Handler, string, error) {
		if fail {
			return nil, "", errors.New("bad arguments")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("m 1\n")) }), "inst", nil
	})
	c, err := build(opts, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Last().(Exports).Targets[0]["instance"]; got != "inst" {
		t.Errorf("instance = %q", got)
	}
	fail = true
	if err := c.Update(struct{}{}); err == nil {
		t.Fatal("a failing update returned nil")
	}
	w := httptest.NewRecorder()
	c.(*Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Body.String() != "m 1\n" {
		t.Errorf("after a failed update the handler serves %q", w.Body.String())
	}
}
