package nomad

import (
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

// Answers in Nomad's HTTP API format: GET /v1/services and
// /v1/service/:name.
const servicesJSON = `[
  {"Namespace": "default", "Services": [
    {"ServiceName": "api", "Tags": ["metrics", "v1"]},
    {"ServiceName": "cache", "Tags": []}
  ]}
]`

const apiJSON = `[
  {
    "Address": "127.0.91.10", "AllocID": "a1", "CreateIndex": 10, "Datacenter": "dc1",
    "ID": "_nomad-task-a1-group-api-api-http", "JobID": "api", "ModifyIndex": 10,
    "Namespace": "default", "NodeID": "node-1", "Port": 21001, "ServiceName": "api",
    "Tags": ["metrics", "v1"]
  }
]`

const cacheJSON = `[
  {
    "Address": "127.0.91.11", "AllocID": "c1", "Datacenter": "dc2", "ID": "_nomad-task-c1-cache",
    "JobID": "cache", "Namespace": "default", "NodeID": "node-2", "Port": 6379, "ServiceName": "cache", "Tags": []
  }
]`

func TestServiceInstances(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Nomad-Index", "12")
		switch r.URL.Path {
		case "/v1/services":
			_, _ = w.Write([]byte(servicesJSON))
		case "/v1/service/api":
			_, _ = w.Write([]byte(apiJSON))
		case "/v1/service/cache":
			_, _ = w.Write([]byte(cacheJSON))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = srv.URL
	a.Region = "eu"
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.nomad.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "api", got["127.0.91.10:21001"], map[string]string{
		"__meta_nomad_address":         "127.0.91.10",
		"__meta_nomad_service":         "api",
		"__meta_nomad_service_address": "127.0.91.10",
		"__meta_nomad_service_port":    "21001",
		"__meta_nomad_service_id":      "_nomad-task-a1-group-api-api-http",
		"__meta_nomad_namespace":       "default",
		"__meta_nomad_node_id":         "node-1",
		"__meta_nomad_dc":              "dc1",
		"__meta_nomad_tags":            ",metrics,v1,",
	})
	discoverytest.ExpectLabels(t, "cache", got["127.0.91.11:6379"], map[string]string{"__meta_nomad_dc": "dc2"})
	mu.Lock()
	defer mu.Unlock()
	for _, q := range queries {
		if !strings.Contains(q, "region=eu") || !strings.Contains(q, "stale") {
			t.Fatalf("query %q, want region=eu and stale", q)
		}
	}
}

func TestFailingServerIsUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "ACL token not found", http.StatusForbidden)
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = srv.URL
	a.RefreshInterval = time.Hour
	c, _ := discoverytest.Start(t, "discovery.nomad.test", 0, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthUnhealthy || !strings.Contains(h.Message, "403") {
		t.Fatalf("health = %+v, want unhealthy with the 403", h)
	}
}

func TestArgumentsValidation(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Server = " "
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "server must be set") {
		t.Fatalf("Validate() = %v", err)
	}
	a.SetToDefault()
	a.RefreshInterval = 0
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "refresh_interval") {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestDocExampleDecodes(t *testing.T) {
	src := `
discovery.nomad "example" {
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.nomad", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Server != "http://localhost:4646" || sd.Namespace != "default" || sd.Region != "global" ||
		!sd.AllowStale || sd.TagSeparator != "," || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
