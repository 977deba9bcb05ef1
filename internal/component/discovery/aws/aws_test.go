package aws

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	promaws "github.com/prometheus/prometheus/discovery/aws"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// Answers of the EC2 Query API (XML), from its reference.
const zonesXML = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>e23c5a54-a29c-43ee-8b55-0c13c26e9e01</requestId>
  <availabilityZoneInfo>
    <item><zoneName>us-east-1a</zoneName><zoneId>use1-az6</zoneId><zoneState>available</zoneState><regionName>us-east-1</regionName></item>
  </availabilityZoneInfo>
</DescribeAvailabilityZonesResponse>`

const instancesXML = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet>
    <item>
      <reservationId>r-0aaaaaaaaaaaaaaaa</reservationId>
      <ownerId>123456789012</ownerId>
      <instancesSet>
        <item>
          <instanceId>i-0bbbbbbbbbbbbbbbb</instanceId>
          <imageId>ami-0abcdef1234567890</imageId>
          <instanceState><code>16</code><name>running</name></instanceState>
          <instanceType>m5.large</instanceType>
          <placement><availabilityZone>us-east-1a</availabilityZone><tenancy>default</tenancy></placement>
          <privateIpAddress>127.0.180.1</privateIpAddress>
          <tagSet><item><key>team</key><value>shop</value></item></tagSet>
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

// TestEC2RoleFromTheAPI runs the ec2 role against a local EC2 Query API
// with a region, static credentials and a loopback endpoint, so that
// neither the default credential chain nor the instance metadata service
// is ever consulted.
func TestEC2RoleFromTheAPI(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_CA_BUNDLE", "")
	os.Unsetenv("AWS_CA_BUNDLE")
	fake := &api{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	src := `
discovery.aws "ec2" {
  role       = "ec2"
  endpoint   = ENDPOINT
  region     = "us-east-1"
  access_key = "AKIAIOSFODNN7EXAMPLE"
  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  port       = 9100
  filter {
    name   = "tag:team"
    values = ["shop"]
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.aws", map[string]any{"ENDPOINT": srv.URL}, &a); err != nil {
		t.Fatal(err)
	}
	c, rec := discoverytest.Start(t, "discovery.aws.ec2", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "instance", ts[0], map[string]string{
		"__address__":                     "127.0.180.1:9100",
		"__meta_ec2_instance_id":          "i-0bbbbbbbbbbbbbbbb",
		"__meta_ec2_region":               "us-east-1",
		"__meta_ec2_availability_zone_id": "use1-az6",
		"__meta_ec2_instance_type":        "m5.large",
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

// TestEachRoleConverts checks that every role becomes its own prometheus
// config with Alloy's defaults, and request_concurrency the role's default
// when unset.
func TestEachRoleConverts(t *testing.T) {
	for _, tc := range []struct {
		role        string
		concurrency int // -1: the role has none
	}{
		{"ec2", -1}, {"lightsail", -1}, {"ecs", 20}, {"elasticache", 10}, {"msk", 10}, {"rds", 10},
	} {
		var a Arguments
		src := "discovery.aws \"x\" {\n  role = \"" + tc.role + "\"\n  region = \"eu-west-1\"\n}\n"
		if err := discoverytest.Decode(t, src, "discovery.aws", nil, &a); err != nil {
			t.Fatalf("%s: %v", tc.role, err)
		}
		cfg, err := a.SDConfig()
		if err != nil {
			t.Fatalf("%s: %v", tc.role, err)
		}
		var port, concurrency int
		var interval time.Duration
		var region string
		switch c := cfg.(type) {
		case *promaws.EC2SDConfig:
			port, interval, region, concurrency = c.Port, time.Duration(c.RefreshInterval), c.Region, -1
		case *promaws.LightsailSDConfig:
			port, interval, region, concurrency = c.Port, time.Duration(c.RefreshInterval), c.Region, -1
		case *promaws.ECSSDConfig:
			port, interval, region, concurrency = c.Port, time.Duration(c.RefreshInterval), c.Region, c.RequestConcurrency
		case *promaws.ElasticacheSDConfig:
			port, interval, region, concurrency = c.Port, time.Duration(c.RefreshInterval), c.Region, c.RequestConcurrency
		case *promaws.MSKSDConfig:
			port, interval, region, concurrency = c.Port, time.Duration(c.RefreshInterval), c.Region, c.RequestConcurrency
		case *promaws.RDSSDConfig:
			port, interval, region, concurrency = c.Port, time.Duration(c.RefreshInterval), c.Region, c.RequestConcurrency
		}
		if cfg.Name() != tc.role {
			t.Errorf("%s: converted to %s", tc.role, cfg.Name())
		}
		if port != 80 || interval != time.Minute || region != "eu-west-1" || concurrency != tc.concurrency {
			t.Errorf("%s: port %d, interval %s, region %q, concurrency %d", tc.role, port, interval, region, concurrency)
		}
	}
	a := DefaultArguments
	a.Role, a.Clusters, a.RequestConcurrency = "ecs", []string{"prod"}, 5
	cfg, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.(*promaws.ECSSDConfig); c.RequestConcurrency != 5 || len(c.Clusters) != 1 || c.Clusters[0] != "prod" {
		t.Fatalf("ecs converted %+v", c)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"unknown role", func(a *Arguments) { a.Role = "s3" }, "unsupported role"},
		{"filter on ecs", func(a *Arguments) {
			a.Role, a.Filters = "ecs", []Filter{{Name: "x", Values: []string{"y"}}}
		}, "only supported with the ec2 and rds roles"},
		{"empty filter", func(a *Arguments) { a.Filters = []Filter{{Name: "x"}} }, "filter values cannot be empty"},
		{"clusters on ec2", func(a *Arguments) { a.Clusters = []string{"c"} }, "clusters is only supported"},
		{"concurrency on lightsail", func(a *Arguments) { a.Role, a.RequestConcurrency = "lightsail", 3 }, "request_concurrency is only supported"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"key without secret", func(a *Arguments) { a.AccessKey = "AKIA" }, "set together"},
		{"bad endpoint", func(a *Arguments) { a.Endpoint = "ec2.local" }, "invalid endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := DefaultArguments
			a.Role = "ec2"
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
