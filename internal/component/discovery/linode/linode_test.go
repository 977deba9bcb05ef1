package linode

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

// Answers in the Linode API v4's format: GET /v4/linode/instances,
// /v4/networking/ips and /v4/networking/ipv6/ranges.
const instancesJSON = `{"data": [
  {
    "id": 26837938, "label": "prometheus-linode-sd-exporter-1", "group": "", "status": "running",
    "created": "2024-05-01T10:00:00", "updated": "2024-05-02T10:00:00", "type": "g6-standard-2",
    "ipv4": ["127.0.120.1", "127.0.121.1", "127.0.120.9"], "ipv6": "2600:3c03::f03c:92ff:fe1a:1382/128",
    "image": "linode/arch", "region": "us-east",
    "specs": {"disk": 81920, "memory": 4096, "vcpus": 2, "gpus": 0, "transfer": 4000},
    "alerts": {"cpu": 180, "network_in": 10, "network_out": 10, "transfer_quota": 80, "io": 10000},
    "backups": {"enabled": true, "available": true, "schedule": {"day": "Scheduling", "window": "Scheduling"}},
    "hypervisor": "kvm", "watchdog_enabled": true, "tags": ["monitoring", "prod"]
  },
  {
    "id": 26838044, "label": "no-ipv4", "status": "offline", "type": "g6-nanode-1",
    "ipv4": [], "ipv6": "", "image": "linode/debian12", "region": "us-east",
    "specs": {"disk": 25600, "memory": 1024, "vcpus": 1, "gpus": 0, "transfer": 1000},
    "backups": {"enabled": false}, "hypervisor": "kvm", "tags": []
  }
], "page": 1, "pages": 1, "results": 2}`

const ipsJSON = `{"data": [
  {"address": "127.0.120.1", "gateway": "127.0.120.254", "subnet_mask": "255.255.255.0", "prefix": 24, "type": "ipv4",
   "public": true, "rdns": "li1.members.linode.com", "linode_id": 26837938, "region": "us-east"},
  {"address": "127.0.121.1", "gateway": null, "subnet_mask": "255.255.128.0", "prefix": 17, "type": "ipv4",
   "public": false, "rdns": null, "linode_id": 26837938, "region": "us-east"},
  {"address": "127.0.120.9", "gateway": "127.0.120.254", "subnet_mask": "255.255.255.0", "prefix": 24, "type": "ipv4",
   "public": true, "rdns": "li9.members.linode.com", "linode_id": 26837938, "region": "us-east"},
  {"address": "2600:3c03::f03c:92ff:fe1a:1382", "gateway": "fe80::1", "subnet_mask": "ffff:ffff:ffff:ffff::", "prefix": 64,
   "type": "ipv6", "public": true, "rdns": null, "linode_id": 26837938, "region": "us-east"}
], "page": 1, "pages": 1, "results": 4}`

const rangesJSON = `{"data": [
  {"range": "2600:3c03:e000:123::", "prefix": 64, "region": "us-east", "route_target": "2600:3c03::f03c:92ff:fe1a:1382"}
], "page": 1, "pages": 1, "results": 1}`

func TestInstancesThroughTheAPI(t *testing.T) {
	var mu sync.Mutex
	var auths, filters []string
	p := discoverytest.NewTLSProxy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Host+" "+r.Header.Get("Authorization"))
		filters = append(filters, r.Header.Get("X-Filter"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.Host + r.URL.Path {
		case "api.linode.com/v4/linode/instances":
			_, _ = w.Write([]byte(instancesJSON))
		case "api.linode.com/v4/networking/ips":
			_, _ = w.Write([]byte(ipsJSON))
		case "api.linode.com/v4/networking/ipv6/ranges":
			_, _ = w.Write([]byte(rangesJSON))
		default:
			http.NotFound(w, r)
		}
	}))
	var a Arguments
	a.SetToDefault()
	a.Port = 9100
	a.Region = "us-east"
	a.RefreshInterval = time.Hour
	a.HTTPClientConfig.BearerToken = "linode-token"
	a.HTTPClientConfig.ProxyURL = p.URL
	a.HTTPClientConfig.TLSConfig.CA = p.CAPEM
	c, rec := discoverytest.Start(t, "discovery.linode.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "instance", ts[0], map[string]string{
		"__address__":                      "127.0.120.1:9100",
		"__meta_linode_instance_id":        "26837938",
		"__meta_linode_instance_label":     "prometheus-linode-sd-exporter-1",
		"__meta_linode_image":              "linode/arch",
		"__meta_linode_private_ipv4":       "127.0.121.1",
		"__meta_linode_public_ipv4":        "127.0.120.1",
		"__meta_linode_public_ipv6":        "2600:3c03::f03c:92ff:fe1a:1382",
		"__meta_linode_public_ipv4_rdns":   "li1.members.linode.com",
		"__meta_linode_region":             "us-east",
		"__meta_linode_type":               "g6-standard-2",
		"__meta_linode_status":             "running",
		"__meta_linode_tags":               ",monitoring,prod,",
		"__meta_linode_hypervisor":         "kvm",
		"__meta_linode_backups":            "enabled",
		"__meta_linode_specs_memory_bytes": "4294967296",
		"__meta_linode_specs_vcpus":        "2",
		"__meta_linode_extra_ips":          ",127.0.120.9,",
		"__meta_linode_ipv6_ranges":        ",2600:3c03:e000:123::/64,",
	})
	mu.Lock()
	defer mu.Unlock()
	for i, h := range auths {
		if h != "api.linode.com Bearer linode-token" || !strings.Contains(filters[i], `"region": "us-east"`) {
			t.Fatalf("request %q with filter %q, want the token and the region filter", h, filters[i])
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.RefreshInterval = 0
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "refresh_interval") {
		t.Fatalf("Validate() = %v", err)
	}
	a.SetToDefault()
	a.HTTPClientConfig.BearerToken = "t"
	a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "u"}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "at most one of") {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestDocExampleDecodes(t *testing.T) {
	src := `
discovery.linode "example" {
    bearer_token = "linode-token"
    port = 8876
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.linode", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Port != 8876 || sd.TagSeparator != "," || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
