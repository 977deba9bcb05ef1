package scrape

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
)

// standbyCluster records what the component tells a cluster that offers
// a hot standby.
type standbyCluster struct {
	recordingCluster
	mu2        sync.Mutex
	replicas   map[string]int
	deliveries map[string]component.Delivery
}

func (s *standbyCluster) Standby(uint64, int64) (string, bool) { return "", false }
func (s *standbyCluster) Delivered(string) (int64, bool)       { return 0, false }
func (s *standbyCluster) SetReplicas(id string, n int) {
	s.mu2.Lock()
	defer s.mu2.Unlock()
	s.replicas[id] = n
}
func (s *standbyCluster) AddDelivery(id string, d component.Delivery) {
	s.mu2.Lock()
	defer s.mu2.Unlock()
	if d == nil {
		delete(s.deliveries, id)
		return
	}
	s.deliveries[id] = d
}

func TestReplicasDecodeAndReachTheCluster(t *testing.T) {
	args, err := decode(t, `
prometheus.scrape "default" {
  targets    = [{"__address__" = "127.0.0.1:9100"}]
  forward_to = []
  clustering {
    enabled  = true
    replicas = 2
  }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if args.Clustering.Replicas != 2 {
		t.Fatalf("replicas %d, want 2", args.Clustering.Replicas)
	}
	cl := &standbyCluster{
		recordingCluster: recordingCluster{owned: map[uint64]bool{}, published: map[string][]uint64{}},
		replicas:         map[string]int{}, deliveries: map[string]component.Delivery{},
	}
	const id = "prometheus.scrape.default"
	c, err := New(component.Options{ID: id, Cluster: cl}, args)
	if err != nil {
		t.Fatal(err)
	}
	cl.mu2.Lock()
	n, d := cl.replicas[id], cl.deliveries[id]
	cl.mu2.Unlock()
	if n != 2 || d == nil {
		t.Fatalf("the cluster was told replicas %d and delivery tracker %v; want 2 and the engine's", n, d)
	}
	// Back to one replica: the tracker is withdrawn.
	args.Clustering.Replicas = 1
	if err := c.Update(args); err != nil {
		t.Fatal(err)
	}
	cl.mu2.Lock()
	n, d = cl.replicas[id], cl.deliveries[id]
	cl.mu2.Unlock()
	if n != 1 || d != nil {
		t.Fatalf("after replicas = 1 the cluster has replicas %d and tracker %v", n, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = c.Run(ctx)
}

func TestReplicasBeyondTwoAreRefused(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Targets = []discovery.Target{{"__address__": "127.0.0.1:9100"}}
	a.Clustering.Enabled = true
	a.Clustering.Replicas = 3
	err := a.Validate()
	if err == nil || !strings.Contains(err.Error(), "replicas must be 1 or 2") {
		t.Fatalf("replicas = 3: %v, want a refusal", err)
	}
}
