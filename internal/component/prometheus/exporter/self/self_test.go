package self

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/runtime"
)

func TestServesTheNodesRegistry(t *testing.T) {
	var a Arguments
	rt := runtime.New(runtime.Options{Registry: component.NewRegistry(Registration)})
	if diags := rt.Validate("self.alloy", []byte(`prometheus.exporter.self "me" { }`)); len(diags) > 0 {
		t.Fatal(diags)
	}
	diags := rt.Validate("self.alloy", []byte("prometheus.exporter.self \"me\" {\n  x = 1\n}"))
	if len(diags) == 0 || !strings.Contains(diags.Error(), "self.alloy:2:3") {
		t.Fatalf("an argument was accepted or reported without its position: %v", diags)
	}

	node := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_probe", Help: "h"})
	g.Set(7)
	node.MustRegister(g)
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.self.me")
	opts.Host.HTTPAddr = "127.0.0.1:4242"
	opts.Host.Gatherer = node
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	e := rec.Last().(exporter.Exports)
	tg := e.Targets[0]
	if tg["job"] != "integrations/self" || tg["__address__"] != "127.0.0.1:4242" ||
		tg["__metrics_path__"] != "/api/v0/component/prometheus.exporter.self.me/metrics" || tg["instance"] != exporter.HostName() {
		t.Errorf("target = %v", tg)
	}
	w := httptest.NewRecorder()
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "shoal_probe 7") {
		t.Errorf("scrape: %d %q", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/other", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /other: %d, want 404", w.Code)
	}
}

func TestWithoutARegistryBuildFails(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.self.me")
	if _, err := Registration.Build(opts, Arguments{}); err == nil {
		t.Fatal("built without the node's registry")
	}
}
