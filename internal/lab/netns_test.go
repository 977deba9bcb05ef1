package lab

import (
	"context"
	"net"
	"os"
	"testing"
	"time"
)

// requireNetwork skips without root, or fails under CI=true, where the
// partition scenarios must run.
func requireNetwork(t *testing.T) *Network {
	t.Helper()
	if err := NetworkAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	nw, err := NewNetwork()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := nw.Close(); err != nil {
			t.Error(err)
		}
	})
	return nw
}

func reach(ns, addr string) error {
	return inNS(ns, func() error {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// reachable waits up to five seconds for ns to reach addr: a new veth link
// may drop the first packets while it comes up (and a loaded machine takes
// longer), so one 300ms attempt proves nothing about a route.
func reachable(ns, addr string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := reach(ns, addr)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPartitionCutsHostsApartButKeepsTheWorld(t *testing.T) {
	nw := requireNetwork(t)
	a, err := nw.AddHost("a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := nw.AddHost("b")
	if err != nil {
		t.Fatal(err)
	}
	world, err := nw.Listen("tcp", WorldIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer world.Close()
	var onB net.Listener
	if err := inNS(b.NS, func() (err error) { onB, err = net.Listen("tcp", b.IP+":0"); return }); err != nil {
		t.Fatal(err)
	}
	defer onB.Close()
	// Nothing needs to accept: a completed handshake is reachability.

	if err := reachable(a.NS, world.Addr().String()); err != nil {
		t.Fatalf("a cannot reach the world: %v", err)
	}
	if err := reachable(a.NS, onB.Addr().String()); err != nil {
		t.Fatalf("a cannot reach b: %v", err)
	}
	if _, err := nw.DialContext(context.Background(), "tcp", onB.Addr().String()); err != nil {
		t.Fatalf("the world cannot reach b: %v", err)
	}

	if err := nw.Partition([]string{"a"}, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	if err := reach(a.NS, onB.Addr().String()); err == nil {
		t.Error("a reaches b across the partition")
	}
	for _, h := range []*Host{a, b} {
		if err := reachable(h.NS, world.Addr().String()); err != nil {
			t.Errorf("%s lost the world in the partition: %v", h.Name, err)
		}
	}

	if err := nw.Heal(); err != nil {
		t.Fatal(err)
	}
	if err := reachable(a.NS, onB.Addr().String()); err != nil {
		t.Errorf("a cannot reach b after healing: %v", err)
	}
}

func TestProcessUsageOfThisProcess(t *testing.T) {
	u, err := ProcessUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSS <= 0 || u.RSS <= 0 || u.PeakRSS < u.RSS {
		t.Errorf("usage %+v", u)
	}
}

func TestSocketIndexFindsTheProcessOfAConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var idx socketIndex
	pid := os.Getpid()
	if got := idx.owner(c.LocalAddr().String(), c.RemoteAddr().String(), map[int]string{pid: "me"}); got != pid {
		t.Errorf("owner of %s = %d, want this process %d", c.LocalAddr(), got, pid)
	}
	if got := idx.owner(c.LocalAddr().String(), c.RemoteAddr().String(), map[int]string{1: "init"}); got != 0 {
		t.Errorf("owner among other processes = %d, want 0", got)
	}
	if got := idx.owner("127.0.0.1:1", c.RemoteAddr().String(), map[int]string{pid: "me"}); got != 0 {
		t.Errorf("owner of an unused port = %d, want 0", got)
	}
}
