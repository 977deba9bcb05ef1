package consulagent

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

// Answers of a Consul agent's HTTP API (/v1/agent/...), trimmed to the
// fields the discoverer reads, in the shapes Consul's API reference gives.
const selfJSON = `{
 "Config": {"Datacenter": "dc1", "NodeName": "node-1", "NodeID": "9d754d17-d864-b1d3-e758-f3fe25a9874f", "Server": false, "Version": "1.17.0"},
 "Member": {"Name": "node-1", "Addr": "127.0.0.4", "Port": 8301, "Tags": {"dc": "dc1", "role": "node"}, "Status": 1},
 "Meta": {"rack": "r1", "consul-network-segment": ""}
}`

const servicesJSON = `{
 "web-1": {"ID": "web-1", "Service": "web", "Tags": ["prod", "v1"], "Meta": {"version": "1.2"}, "Port": 8080, "Address": "127.0.0.5",
   "TaggedAddresses": {"lan_ipv4": {"Address": "127.0.0.5", "Port": 8080}}, "Datacenter": "dc1"},
 "web-2": {"ID": "web-2", "Service": "web", "Tags": ["prod", "v1"], "Port": 8081, "Address": "", "Datacenter": "dc1"},
 "db-1": {"ID": "db-1", "Service": "db", "Tags": ["staging"], "Port": 5432, "Address": "127.0.0.6", "Datacenter": "dc1"}
}`

const webHealthJSON = `[
 {"AggregatedStatus": "warning", "Service": {"ID": "web-1", "Service": "web", "Tags": ["prod", "v1"], "Meta": {"version": "1.2"}, "Port": 8080, "Address": "127.0.0.5",
   "TaggedAddresses": {"lan_ipv4": {"Address": "127.0.0.5", "Port": 8080}}}, "Checks": [{"Node": "node-1", "CheckID": "service:web-1", "Status": "warning"}]},
 {"AggregatedStatus": "passing", "Service": {"ID": "web-2", "Service": "web", "Tags": ["prod", "v1"], "Port": 8081, "Address": ""}, "Checks": []}
]`

type agent struct {
	mu     sync.Mutex
	tokens []string
	paths  []string
}

func (a *agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.tokens = append(a.tokens, r.Header.Get("X-Consul-Token"))
	a.paths = append(a.paths, r.URL.Path)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/agent/self":
		_, _ = w.Write([]byte(selfJSON))
	case "/v1/agent/services":
		_, _ = w.Write([]byte(servicesJSON))
	case "/v1/agent/health/service/name/web":
		// The agent answers 429 when the worst check is warning.
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(webHealthJSON))
	default:
		http.NotFound(w, r)
	}
}

// TestServicesFromTheAgent lists the agent's services, keeps those with
// every tag of tags, and labels each instance with its health and the
// agent's node, as Alloy's discovery.consulagent does.
func TestServicesFromTheAgent(t *testing.T) {
	fake := &agent{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	src := `
discovery.consulagent "local" {
  server = SERVER
  token  = "agent-token"
  tags   = ["prod"]
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.consulagent", map[string]any{"SERVER": strings.TrimPrefix(srv.URL, "http://")}, &a); err != nil {
		t.Fatal(err)
	}
	c, rec := discoverytest.Start(t, "discovery.consulagent.local", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health %+v", h)
	}
	ts, _ := rec.Targets()
	by := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "web-1", by["127.0.0.5:8080"], map[string]string{
		"__meta_consulagent_service":                  "web",
		"__meta_consulagent_service_id":               "web-1",
		"__meta_consulagent_dc":                       "dc1",
		"__meta_consulagent_node":                     "node-1",
		"__meta_consulagent_address":                  "127.0.0.4",
		"__meta_consulagent_tags":                     ",prod,v1,",
		"__meta_consulagent_service_address":          "127.0.0.5",
		"__meta_consulagent_service_port":             "8080",
		"__meta_consulagent_health":                   "warning",
		"__meta_consulagent_metadata_rack":            "r1",
		"__meta_consulagent_service_metadata_version": "1.2",
		"__meta_consulagent_tagged_address_lan_ipv4":  "127.0.0.5:8080",
	})
	// Without a service address, the agent's own address.
	discoverytest.ExpectLabels(t, "web-2", by["127.0.0.4:8081"], map[string]string{
		"__meta_consulagent_service_id": "web-2", "__meta_consulagent_service_address": "",
	})
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for i, p := range fake.paths {
		if fake.tokens[i] != "agent-token" {
			t.Errorf("%s sent token %q", p, fake.tokens[i])
		}
		if strings.Contains(p, "/name/db") {
			t.Errorf("db lacks the prod tag but was read: %v", fake.paths)
		}
	}
}

func TestDefaultsAndValidation(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, "discovery.consulagent \"x\" {}\n", "discovery.consulagent", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Server != "localhost:8500" || sd.Scheme != "http" || sd.TagSeparator != "," || sd.RefreshInterval != 30*time.Second {
		t.Fatalf("defaults not Alloy's: %+v", sd)
	}
	for _, tc := range []struct {
		mod  func(*Arguments)
		want string
	}{
		{func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{func(a *Arguments) { a.Server = " " }, "server address"},
		{func(a *Arguments) { a.TLSConfig.MinVersion = "TLS9" }, "TLS version"},
	} {
		a := DefaultArguments
		tc.mod(&a)
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
}

// TestNamedServicesAreReadDirectly: with services and no tags, each named
// service is read by name without listing the agent's services, and a
// service the agent does not have gives no targets.
func TestNamedServicesAreReadDirectly(t *testing.T) {
	fake := &agent{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	a := DefaultArguments
	a.Server = strings.TrimPrefix(srv.URL, "http://")
	a.Services = []string{"web", "missing"}
	a.Datacenter = "dc9"
	_, rec := discoverytest.Start(t, "discovery.consulagent.named", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	ts, _ := rec.Targets()
	for _, tg := range ts {
		if tg["__meta_consulagent_service"] != "web" || tg["__meta_consulagent_dc"] != "dc9" {
			t.Errorf("target %v", tg)
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, p := range fake.paths {
		if p == "/v1/agent/services" {
			t.Errorf("listed the agent's services although services names them: %v", fake.paths)
		}
	}
}
