package consul

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

// Answers in Consul's HTTP API format: GET /v1/agent/self,
// /v1/catalog/services and /v1/health/service/:name.
const agentSelfJSON = `{"Config": {"Datacenter": "dc-east", "NodeName": "agent-1", "Version": "1.20.1"}, "Member": {"Name": "agent-1"}}`

const catalogJSON = `{"consul": [], "web": ["prod", "v2"], "db": ["prod"]}`

const webJSON = `[
  {
    "Node": {
      "ID": "40e4a748-2192-161a-0510-9bf59fe950b5", "Node": "node-1", "Address": "127.0.70.1", "Datacenter": "dc-east",
      "TaggedAddresses": {"lan": "127.0.70.1", "wan": "127.0.71.1"},
      "Meta": {"rack": "r1"}
    },
    "Service": {
      "ID": "web-1", "Service": "web", "Tags": ["prod", "v2"], "Address": "127.0.70.11", "Port": 8080,
      "Meta": {"version": "2.1"}, "Namespace": "", "Partition": ""
    },
    "Checks": [
      {"Node": "node-1", "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing"},
      {"Node": "node-1", "CheckID": "service:web-1", "Name": "web http", "Status": "passing", "ServiceID": "web-1"}
    ]
  },
  {
    "Node": {"Node": "node-2", "Address": "127.0.70.2", "Datacenter": "dc-east"},
    "Service": {"ID": "web-2", "Service": "web", "Tags": ["prod", "v2"], "Address": "", "Port": 8080},
    "Checks": [
      {"Node": "node-2", "CheckID": "serfHealth", "Status": "passing"},
      {"Node": "node-2", "CheckID": "service:web-2", "Status": "critical", "ServiceID": "web-2"}
    ]
  }
]`

const dbJSON = `[
  {
    "Node": {"Node": "node-3", "Address": "127.0.70.3", "Datacenter": "dc-east"},
    "Service": {"ID": "db-1", "Service": "db", "Tags": ["prod"], "Port": 5432},
    "Checks": [{"Node": "node-3", "CheckID": "serfHealth", "Status": "warning"}]
  }
]`

type agent struct {
	mu       sync.Mutex
	auth     []string
	services []string // the services whose health was asked
	queries  []url.Values
}

func (s *agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	if r.URL.Path != "/v1/agent/self" {
		s.queries = append(s.queries, r.URL.Query())
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Consul-Index", "42")
	w.Header().Set("X-Consul-Knownleader", "true")
	switch p := r.URL.Path; {
	case p == "/v1/agent/self":
		_, _ = w.Write([]byte(agentSelfJSON))
	case p == "/v1/catalog/services":
		_, _ = w.Write([]byte(catalogJSON))
	case strings.HasPrefix(p, "/v1/health/service/"):
		name := strings.TrimPrefix(p, "/v1/health/service/")
		s.mu.Lock()
		s.services = append(s.services, name)
		s.mu.Unlock()
		switch name {
		case "web":
			_, _ = w.Write([]byte(webJSON))
		case "db":
			_, _ = w.Write([]byte(dbJSON))
		default:
			_, _ = w.Write([]byte(`[]`))
		}
	default:
		http.NotFound(w, r)
	}
}

func start(t *testing.T, a Arguments) (*discovery.Component, *discoverytest.Recorder) {
	t.Helper()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "discovery.consul.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return c, rec
}

func byAddress(ts []discovery.Target) map[string]discovery.Target {
	m := map[string]discovery.Target{}
	for _, t := range ts {
		m[t["__address__"]] = t
	}
	return m
}

func TestCatalogServicesWithHealthAndMetadata(t *testing.T) {
	s := &agent{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = strings.TrimPrefix(srv.URL, "http://")
	a.RefreshInterval = time.Hour
	a.Username, a.Password = "u", "p"
	c, rec := start(t, a)
	discoverytest.Eventually(t, wait, func() bool {
		ts, _ := rec.Targets()
		return c.Ready() && len(ts) == 3
	}, "never ready with 3 targets: %v", rec.Last())
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := byAddress(ts)
	for addr, want := range map[string]map[string]string{
		"127.0.70.11:8080": {
			"__meta_consul_service":                  "web",
			"__meta_consul_service_id":               "web-1",
			"__meta_consul_node":                     "node-1",
			"__meta_consul_address":                  "127.0.70.1",
			"__meta_consul_service_address":          "127.0.70.11",
			"__meta_consul_service_port":             "8080",
			"__meta_consul_tags":                     ",prod,v2,",
			"__meta_consul_dc":                       "dc-east",
			"__meta_consul_health":                   "passing",
			"__meta_consul_metadata_rack":            "r1",
			"__meta_consul_service_metadata_version": "2.1",
			"__meta_consul_tagged_address_wan":       "127.0.71.1",
		},
		// No service address: the node's.
		"127.0.70.2:8080": {"__meta_consul_service_id": "web-2", "__meta_consul_health": "critical"},
		"127.0.70.3:5432": {"__meta_consul_service": "db", "__meta_consul_health": "warning"},
	} {
		for k, v := range want {
			if got[addr][k] != v {
				t.Errorf("%s: %s = %q, want %q (target %v)", addr, k, got[addr][k], v, got[addr])
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	for _, h := range s.auth {
		if h != wantAuth {
			t.Fatalf("Authorization = %q, want the deprecated username/password as basic auth", h)
		}
	}
	for _, q := range s.queries {
		if _, ok := q["stale"]; !ok {
			t.Fatalf("query %v lacks stale, which allow_stale (the default) asks for", q)
		}
	}
}

func TestOnlyTheNamedServices(t *testing.T) {
	s := &agent{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = strings.TrimPrefix(srv.URL, "http://")
	a.Datacenter = "dc-east"
	a.Services = []string{"db"}
	a.RefreshInterval = time.Hour
	a.TagSeparator = "|"
	c, rec := start(t, a)
	discoverytest.Eventually(t, wait, func() bool {
		ts, _ := rec.Targets()
		return c.Ready() && len(ts) == 1
	}, "never ready with the db target: %v", rec.Last())
	ts, _ := rec.Targets()
	if ts[0]["__address__"] != "127.0.70.3:5432" || ts[0]["__meta_consul_tags"] != "|prod|" {
		t.Fatalf("targets = %v", ts)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.services {
		if name != "db" {
			t.Fatalf("asked for the health of %q, want only db", name)
		}
	}
}

func TestUnreachableIsReadyButUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server = addr
	a.Datacenter = "dc1" // so that the catalog is asked at once
	a.RefreshInterval = time.Hour
	c, _ := start(t, a)
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	discoverytest.Eventually(t, wait, func() bool {
		return c.CurrentHealth().State == component.HealthUnhealthy
	}, "health = %+v, want unhealthy", c.CurrentHealth())
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no server", func(a *Arguments) { a.Server = " " }, "server must be set"},
		{"bad scheme", func(a *Arguments) { a.Scheme = "ftp" }, "scheme"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"username and basic_auth", func(a *Arguments) {
			a.Username = "u"
			a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "v"}
		}, "at most one of username"},
		{"token and authorization", func(a *Arguments) {
			a.Token = "t"
			a.HTTPClientConfig.Authorization = &discovery.Authorization{Type: "Bearer", Credentials: "x"}
		}, "at most one of token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
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
discovery.consul "example" {
  server = "localhost:8500"
  services = [
    "service1",
    "service2",
  ]
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.consul", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Server != "localhost:8500" || len(sd.Services) != 2 || sd.Scheme != "http" || !sd.AllowStale ||
		sd.TagSeparator != "," || time.Duration(sd.RefreshInterval) != 30*time.Second {
		t.Fatalf("converted %+v", sd)
	}
}
