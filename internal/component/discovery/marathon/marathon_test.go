package marathon

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

// appsJSON answers GET /v2/apps/?embed=apps.tasks in Marathon's REST
// format: an app with Docker port mappings on container networking, one
// with port definitions on host networking.
const appsJSON = `{"apps": [
  {
    "id": "/shop/api",
    "instances": 1,
    "tasksRunning": 1,
    "labels": {"team": "shop", "tier.name": "front"},
    "container": {
      "type": "DOCKER",
      "docker": {"image": "example/api:3"},
      "portMappings": [{"containerPort": 9090, "hostPort": 0, "servicePort": 10000, "protocol": "tcp", "name": "metrics", "labels": {"scrape": "yes"}}]
    },
    "networks": [{"name": "dcos", "mode": "container"}],
    "tasks": [{
      "id": "shop_api.1111", "appId": "/shop/api", "host": "agent-1.example", "ports": [31001],
      "ipAddresses": [{"ipAddress": "127.0.90.5", "protocol": "IPv4"}], "state": "TASK_RUNNING"
    }]
  },
  {
    "id": "/batch",
    "instances": 2,
    "tasksRunning": 2,
    "labels": {},
    "container": {"type": "MESOS", "docker": {"image": ""}},
    "portDefinitions": [{"port": 0, "protocol": "tcp", "name": "http", "labels": {"kind": "web"}}],
    "requirePorts": false,
    "networks": [{"mode": "host"}],
    "tasks": [
      {"id": "batch.1", "host": "127.0.90.1", "ports": [31500], "ipAddresses": [], "state": "TASK_RUNNING"},
      {"id": "batch.2", "host": "127.0.90.2", "ports": [31501], "ipAddresses": [], "state": "TASK_RUNNING"}
    ]
  }
]}`

func TestTasksOfTheApps(t *testing.T) {
	var mu sync.Mutex
	var auth, query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth, query = r.Header.Get("Authorization"), r.URL.RawQuery
		mu.Unlock()
		if r.URL.Path != "/v2/apps/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(appsJSON))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Servers = []string{srv.URL}
	a.AuthToken = "s3cr3t"
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.marathon.test", 3, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "api", got["127.0.90.5:9090"], map[string]string{
		"__meta_marathon_app":                       "/shop/api",
		"__meta_marathon_image":                     "example/api:3",
		"__meta_marathon_task":                      "shop_api.1111",
		"__meta_marathon_port_index":                "0",
		"__meta_marathon_app_label_team":            "shop",
		"__meta_marathon_app_label_tier_name":       "front",
		"__meta_marathon_port_mapping_label_scrape": "yes",
	})
	discoverytest.ExpectLabels(t, "batch.2", got["127.0.90.2:31501"], map[string]string{
		"__meta_marathon_task":                       "batch.2",
		"__meta_marathon_port_definition_label_kind": "web",
	})
	mu.Lock()
	defer mu.Unlock()
	if auth != "token=s3cr3t" || query != "embed=apps.tasks" {
		t.Fatalf("Authorization %q, query %q; want the auth_token and the embedded tasks", auth, query)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no servers", func(a *Arguments) { a.Servers = nil }, "at least one Marathon server"},
		{"two tokens", func(a *Arguments) { a.AuthToken, a.AuthTokenFile = "a", "/f" }, "at most one of auth_token and auth_token_file"},
		{"token and basic", func(a *Arguments) {
			a.AuthToken = "a"
			a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "u"}
		}, "at most one of basic_auth"},
		{"token and bearer", func(a *Arguments) { a.AuthToken, a.HTTPClientConfig.BearerToken = "a", "b" }, "at most one of bearer_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Servers = []string{"http://marathon:8080"}
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
discovery.marathon "example" {
  servers = ["localhost:8500"]
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.marathon", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Servers) != 1 || a.RefreshInterval != 30*time.Second {
		t.Fatalf("decoded %+v", a)
	}
}
