package ionos

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

const dc = "8feda53f-15f0-447f-badf-ebe32dad2fc0"

// serversJSON answers GET /cloudapi/v6/datacenters/:id/servers?depth=3 in
// the IONOS Cloud API's format.
const serversJSON = `{
  "id": "` + dc + `/servers",
  "type": "collection",
  "href": "https://api.ionos.com/cloudapi/v6/datacenters/` + dc + `/servers",
  "items": [
    {
      "id": "d6bf44ee-f7e8-4e19-8716-96fdd18cc697",
      "type": "server",
      "metadata": {"etag": "3bd2cf1f190fdba8502ba8c0cc79433e", "state": "AVAILABLE"},
      "properties": {
        "name": "prometheus-2", "cores": 2, "ram": 4096, "availabilityZone": "AUTO", "vmState": "RUNNING",
        "bootVolume": {"id": "6e3a7f58-4d45-4b3a-b4d6-5a2d9d3e1a11", "type": "volume"},
        "cpuFamily": "INTEL_SKYLAKE", "type": "ENTERPRISE"
      },
      "entities": {
        "volumes": {"id": "vols", "type": "collection", "items": [
          {"id": "6e3a7f58-4d45-4b3a-b4d6-5a2d9d3e1a11", "type": "volume",
           "properties": {"name": "boot", "type": "HDD", "size": 10, "image": "0e4d57f9-cd78-11e9-b88c-525400f64d8d"}}
        ]},
        "nics": {"id": "nics", "type": "collection", "items": [
          {"id": "nic-1", "type": "nic", "properties": {"name": "metrics", "ips": ["127.0.130.1"], "dhcp": true, "lan": 1}},
          {"id": "nic-2", "type": "nic", "properties": {"ips": ["127.0.131.1"], "dhcp": true, "lan": 2}}
        ]}
      }
    },
    {
      "id": "no-nics", "type": "server",
      "properties": {"name": "dark", "vmState": "SHUTOFF"},
      "entities": {"nics": {"items": []}}
    }
  ]
}`

func TestServersThroughTheAPI(t *testing.T) {
	var mu sync.Mutex
	var reqs []string
	p := discoverytest.NewTLSProxy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.Host+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Host+r.URL.Path != "api.ionos.com/cloudapi/v6/datacenters/"+dc+"/servers" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(serversJSON))
	}))
	var a Arguments
	a.SetToDefault()
	a.DatacenterID = dc
	a.Port = 9100
	a.RefreshInterval = time.Hour
	a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "user@example.com", Password: "pw"}
	a.HTTPClientConfig.ProxyURL = p.URL
	a.HTTPClientConfig.TLSConfig.CA = p.CAPEM
	c, rec := discoverytest.Start(t, "discovery.ionos.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "prometheus-2", ts[0], map[string]string{
		"__address__":                           "127.0.131.1:9100",
		"__meta_ionos_server_id":                "d6bf44ee-f7e8-4e19-8716-96fdd18cc697",
		"__meta_ionos_server_name":              "prometheus-2",
		"__meta_ionos_server_ip":                ",127.0.131.1,127.0.130.1,",
		"__meta_ionos_server_nic_ip_metrics":    ",127.0.130.1,",
		"__meta_ionos_server_nic_ip_unnamed":    ",127.0.131.1,",
		"__meta_ionos_server_lifecycle":         "AVAILABLE",
		"__meta_ionos_server_state":             "RUNNING",
		"__meta_ionos_server_cpu_family":        "INTEL_SKYLAKE",
		"__meta_ionos_server_type":              "ENTERPRISE",
		"__meta_ionos_server_availability_zone": "AUTO",
		"__meta_ionos_server_boot_volume_id":    "6e3a7f58-4d45-4b3a-b4d6-5a2d9d3e1a11",
		"__meta_ionos_server_boot_image_id":     "0e4d57f9-cd78-11e9-b88c-525400f64d8d",
		"__meta_ionos_server_servers_id":        dc + "/servers",
	})
	mu.Lock()
	defer mu.Unlock()
	for _, r := range reqs {
		if !strings.Contains(r, "depth=3") || !strings.HasSuffix(r, " Basic dXNlckBleGFtcGxlLmNvbTpwdw==") {
			t.Fatalf("request %q, want depth=3 and the basic auth", r)
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "datacenter_id") {
		t.Fatalf("Validate() = %v", err)
	}
	a.DatacenterID = dc
	a.RefreshInterval = 0
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "refresh_interval") {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestDocExampleDecodes(t *testing.T) {
	src := `
discovery.ionos "example" {
  datacenter_id = "15f67991-0f51-4efc-a8ad-ef1fb31a480c"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.ionos", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.DatacenterID != "15f67991-0f51-4efc-a8ad-ef1fb31a480c" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
