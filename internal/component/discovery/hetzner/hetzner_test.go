package hetzner

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// Answers in the Hetzner Cloud API's format: GET /v1/servers and
// /v1/networks.
const serversJSON = `{
  "servers": [{
    "id": 42,
    "name": "web-1",
    "status": "running",
    "created": "2024-05-01T10:00:00+00:00",
    "public_net": {
      "ipv4": {"id": 1, "ip": "127.0.110.1", "blocked": false, "dns_ptr": "static.1.110.0.127.clients.your-server.de"},
      "ipv6": {"id": 2, "ip": "2001:db8:1::/64", "blocked": false, "dns_ptr": []},
      "floating_ips": [],
      "firewalls": []
    },
    "private_net": [{"network": 4711, "ip": "127.0.111.2", "alias_ips": [], "mac_address": "86:00:00:2a:7d:e0"}],
    "server_type": {"id": 1, "name": "cx22", "description": "CX22", "cores": 2, "memory": 4.0, "disk": 40,
      "storage_type": "local", "cpu_type": "shared", "architecture": "x86"},
    "datacenter": {"id": 1, "name": "fsn1-dc14", "description": "Falkenstein 1 DC14",
      "location": {"id": 1, "name": "fsn1", "description": "Falkenstein DC Park 1", "country": "DE", "city": "Falkenstein",
        "latitude": 50.47612, "longitude": 12.370071, "network_zone": "eu-central"}},
    "location": {"id": 1, "name": "fsn1", "description": "Falkenstein DC Park 1", "country": "DE", "city": "Falkenstein",
      "latitude": 50.47612, "longitude": 12.370071, "network_zone": "eu-central"},
    "image": {"id": 161547269, "type": "system", "status": "available", "name": "ubuntu-24.04",
      "description": "Ubuntu 24.04", "os_flavor": "ubuntu", "os_version": "24.04", "architecture": "x86"},
    "labels": {"env": "prod", "team/name": "shop"}
  }],
  "meta": {"pagination": {"page": 1, "per_page": 50, "previous_page": null, "next_page": null, "last_page": 1, "total_entries": 1}}
}`

const networksJSON = `{
  "networks": [{"id": 4711, "name": "backend-net", "ip_range": "127.0.111.0/24", "subnets": [], "routes": [], "servers": [42], "labels": {}}],
  "meta": {"pagination": {"page": 1, "per_page": 50, "previous_page": null, "next_page": null, "last_page": 1, "total_entries": 1}}
}`

// robotJSON answers GET /server of the Robot web service.
const robotJSON = `[
  {"server": {"server_ip": "127.0.112.1", "server_ipv6_net": "2001:db8:2::", "server_number": 321, "server_name": "dedi-1",
    "product": "AX41", "dc": "FSN1-DC1", "traffic": "unlimited", "status": "ready", "cancelled": false,
    "paid_until": "2030-01-01", "subnet": [{"ip": "2001:db8:2::", "mask": "64"}]}}
]`

type api struct {
	mu    sync.Mutex
	auths []string
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.auths = append(a.auths, r.Host+" "+r.Header.Get("Authorization"))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.Host + r.URL.Path {
	case "api.hetzner.cloud/v1/servers":
		_, _ = w.Write([]byte(serversJSON))
	case "api.hetzner.cloud/v1/networks":
		_, _ = w.Write([]byte(networksJSON))
	case "robot-ws.your-server.de/server":
		_, _ = w.Write([]byte(robotJSON))
	default:
		http.NotFound(w, r)
	}
}

// start runs the component through a TLS-terminating proxy on loopback:
// the API hosts are fixed in the discoverer, so the proxy plays them.
func start(t *testing.T, a Arguments, n int) (*discoverytest.Recorder, *discoverytest.TLSProxy, *api) {
	t.Helper()
	fake := &api{}
	p := discoverytest.NewTLSProxy(t, fake)
	a.HTTPClientConfig.ProxyURL = p.URL
	a.HTTPClientConfig.TLSConfig.CA = p.CAPEM
	a.RefreshInterval = time.Hour
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	c, rec := discoverytest.Start(t, "discovery.hetzner.test", n, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	return rec, p, fake
}

func TestHcloudServers(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Role = "hcloud"
	a.Port = 9100
	a.HTTPClientConfig.BearerToken = "hcloud-token"
	rec, p, fake := start(t, a, 1)
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "web-1", ts[0], map[string]string{
		"__address__":                                    "127.0.110.1:9100",
		"__meta_hetzner_role":                            "hcloud",
		"__meta_hetzner_server_id":                       "42",
		"__meta_hetzner_server_name":                     "web-1",
		"__meta_hetzner_server_status":                   "running",
		"__meta_hetzner_public_ipv4":                     "127.0.110.1",
		"__meta_hetzner_public_ipv6_network":             "2001:db8:1::/64",
		"__meta_hetzner_hcloud_location":                 "fsn1",
		"__meta_hetzner_hcloud_location_network_zone":    "eu-central",
		"__meta_hetzner_hcloud_server_type":              "cx22",
		"__meta_hetzner_hcloud_cpu_cores":                "2",
		"__meta_hetzner_hcloud_cpu_type":                 "shared",
		"__meta_hetzner_hcloud_memory_size_gb":           "4",
		"__meta_hetzner_hcloud_disk_size_gb":             "40",
		"__meta_hetzner_hcloud_image_name":               "ubuntu-24.04",
		"__meta_hetzner_hcloud_image_os_flavor":          "ubuntu",
		"__meta_hetzner_hcloud_private_ipv4_backend_net": "127.0.111.2",
		"__meta_hetzner_hcloud_label_env":                "prod",
		"__meta_hetzner_hcloud_labelpresent_team_name":   "true",
	})
	for _, h := range p.Hosts() {
		if h != "api.hetzner.cloud:443" {
			t.Fatalf("tunnelled to %q, want only api.hetzner.cloud:443", h)
		}
	}
	if p.Plain() != 0 {
		t.Fatalf("%d requests bypassed TLS", p.Plain())
	}
	fake.expectAuth(t, "api.hetzner.cloud Bearer hcloud-token")
}

func (a *api) expectAuth(t *testing.T, want string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, got := range a.auths {
		if got != want {
			t.Fatalf("request %q, want %q", got, want)
		}
	}
}

func TestRobotServers(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Role = "robot"
	a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "robot-user", Password: "pw"}
	rec, _, fake := start(t, a, 1)
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "dedi-1", ts[0], map[string]string{
		"__address__":                        "127.0.112.1:80",
		"__meta_hetzner_role":                "robot",
		"__meta_hetzner_server_id":           "321",
		"__meta_hetzner_server_name":         "dedi-1",
		"__meta_hetzner_server_status":       "ready",
		"__meta_hetzner_robot_product":       "AX41",
		"__meta_hetzner_robot_cancelled":     "false",
		"__meta_hetzner_datacenter":          "fsn1-dc1",
		"__meta_hetzner_public_ipv6_network": "2001:db8:2::/64",
	})
	fake.expectAuth(t, "robot-ws.your-server.de Basic cm9ib3QtdXNlcjpwdw==")
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no role", func(a *Arguments) { a.Role = "" }, "unknown role"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"two auths", func(a *Arguments) {
			a.HTTPClientConfig.BearerToken = "t"
			a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "u"}
		}, "at most one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Role = "hcloud"
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
discovery.hetzner "example" {
  role = "hcloud"
  bearer_token = "my-token"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.hetzner", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Role != "hcloud" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute ||
		sd.HTTPClientConfig.Authorization == nil || string(sd.HTTPClientConfig.Authorization.Credentials) != "my-token" {
		t.Fatalf("converted %+v", sd)
	}
}
