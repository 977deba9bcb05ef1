package ovhcloud

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// Answers in the OVHcloud API's format: GET /vps, /vps/:name and
// /vps/:name/ips.
const vpsJSON = `{
  "model": {"maximumAdditionnalIp": 16, "offer": "VPS abc", "datacenter": ["gra"], "vcore": 1, "version": "2019v1",
            "name": "vps-value-1-2-40", "disk": 40, "memory": 2048},
  "keymap": null,
  "zone": "Region OpenStack: os-gra6",
  "displayName": "metrics-vps",
  "monitoringIpBlocks": [],
  "cluster": "cluster-gra-7",
  "state": "running",
  "name": "vps-3d2a5a1b.vps.ovh.net",
  "netbootMode": "local",
  "memoryLimit": 2048,
  "offerType": "ssd",
  "vcore": 1
}`

func TestVPSFromTheAPI(t *testing.T) {
	var mu sync.Mutex
	var signed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/1.0/auth/time" {
			_, _ = w.Write([]byte(strconv.FormatInt(time.Now().Unix(), 10)))
			return
		}
		mu.Lock()
		signed = append(signed, r.URL.Path+" "+r.Header.Get("X-Ovh-Application")+" "+r.Header.Get("X-Ovh-Consumer")+" "+r.Header.Get("X-Ovh-Signature"))
		mu.Unlock()
		switch r.URL.Path {
		case "/1.0/vps":
			_, _ = w.Write([]byte(`["vps-3d2a5a1b.vps.ovh.net"]`))
		case "/1.0/vps/vps-3d2a5a1b.vps.ovh.net":
			_, _ = w.Write([]byte(vpsJSON))
		case "/1.0/vps/vps-3d2a5a1b.vps.ovh.net/ips":
			_, _ = w.Write([]byte(`["127.0.160.1", "2001:db8:41d0::1"]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Endpoint = srv.URL + "/1.0"
	a.ApplicationKey, a.ApplicationSecret, a.ConsumerKey = "app-key", "app-secret", "consumer-key"
	a.Service = "vps"
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.ovhcloud.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "vps", ts[0], map[string]string{
		"__address__":                      "127.0.160.1",
		"instance":                         "vps-3d2a5a1b.vps.ovh.net",
		"__meta_ovhcloud_vps_offer":        "VPS abc",
		"__meta_ovhcloud_vps_datacenter":   "[gra]",
		"__meta_ovhcloud_vps_model_name":   "vps-value-1-2-40",
		"__meta_ovhcloud_vps_memory":       "2048",
		"__meta_ovhcloud_vps_zone":         "Region OpenStack: os-gra6",
		"__meta_ovhcloud_vps_display_name": "metrics-vps",
		"__meta_ovhcloud_vps_state":        "running",
		"__meta_ovhcloud_vps_ipv4":         "127.0.160.1",
		"__meta_ovhcloud_vps_ipv6":         "2001:db8:41d0::1",
	})
	mu.Lock()
	defer mu.Unlock()
	for _, s := range signed {
		f := strings.Fields(s)
		if len(f) != 4 || f[1] != "app-key" || f[2] != "consumer-key" || !strings.HasPrefix(f[3], "$1$") {
			t.Fatalf("request %q, want the application key, the consumer key and a signature", s)
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no endpoint", func(a *Arguments) { a.Endpoint = "" }, "endpoint"},
		{"no app key", func(a *Arguments) { a.ApplicationKey = "" }, "application_key"},
		{"no secret", func(a *Arguments) { a.ApplicationSecret = "" }, "application_secret"},
		{"no consumer", func(a *Arguments) { a.ConsumerKey = "" }, "consumer_key"},
		{"bad service", func(a *Arguments) { a.Service = "cloud" }, "unknown service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.ApplicationKey, a.ApplicationSecret, a.ConsumerKey, a.Service = "k", "s", "c", "dedicated_server"
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
discovery.ovhcloud "example" {
    application_key    = "app-key"
    application_secret = "app-secret"
    consumer_key       = "consumer-key"
    service            = "dedicated_server"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.ovhcloud", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Endpoint != "ovh-eu" || sd.Service != "dedicated_server" || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
