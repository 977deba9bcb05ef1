package cluster

import (
	"strings"
	"testing"
	"time"
)

func TestDifferentHandoffDelayIsConfigDrift(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	n := offlineNode(t, "a", clk) // Δ = 1s
	feed(n, "b", record{State: Participant, Since: 1, HandoffDelay: 2000})
	feed(n, "old", record{State: Participant, Since: 1}) // does not gossip its Δ
	if got := metricValue(n.metrics.configDrift); got != 1 {
		t.Errorf("shoal_cluster_config_drift = %v with one peer at another handoff delay, want 1", got)
	}
	b, _ := peerByName(n, "b")
	if b.HandoffDelayMatches || b.HandoffDelay != 2*time.Second || !strings.Contains(b.Note, "handoff-delay is 2s") {
		t.Errorf("Peers() shows b as %+v; want its 2s handoff delay reported as drift", b)
	}
	if old, _ := peerByName(n, "old"); !old.HandoffDelayMatches || old.Note != "" {
		t.Errorf("a peer that does not gossip its delay is reported as drift: %+v", old)
	}
	if self := n.Self(); self.HandoffDelay != time.Second {
		t.Errorf("Self().HandoffDelay = %s, want 1s", self.HandoffDelay)
	}
	feed(n, "b", record{State: Participant, Since: 2, HandoffDelay: 1000})
	if got := metricValue(n.metrics.configDrift); got != 0 {
		t.Errorf("shoal_cluster_config_drift = %v once b's delay matches, want 0", got)
	}
}

func TestPeersSeeEachOthersHandoffDelay(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()), func(c *Config, _ *Options) { c.HandoffDelay = 2 * time.Second })
	for _, pair := range [][2]*tnode{{a, b}, {b, a}} {
		n, other := pair[0], pair[1]
		eventually(t, 10*time.Second, n.name+" to report "+other.name+"'s handoff delay as drift", func() bool {
			p, ok := peerByName(n.Node, other.name)
			return ok && p.Alive && !p.HandoffDelayMatches && metricValue(n.metrics.configDrift) == 1
		})
	}
}
