package scaleway

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

const (
	project   = "11111111-1111-1111-1111-111111111111"
	accessKey = "SCWXXXXXXXXXXXXXXXXX"
	secretKey = "22222222-2222-2222-2222-222222222222"
)

// serversJSON answers GET /instance/v1/zones/fr-par-1/servers in the
// Scaleway Instance API's format.
const serversJSON = `{"servers": [
  {
    "id": "93c18a61-b681-49d0-a1cc-62b43883ae89",
    "name": "scw-nervous-shirley",
    "organization": "` + project + `",
    "project": "` + project + `",
    "commercial_type": "DEV1-S",
    "hostname": "scw-nervous-shirley",
    "image": {"id": "45a86b35-eca6-4055-9b34-ca69845da146", "name": "Ubuntu 24.04 Noble Numbat", "arch": "x86_64"},
    "tags": ["prometheus", "node"],
    "state": "running",
    "boot_type": "local",
    "public_ip": {"id": "ip-1", "address": "127.0.140.1", "dynamic": false, "family": "inet"},
    "public_ips": [{"id": "ip-1", "address": "127.0.140.1", "dynamic": false, "family": "inet"}],
    "ipv6": null,
    "private_ip": null,
    "location": {"cluster_id": "40", "hypervisor_id": "1601", "node_id": "29", "platform_id": "14", "zone_id": "par1"},
    "security_group": {"id": "984414da-9fc2-49c0-a925-fed6266fe092", "name": "Default security group"},
    "zone": "fr-par-1",
    "private_nics": []
  }
], "total_count": 1}`

func TestInstancesFromTheAPI(t *testing.T) {
	var mu sync.Mutex
	var reqs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.URL.RequestURI()+" "+r.Header.Get("X-Auth-Token"))
		mu.Unlock()
		if r.URL.Path != "/instance/v1/zones/fr-par-1/servers" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(serversJSON))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Project, a.Role, a.AccessKey, a.SecretKey = project, "instance", accessKey, secretKey
	a.APIURL = srv.URL
	a.TagsFilter = []string{"prometheus"}
	a.Port = 9100
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.scaleway.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "server", ts[0], map[string]string{
		"__address__":                                  "127.0.140.1:9100",
		"__meta_scaleway_instance_id":                  "93c18a61-b681-49d0-a1cc-62b43883ae89",
		"__meta_scaleway_instance_name":                "scw-nervous-shirley",
		"__meta_scaleway_instance_type":                "DEV1-S",
		"__meta_scaleway_instance_status":              "running",
		"__meta_scaleway_instance_boot_type":           "local",
		"__meta_scaleway_instance_image_name":          "Ubuntu 24.04 Noble Numbat",
		"__meta_scaleway_instance_image_arch":          "x86_64",
		"__meta_scaleway_instance_public_ipv4":         "127.0.140.1",
		"__meta_scaleway_instance_tags":                ",prometheus,node,",
		"__meta_scaleway_instance_zone":                "fr-par-1",
		"__meta_scaleway_instance_region":              "fr-par",
		"__meta_scaleway_instance_project_id":          project,
		"__meta_scaleway_instance_security_group_name": "Default security group",
		"__meta_scaleway_instance_location_cluster_id": "40",
	})
	mu.Lock()
	defer mu.Unlock()
	servers := 0
	for _, r := range reqs {
		// The SDK also asks the gateway for /metadata, and copes with a 404.
		if !strings.HasPrefix(r, "/instance/") {
			continue
		}
		servers++
		if !strings.Contains(r, "tags=prometheus") || !strings.HasSuffix(r, " "+secretKey) {
			t.Fatalf("request %q, want the tags filter and the secret key", r)
		}
	}
	if servers == 0 {
		t.Fatalf("no server list among %q", reqs)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no project", func(a *Arguments) { a.Project = "" }, "project_id"},
		{"bad role", func(a *Arguments) { a.Role = "vm" }, "invalid role"},
		{"no secret", func(a *Arguments) { a.SecretKey = "" }, "exactly one of secret_key"},
		{"two secrets", func(a *Arguments) { a.SecretKeyFile = "/f" }, "exactly one of secret_key"},
		{"no access key", func(a *Arguments) { a.AccessKey = "" }, "access_key"},
		{"bad api url", func(a *Arguments) { a.APIURL = "api.scaleway.com" }, "api_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Project, a.Role, a.AccessKey, a.SecretKey = project, "baremetal", accessKey, secretKey
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
discovery.scaleway "example" {
    project_id = "` + project + `"
    role       = "baremetal"
    access_key = "` + accessKey + `"
    secret_key = "` + secretKey + `"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.scaleway", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Zone != "fr-par-1" || sd.APIURL != "https://api.scaleway.com" || sd.Port != 80 ||
		time.Duration(sd.RefreshInterval) != time.Minute || sd.Name() != "scaleway" {
		t.Fatalf("converted %+v", sd)
	}
}
