package serverset

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/lab"
)

// A member as Finagle and Aurora register it (the serverset JSON of
// com.twitter.thrift.ServiceInstance).
const member0 = `{"serviceEndpoint":{"host":"127.0.0.1","port":9100},` +
	`"additionalEndpoints":{"admin-http":{"host":"127.0.0.1","port":9990}},"status":"ALIVE","shard":0}`

const member1 = `{"serviceEndpoint":{"host":"127.0.0.2","port":9100},"additionalEndpoints":{},"status":"STARTING","shard":1}`

// TestMembersFromARealZooKeeper registers serverset members in Debian's
// ZooKeeper and follows them as one joins and one leaves.
func TestMembersFromARealZooKeeper(t *testing.T) {
	z := lab.StartZooKeeper(t)
	if err := z.Put("/aurora/jobs/prod/web/member_0000000000", []byte(member0)); err != nil {
		t.Fatal(err)
	}
	src := `
discovery.serverset "zk" {
  servers = [ZK]
  paths   = ["/aurora/jobs/prod/web"]
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.serverset", map[string]any{"ZK": z.Addr}, &a); err != nil {
		t.Fatal(err)
	}
	if a.Timeout != 10*time.Second {
		t.Fatalf("timeout default %s, want Alloy's 10s", a.Timeout)
	}
	c, rec := discoverytest.Start(t, "discovery.serverset.zk", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "member 0", ts[0], map[string]string{
		"__address__":                               "127.0.0.1:9100",
		"__meta_serverset_path":                     "/aurora/jobs/prod/web/member_0000000000",
		"__meta_serverset_endpoint_host":            "127.0.0.1",
		"__meta_serverset_endpoint_port":            "9100",
		"__meta_serverset_endpoint_host_admin_http": "127.0.0.1",
		"__meta_serverset_endpoint_port_admin_http": "9990",
		"__meta_serverset_status":                   "ALIVE",
		"__meta_serverset_shard":                    "0",
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health %+v", h)
	}

	if err := z.Put("/aurora/jobs/prod/web/member_0000000001", []byte(member1)); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, 30*time.Second, func() bool {
		ts, _ := rec.Targets()
		return len(ts) == 2
	}, "the second member never showed; last %v", rec.Last())
	ts, _ = rec.Targets()
	got := discoverytest.ByAddress(ts)["127.0.0.2:9100"]
	discoverytest.ExpectLabels(t, "member 1", got, map[string]string{"__meta_serverset_status": "STARTING", "__meta_serverset_shard": "1"})

	if err := z.Delete("/aurora/jobs/prod/web/member_0000000000"); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, 30*time.Second, func() bool {
		ts, _ := rec.Targets()
		return len(ts) == 1 && ts[0]["__address__"] == "127.0.0.2:9100"
	}, "the removed member stayed; last %v", rec.Last())
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no server", func(a *Arguments) { a.Servers = nil }, "at least one Zookeeper server"},
		{"no path", func(a *Arguments) { a.Paths = nil }, "at least one path"},
		{"relative path", func(a *Arguments) { a.Paths = []string{"aurora"} }, "must begin with '/'"},
		{"zero timeout", func(a *Arguments) { a.Timeout = 0 }, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Servers, a.Paths = []string{"127.0.0.1:2181"}, []string{"/aurora"}
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
