package ec2

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

// Answers of the EC2 Query API (XML), from its reference.
const zonesXML = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>e23c5a54-a29c-43ee-8b55-0c13c26e9e01</requestId>
  <availabilityZoneInfo>
    <item><zoneName>eu-west-1a</zoneName><zoneId>euw1-az3</zoneId><zoneState>available</zoneState><regionName>eu-west-1</regionName></item>
  </availabilityZoneInfo>
</DescribeAvailabilityZonesResponse>`

const instancesXML = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet>
    <item>
      <reservationId>r-1234567890abcdef0</reservationId>
      <ownerId>123456789012</ownerId>
      <instancesSet>
        <item>
          <instanceId>i-1234567890abcdef0</instanceId>
          <imageId>ami-0abcdef1234567890</imageId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <privateDnsName>ip-127-0-170-1.eu-west-1.compute.internal</privateDnsName>
          <dnsName>ec2-127-0-171-1.eu-west-1.compute.amazonaws.com</dnsName>
          <instanceType>t3.micro</instanceType>
          <placement><availabilityZone>eu-west-1a</availabilityZone><tenancy>default</tenancy></placement>
          <subnetId>subnet-0bb1c79de3EXAMPLE</subnetId>
          <vpcId>vpc-0dc5bb9aEXAMPLE</vpcId>
          <privateIpAddress>127.0.170.1</privateIpAddress>
          <ipAddress>127.0.171.1</ipAddress>
          <architecture>x86_64</architecture>
          <tagSet>
            <item><key>Name</key><value>web-1</value></item>
            <item><key>team</key><value>shop</value></item>
          </tagSet>
        </item>
      </instancesSet>
    </item>
  </reservationSet>
</DescribeInstancesResponse>`

type api struct {
	mu    sync.Mutex
	calls []string
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	action := r.PostForm.Get("Action")
	a.mu.Lock()
	a.calls = append(a.calls, action+" "+r.PostForm.Get("Filter.1.Name")+" "+r.Header.Get("Authorization"))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	switch action {
	case "DescribeAvailabilityZones":
		_, _ = w.Write([]byte(zonesXML))
	case "DescribeInstances":
		_, _ = w.Write([]byte(instancesXML))
	default:
		http.Error(w, "unexpected action "+action, http.StatusBadRequest)
	}
}

// The tests give a region, static credentials and a loopback endpoint, so
// that neither the default credential chain nor the instance metadata
// service is ever consulted.
func TestInstancesFromTheAPI(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	// The SDK cannot apply a CA bundle to prometheus' HTTP client: with
	// AWS_CA_BUNDLE set (as on some build machines) every refresh fails.
	t.Setenv("AWS_CA_BUNDLE", "")
	os.Unsetenv("AWS_CA_BUNDLE")
	fake := &api{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Endpoint, a.Region = srv.URL, "eu-west-1"
	a.AccessKey, a.SecretKey = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	a.Port = 9100
	a.Filters = []Filter{{Name: "tag:team", Values: []string{"shop"}}}
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.ec2.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "instance", ts[0], map[string]string{
		"__address__":                     "127.0.170.1:9100",
		"__meta_ec2_instance_id":          "i-1234567890abcdef0",
		"__meta_ec2_owner_id":             "123456789012",
		"__meta_ec2_region":               "eu-west-1",
		"__meta_ec2_private_ip":           "127.0.170.1",
		"__meta_ec2_public_ip":            "127.0.171.1",
		"__meta_ec2_availability_zone":    "eu-west-1a",
		"__meta_ec2_availability_zone_id": "euw1-az3",
		"__meta_ec2_instance_type":        "t3.micro",
		"__meta_ec2_instance_state":       "running",
		"__meta_ec2_ami":                  "ami-0abcdef1234567890",
		"__meta_ec2_vpc_id":               "vpc-0dc5bb9aEXAMPLE",
		"__meta_ec2_tag_Name":             "web-1",
		"__meta_ec2_tag_team":             "shop",
	})
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, call := range fake.calls {
		if !strings.Contains(call, "Credential=AKIAIOSFODNN7EXAMPLE/") {
			t.Fatalf("call %q, want it signed with the static access key", call)
		}
		if strings.HasPrefix(call, "DescribeInstances") && !strings.Contains(call, "tag:team") {
			t.Fatalf("call %q, want the filter", call)
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
		{"key without secret", func(a *Arguments) { a.AccessKey = "AKIA" }, "set together"},
		{"bad endpoint", func(a *Arguments) { a.Endpoint = "ec2.local" }, "invalid endpoint"},
		{"empty filter", func(a *Arguments) { a.Filters = []Filter{{Name: "tag:x"}} }, "values cannot be empty"},
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

func TestDocExampleDecodesWithoutContactingAWS(t *testing.T) {
	// No region: Alloy asks the instance metadata service while validating;
	// shoal leaves that to the first refresh, which this test never runs.
	src := `
discovery.ec2 "ec2" {
  filter {
    name   = "tag:Environment"
    values = ["production"]
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.ec2", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Region != "" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute || len(sd.Filters) != 1 {
		t.Fatalf("converted %+v", sd)
	}
}
