package lightsail

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// instancesJSON answers Lightsail_20161128.GetInstances (AWS JSON 1.1).
const instancesJSON = `{"instances": [
  {
    "name": "WordPress-1",
    "arn": "arn:aws:lightsail:us-east-2:123456789012:Instance/7b2d1e5e-EXAMPLE",
    "supportCode": "123456789012/i-0f1b2c3d4e5f6a7b8",
    "location": {"availabilityZone": "us-east-2a", "regionName": "us-east-2"},
    "resourceType": "Instance",
    "tags": [{"key": "team", "value": "blog"}],
    "blueprintId": "wordpress",
    "bundleId": "nano_3_0",
    "isStaticIp": false,
    "privateIpAddress": "127.0.180.1",
    "publicIpAddress": "127.0.181.1",
    "ipv6Addresses": ["2001:db8:1234::1"],
    "state": {"code": 16, "name": "running"}
  }
]}`

func TestInstancesFromTheAPI(t *testing.T) {
	// Static keys, a region and a loopback endpoint: neither the default
	// credential chain nor the instance metadata service is consulted.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_CA_BUNDLE", "")
	os.Unsetenv("AWS_CA_BUNDLE")
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		mu.Lock()
		calls = append(calls, target+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if target != "Lightsail_20161128.GetInstances" {
			http.Error(w, `{"__type": "InvalidAction"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(instancesJSON))
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Endpoint, a.Region = srv.URL, "us-east-2"
	a.AccessKey, a.SecretKey = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	a.Port = 9100
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.lightsail.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "instance", ts[0], map[string]string{
		"__address__":                            "127.0.180.1:9100",
		"__meta_lightsail_availability_zone":     "us-east-2a",
		"__meta_lightsail_blueprint_id":          "wordpress",
		"__meta_lightsail_bundle_id":             "nano_3_0",
		"__meta_lightsail_instance_name":         "WordPress-1",
		"__meta_lightsail_instance_state":        "running",
		"__meta_lightsail_instance_support_code": "123456789012/i-0f1b2c3d4e5f6a7b8",
		"__meta_lightsail_ipv6_addresses":        ",2001:db8:1234::1,",
		"__meta_lightsail_private_ip":            "127.0.180.1",
		"__meta_lightsail_public_ip":             "127.0.181.1",
		"__meta_lightsail_region":                "us-east-2",
		"__meta_lightsail_tag_team":              "blog",
	})
	mu.Lock()
	defer mu.Unlock()
	for _, call := range calls {
		if !strings.Contains(call, "Credential=AKIAIOSFODNN7EXAMPLE/") {
			t.Fatalf("call %q, want it signed with the static access key", call)
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"secret without key", func(a *Arguments) { a.SecretKey = "s" }, "set together"},
		{"bad endpoint", func(a *Arguments) { a.Endpoint = "lightsail.local" }, "invalid endpoint"},
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
discovery.lightsail "lightsail" {
  region = "us-east-1"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.lightsail", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Region != "us-east-1" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
