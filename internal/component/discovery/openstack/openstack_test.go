package openstack

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

// hypervisorsJSON answers GET /os-hypervisors/detail of Nova's API.
const hypervisorsJSON = `{"hypervisors": [
  {"id": "1", "hypervisor_hostname": "nc14.cloud.com", "host_ip": "127.0.190.1", "state": "up", "status": "enabled",
   "hypervisor_type": "QEMU", "hypervisor_version": 2011000, "vcpus": 16, "vcpus_used": 2, "memory_mb": 65536,
   "memory_mb_used": 4096, "local_gb": 500, "local_gb_used": 20, "free_ram_mb": 61440, "free_disk_gb": 480,
   "current_workload": 0, "running_vms": 2, "disk_available_least": 470,
   "cpu_info": {"arch": "x86_64", "model": "Nehalem", "vendor": "Intel", "features": ["pge", "clflush"], "topology": {"cores": 4, "threads": 2, "sockets": 2}},
   "service": {"host": "nc14", "id": 6, "disabled_reason": null}},
  {"id": "721", "hypervisor_hostname": "cn4.cloud.com", "host_ip": "127.0.190.2", "state": "down", "status": "disabled",
   "hypervisor_type": "QEMU", "hypervisor_version": 2011000, "vcpus": 8, "vcpus_used": 0, "memory_mb": 32768,
   "memory_mb_used": 512, "local_gb": 250, "local_gb_used": 0, "free_ram_mb": 32256, "free_disk_gb": 250,
   "current_workload": 0, "running_vms": 0, "disk_available_least": 240,
   "cpu_info": "{\"arch\": \"x86_64\"}",
   "service": {"host": "cn4", "id": 7, "disabled_reason": "maintenance"}}
]}`

type cloud struct {
	url   string
	mu    sync.Mutex
	auth  map[string]any
	token []string
}

func (c *cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/identity/v3/auth/tokens":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		c.mu.Lock()
		c.auth = body
		c.mu.Unlock()
		w.Header().Set("X-Subject-Token", "gAAAAABtoken")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"token": {
  "methods": ["password"], "expires_at": "` + time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z") + `",
  "issued_at": "` + time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") + `",
  "user": {"id": "u1", "name": "admin", "domain": {"id": "default", "name": "Default"}},
  "project": {"id": "p1", "name": "monitoring", "domain": {"id": "default", "name": "Default"}},
  "catalog": [{"type": "compute", "name": "nova", "id": "c1", "endpoints": [
    {"id": "e1", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": "` + c.url + `/compute/v2.1"},
    {"id": "e2", "interface": "internal", "region": "RegionOne", "region_id": "RegionOne", "url": "` + c.url + `/internal/v2.1"}
  ]}]
}}`))
	case r.URL.Path == "/compute/v2.1/os-hypervisors/detail":
		c.mu.Lock()
		c.token = append(c.token, r.Header.Get("X-Auth-Token"))
		c.mu.Unlock()
		_, _ = w.Write([]byte(hypervisorsJSON))
	default:
		http.NotFound(w, r)
	}
}

func TestHypervisorsAfterKeystoneAuth(t *testing.T) {
	fake := &cloud{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.url = srv.URL
	var a Arguments
	a.SetToDefault()
	a.IdentityEndpoint = srv.URL + "/identity/v3"
	a.Username, a.Password, a.DomainName, a.ProjectName = "admin", "s3cr3t", "Default", "monitoring"
	a.Role, a.Region, a.Port = "hypervisor", "RegionOne", 9100
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.openstack.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "nc14", got["127.0.190.1:9100"], map[string]string{
		"__meta_openstack_hypervisor_id":       "1",
		"__meta_openstack_hypervisor_hostname": "nc14.cloud.com",
		"__meta_openstack_hypervisor_host_ip":  "127.0.190.1",
		"__meta_openstack_hypervisor_state":    "up",
		"__meta_openstack_hypervisor_status":   "enabled",
		"__meta_openstack_hypervisor_type":     "QEMU",
	})
	discoverytest.ExpectLabels(t, "cn4", got["127.0.190.2:9100"], map[string]string{"__meta_openstack_hypervisor_state": "down"})
	fake.mu.Lock()
	defer fake.mu.Unlock()
	pw, _ := json.Marshal(fake.auth)
	if !strings.Contains(string(pw), `"password":"s3cr3t"`) || !strings.Contains(string(pw), `"name":"monitoring"`) {
		t.Fatalf("auth request %s, want the password and the project", pw)
	}
	for _, tok := range fake.token {
		if tok != "gAAAAABtoken" {
			t.Fatalf("compute called with token %q", tok)
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"bad role", func(a *Arguments) { a.Role = "loadbalancer" }, "unknown role"},
		{"bad availability", func(a *Arguments) { a.Availability = "private" }, "unknown availability"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"bad tls", func(a *Arguments) { a.TLSConfig.MinVersion = "TLS9" }, "unknown TLS version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Role, a.Region = "instance", "RegionOne"
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
discovery.openstack "example" {
  role   = "hypervisor"
  region = "RegionOne"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.openstack", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Role != "hypervisor" || sd.Availability != "public" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
