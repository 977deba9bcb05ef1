package cluster

import (
	"testing"
	"time"
)

// standbyNodes builds, for each name, a node whose view has every name
// eligible from the start.
func standbyNodes(names []string) map[string]*Node {
	nodes := map[string]*Node{}
	for _, self := range names {
		var cands []candidate
		for _, nm := range names {
			cands = append(cands, candidate{name: nm, from: minTime, until: maxTime})
		}
		n := &Node{enabled: true, name: self, peers: map[string]*peer{}}
		n.view.Store(buildView(self, cands))
		nodes[self] = n
	}
	return nodes
}

// Every key has exactly one standby, never its owner, and it is the node
// that owns the key once the owner is gone: a takeover by the runner-up
// of rendezvous hashing.
func TestStandbyIsTheOwnerWithThePrimaryLeftOut(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	all := standbyNodes(names)
	perNode := map[string]int{}
	for k := range uint64(5000) {
		key := mix64(k + 1)
		owner := all["a"].OwnerOf(key, 0)
		standby := ""
		for _, nm := range names {
			p, ok := all[nm].Standby(key, 0)
			if !ok {
				continue
			}
			if standby != "" {
				t.Fatalf("key %x: two standbys, %s and %s", key, standby, nm)
			}
			if p != owner {
				t.Fatalf("key %x: %s names primary %s, the owner is %s", key, nm, p, owner)
			}
			standby = nm
		}
		if standby == "" || standby == owner {
			t.Fatalf("key %x: standby %q, owner %q", key, standby, owner)
		}
		perNode[standby]++
		var rest []string
		for _, nm := range names {
			if nm != owner {
				rest = append(rest, nm)
			}
		}
		if got := standbyNodes(rest)[standby].OwnerOf(key, 0); got != standby {
			t.Fatalf("key %x: without %s the owner is %s, not its standby %s", key, owner, got, standby)
		}
	}
	// Rendezvous spreads the standbys like the owners: 1000 each on
	// average, binomial deviation 28; 800 is 7 deviations off.
	for _, nm := range names {
		if perNode[nm] < 800 {
			t.Errorf("%s is standby of %d keys of 5000, far below its share: %v", nm, perNode[nm], perNode)
		}
	}
}

func TestStandbyNeedsTwoEligibleNodes(t *testing.T) {
	n := standbyNodes([]string{"a"})["a"]
	if p, ok := n.Standby(42, 0); ok {
		t.Fatalf("a lone node is standby of %s", p)
	}
	off := &Node{enabled: false, name: "a"}
	if _, ok := off.Standby(42, 0); ok {
		t.Fatal("a node without clustering is a standby")
	}
}

func TestDeliveredReportsTheLastGossipedWatermark(t *testing.T) {
	n := standbyNodes([]string{"a", "b"})["a"]
	n.peers["b"] = &peer{name: "b", alive: true, rec: record{Watermark: 1234}}
	if wm, alive := n.Delivered("b"); wm != 1234 || !alive {
		t.Fatalf("Delivered(b) = %d, %v; want 1234, true", wm, alive)
	}
	n.peers["b"].refused = true
	if wm, alive := n.Delivered("b"); wm != 1234 || alive {
		t.Fatalf("Delivered(b refusing connections) = %d, %v; want 1234, false: its process is gone", wm, alive)
	}
	n.peers["b"].refused = false
	n.peers["b"].alive = false
	if wm, alive := n.Delivered("b"); wm != 1234 || alive {
		t.Fatalf("Delivered(dead b) = %d, %v; want its last watermark 1234, false", wm, alive)
	}
	if _, alive := n.Delivered("zz"); alive {
		t.Fatal("an unknown peer is alive")
	}
}

func TestReplicasSpeedUpTheWatermarkGossip(t *testing.T) {
	n := standbyNodes([]string{"a"})["a"]
	if p := n.watermarkPeriod(); p != watermarkIdle {
		t.Fatalf("period %s without replicas, want %s", p, watermarkIdle)
	}
	n.SetReplicas("prometheus.scrape.x", 2)
	n.SetReplicas("prometheus.scrape.y", 2)
	n.SetReplicas("prometheus.scrape.x", 1)
	if p := n.watermarkPeriod(); p != watermarkReplicated {
		t.Fatalf("period %s with a component at replicas 2, want %s", p, watermarkReplicated)
	}
	n.SetReplicas("prometheus.scrape.y", 0)
	if p := n.watermarkPeriod(); p != watermarkIdle || watermarkReplicated >= time.Duration(watermarkIdle) {
		t.Fatalf("period %s once no component has replicas, want %s", p, watermarkIdle)
	}
}
