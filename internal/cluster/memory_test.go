package cluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPeerMemoryIsBoundedAndSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	m := newPeerMemory(dir, "fleet", "self")
	var ps []rememberedPeer
	alive := map[string]bool{}
	for i := range 100 {
		name := fmt.Sprintf("n%03d", i)
		// The later a peer, the more recently it went.
		ps = append(ps, rememberedPeer{Name: name, Addr: fmt.Sprintf("10.0.0.%d:12345", i), LastSeen: now.Add(time.Duration(i-200) * time.Minute).UnixMilli()})
	}
	ps = append(ps, rememberedPeer{Name: "self", Addr: "10.0.1.1:1"}, rememberedPeer{Name: "bad", Addr: "no port"})
	ps = append(ps, rememberedPeer{Name: "up", Addr: "10.0.2.1:12345"})
	alive["up"] = true
	m.observe(now, ps, alive)
	if err := m.save(false); err != nil {
		t.Fatal(err)
	}
	got := m.list()
	if len(got) != maxRemembered {
		t.Fatalf("%d peers remembered, want the bound %d", len(got), maxRemembered)
	}
	if got[0].Name != "up" || got[1].Name != "n099" || got[len(got)-1].Name != fmt.Sprintf("n%03d", 100-maxRemembered+1) {
		t.Errorf("kept %s, %s .. %s; want the live peer, then the most recently seen", got[0].Name, got[1].Name, got[len(got)-1].Name)
	}
	for _, p := range got {
		if p.Name == "self" || p.Name == "bad" {
			t.Errorf("remembered %+v: this node itself or an unusable address", p)
		}
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(filepath.Join(dir, "cluster"))
	if len(entries) != 1 || entries[0].Name() != memoryFileName {
		t.Errorf("the memory directory holds %v, want only %s", entries, memoryFileName)
	}

	again := newPeerMemory(dir, "fleet", "self")
	if err := again.load(); err != nil {
		t.Fatal(err)
	}
	if a, b := memoryKey(again.list()), memoryKey(got); a != b {
		t.Errorf("after a restart the memory holds\n%s\nwant\n%s", a, b)
	}
	other := newPeerMemory(dir, "another-fleet", "self")
	if err := other.load(); err == nil || len(other.list()) != 0 {
		t.Errorf("a node of another cluster read the memory: %v, %d peers", err, len(other.list()))
	}
}

func TestPeerMemoryForgetsOldPeersAndCountsTheFleet(t *testing.T) {
	now := time.Now()
	m := newPeerMemory("", "", "self")
	m.observe(now, []rememberedPeer{
		{Name: "a", Addr: "10.0.0.1:1"},
		{Name: "crashed", Addr: "10.0.0.2:1", LastSeen: now.Add(-time.Minute).UnixMilli()},
		{Name: "left", Addr: "10.0.0.3:1", LastSeen: now.Add(-time.Minute).UnixMilli(), Left: true},
		{Name: "long-dead", Addr: "10.0.0.4:1", LastSeen: now.Add(-2 * minorityHorizon).UnixMilli()},
		{Name: "forgotten", Addr: "10.0.0.5:1", LastSeen: now.Add(-rememberFor - time.Hour).UnixMilli()},
		{Name: "old-name", Addr: "10.0.0.6:1", LastSeen: now.Add(-time.Minute).UnixMilli()},
		{Name: "new-name", Addr: "10.0.0.6:1"},
	}, map[string]bool{"a": true, "new-name": true})
	var names []string
	for _, p := range m.list() {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, ","), "a,new-name,crashed,left,long-dead"; got != want {
		t.Errorf("remembered %s, want %s", got, want)
	}
	// Self, a, new-name and crashed: the peer that left and the one dead
	// for long do not count.
	if got := m.fleetSize(now); got != 4 {
		t.Errorf("remembered fleet of %d nodes, want 4", got)
	}
}

func TestCorruptPeerMemoryIsIgnored(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster", memoryFileName)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"version":1,"peers":[{"name":`), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newPeerMemory(dir, "", "self")
	if err := m.load(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("load of a truncated file: %v, want an error naming %s", err, path)
	}
	if len(m.list()) != 0 {
		t.Error("a truncated file yielded peers")
	}
}

func withDataDir(dir string) nodeOpt {
	return func(_ *Config, o *Options) { o.DataDir = dir }
}

// TestRestartedSeedFindsItsFleetFromMemory: a has no join address, b joins
// a and c joins b. Restarted (at a new address, still without a join
// address) a must find b and c from the peers it remembers, before it
// participates, instead of forming a cluster of one.
func TestRestartedSeedFindsItsFleetFromMemory(t *testing.T) {
	dir := t.TempDir()
	a := startNode(t, "a", withDataDir(dir))
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(b.addr()))
	readyAll(t, a, b, c)
	for _, n := range []*tnode{a, b, c} {
		eventually(t, 10*time.Second, n.name+" to see the fleet", func() bool { return sees(n.Node, "a", "b", "c") })
	}
	eventually(t, 5*time.Second, "a to remember b and c", func() bool { return len(a.memory.list()) == 2 })
	if err := a.Leave(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.shutdown()

	a2 := startNode(t, "a", withDataDir(dir))
	if len(a2.cfg.JoinAddresses) != 0 {
		t.Fatal("the restarted seed has join addresses; the test needs none")
	}
	a2.SetReady()
	eventually(t, 10*time.Second, "the restarted a to participate", func() bool { return a2.Self().State == Participant })
	if got := alivePeers(a2.Node); len(got) != 3 {
		t.Errorf("the restarted seed participates seeing %v, want its whole fleet", got)
	}
	for _, n := range []*tnode{b, c} {
		eventually(t, 10*time.Second, n.name+" to see a back", func() bool { return sees(n.Node, "a", "b", "c") })
	}
	nodes := []*tnode{a2, b, c}
	waitSame(t, nodes)
	checkSplit(t, nodes, randomKeys(1000), time.Now().Add(2*a2.cfg.HandoffDelay).UnixMilli())
}

// TestSeedWithUnansweringMemoryWaitsTheBootstrapTimeout: a node whose
// remembered peers do not answer stays a viewer until the bootstrap
// timeout, then forms a cluster alone.
func TestSeedWithUnansweringMemoryWaitsTheBootstrapTimeout(t *testing.T) {
	dir := t.TempDir()
	gone := startNode(t, "gone")
	goneAddr := gone.addr()
	gone.crash()
	m := newPeerMemory(dir, "", "seed")
	m.observe(time.Now(), []rememberedPeer{{Name: "gone", Addr: goneAddr}}, map[string]bool{"gone": true})
	if err := m.save(true); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n := startNode(t, "seed", withDataDir(dir))
	n.SetReady()
	eventually(t, 15*time.Second, "the seed to participate after the bootstrap timeout", func() bool { return n.Self().State == Participant })
	if since := n.Self().Since; since.Before(start.Add(n.cfg.BootstrapTimeout)) {
		t.Errorf("participant since %s, before the bootstrap timeout ended at %s", since, start.Add(n.cfg.BootstrapTimeout))
	}
}

// TestNodeInAMinorityRejoinsItsRememberedPeers: b and c crash and come
// back at their addresses joining only each other, with rejoining off.
// a, which has no join address, is then alone in a fleet of three it
// remembers, and rejoins them.
func TestNodeInAMinorityRejoinsItsRememberedPeers(t *testing.T) {
	noRejoin := func(c *Config, _ *Options) { c.RejoinInterval = 0 }
	a := startNode(t, "a", withDataDir(t.TempDir()), noRejoin)
	b := startNode(t, "b", withJoin(a.addr()), noRejoin)
	c := startNode(t, "c", withJoin(a.addr()), noRejoin)
	readyAll(t, a, b, c)
	eventually(t, 5*time.Second, "a to remember b and c", func() bool { return len(a.memory.list()) == 2 })
	bAddr, cAddr := b.addr(), c.addr()
	b.crash()
	c.crash()
	eventually(t, 15*time.Second, "a to declare b and c dead", func() bool { return sees(a.Node, "a") })

	listen := func(addr string) net.Listener {
		var ln net.Listener
		eventually(t, 5*time.Second, "to listen on "+addr+" again", func() bool {
			var err error
			ln, err = net.Listen("tcp", addr)
			return err == nil
		})
		return ln
	}
	b2 := startNodeOn(t, listen(bAddr), "b", nil, noRejoin)
	c2 := startNodeOn(t, listen(cAddr), "c", nil, withJoin(bAddr), noRejoin)
	// b and c know of a only if a contacts them: they have no join
	// address of a, no memory and no rejoin.
	eventually(t, 10*time.Second, "b and c to find each other", func() bool { return slices.Contains(alivePeers(c2.Node), "b") })
	eventually(t, 20*time.Second, "a, in a minority, to rejoin b and c", func() bool { return sees(a.Node, "a", "b", "c") })
	eventually(t, 10*time.Second, "b to see a", func() bool { return sees(b2.Node, "a", "b", "c") })
}
