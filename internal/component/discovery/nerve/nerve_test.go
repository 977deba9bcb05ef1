package nerve

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/lab"
)

// TestInstancesFromARealZooKeeper registers Nerve service instances (the
// JSON Nerve's ZooKeeper reporter writes) in Debian's ZooKeeper under two
// paths and follows them as one leaves.
func TestInstancesFromARealZooKeeper(t *testing.T) {
	z := lab.StartZooKeeper(t)
	for path, data := range map[string]string{
		"/nerve/services/web/services/i-1_web": `{"host":"127.0.0.1","port":8080,"name":"web-1"}`,
		"/nerve/services/db/services/i-2_db":   `{"host":"127.0.0.3","port":5432,"name":"db-1"}`,
	} {
		if err := z.Put(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	src := `
discovery.nerve "zk" {
  servers = [ZK]
  paths   = ["/nerve/services/web/services", "/nerve/services/db/services"]
  timeout = "5s"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.nerve", map[string]any{"ZK": z.Addr}, &a); err != nil {
		t.Fatal(err)
	}
	_, rec := discoverytest.Start(t, "discovery.nerve.zk", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	ts, _ := rec.Targets()
	by := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "web", by["127.0.0.1:8080"], map[string]string{
		"__meta_nerve_path":          "/nerve/services/web/services/i-1_web",
		"__meta_nerve_endpoint_host": "127.0.0.1",
		"__meta_nerve_endpoint_port": "8080",
		"__meta_nerve_endpoint_name": "web-1",
	})
	discoverytest.ExpectLabels(t, "db", by["127.0.0.3:5432"], map[string]string{"__meta_nerve_endpoint_name": "db-1"})

	if err := z.Delete("/nerve/services/db/services/i-2_db"); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, 30*time.Second, func() bool {
		ts, _ := rec.Targets()
		return len(ts) == 1 && ts[0]["__address__"] == "127.0.0.1:8080"
	}, "the removed instance stayed; last %v", rec.Last())
}

func TestArgumentsValidation(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	if a.Timeout != 10*time.Second {
		t.Fatalf("default timeout %s", a.Timeout)
	}
	a.Servers = []string{"127.0.0.1:2181"}
	a.Timeout = 0
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "timeout must be greater than 0") {
		t.Fatalf("Validate() = %v", err)
	}
	a.Timeout, a.Servers = time.Second, nil
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "at least one Zookeeper server") {
		t.Fatalf("Validate() = %v", err)
	}
}
