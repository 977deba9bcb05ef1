package kuma

import (
	"encoding/json"
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

// responseJSON is a DiscoveryResponse of Kuma's MADS v1 API, in protobuf's
// JSON form, as POST /v3/discovery:monitoringassignments answers it.
const responseJSON = `{
  "versionInfo": "5dc9a5dd-2091-4426-a886-dfdc24fc5e80",
  "resources": [
    {
      "@type": "type.googleapis.com/kuma.observability.v1.MonitoringAssignment",
      "mesh": "default",
      "service": "redis",
      "labels": {"k8s.kuma.io/namespace": "kuma-demo"},
      "targets": [
        {"name": "redis-1", "scheme": "http", "address": "127.0.200.1:5670", "metricsPath": "/metrics",
         "labels": {"kuma.io/zone": "zone-1"}}
      ]
    },
    {
      "@type": "type.googleapis.com/kuma.observability.v1.MonitoringAssignment",
      "mesh": "default",
      "service": "web",
      "targets": [
        {"name": "web-1", "scheme": "https", "address": "127.0.200.2:5670", "metricsPath": "/stats/prometheus"}
      ]
    }
  ],
  "typeUrl": "type.googleapis.com/kuma.observability.v1.MonitoringAssignment",
  "nonce": "n1"
}`

func TestAssignmentsFromTheControlPlane(t *testing.T) {
	var mu sync.Mutex
	var reqs []map[string]any
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v3/discovery:monitoringassignments" {
			http.NotFound(w, r)
			return
		}
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		reqs = append(reqs, req)
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(responseJSON))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = srv.URL
	a.RefreshInterval = time.Hour
	a.FetchTimeout = 10 * time.Second
	c, rec := discoverytest.Start(t, "discovery.kuma.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "redis", got["127.0.200.1:5670"], map[string]string{
		"instance":              "redis-1",
		"__scheme__":            "http",
		"__metrics_path__":      "/metrics",
		"__meta_kuma_mesh":      "default",
		"__meta_kuma_service":   "redis",
		"__meta_kuma_dataplane": "redis-1",
		"__meta_kuma_label_k8s_kuma_io_namespace": "kuma-demo",
		"__meta_kuma_label_kuma_io_zone":          "zone-1",
	})
	discoverytest.ExpectLabels(t, "web", got["127.0.200.2:5670"], map[string]string{
		"__scheme__":       "https",
		"__metrics_path__": "/stats/prometheus",
	})
	mu.Lock()
	defer mu.Unlock()
	if reqs[0]["type_url"] != "type.googleapis.com/kuma.observability.v1.MonitoringAssignment" ||
		!strings.Contains(queries[0], "fetch-timeout=10s") {
		t.Fatalf("request %v with query %q, want the MADS type and the fetch timeout", reqs[0], queries[0])
	}
}

func TestUnreachableControlPlaneIsReadyButUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = url
	a.RefreshInterval = time.Hour
	c, _ := discoverytest.Start(t, "discovery.kuma.test", 0, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	discoverytest.Eventually(t, 15*time.Second, func() bool {
		return c.CurrentHealth().State == component.HealthUnhealthy
	}, "health = %+v, want unhealthy", c.CurrentHealth())
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no scheme", func(a *Arguments) { a.Server = "kuma-control-plane:5676" }, "needs a scheme and a host"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"zero timeout", func(a *Arguments) { a.FetchTimeout = 0 }, "fetch_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Server = "http://kuma-control-plane.kuma-system.svc:5676"
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDocExampleDecodes(t *testing.T) {
	src := `
discovery.kuma "example" {
    server     = "http://kuma-control-plane.kuma-system.svc:5676"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.kuma", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(sd.RefreshInterval) != 30*time.Second || time.Duration(sd.FetchTimeout) != 2*time.Minute || sd.Name() != "kuma" {
		t.Fatalf("converted %+v", sd)
	}
}
