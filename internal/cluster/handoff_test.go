package cluster

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// offlineNode is an enabled node that is not running: tests feed it
// peers' records directly, as memberlist's callbacks would.
func offlineNode(t *testing.T, name string, clk *fakeClock, mod ...func(*Config)) *Node {
	t.Helper()
	cfg := testConfig(name)
	for _, f := range mod {
		f(&cfg)
	}
	n, err := New(cfg, Options{ListenAddr: "127.0.0.1:1", Logger: testLogger(t, name), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// feed delivers a peer's record as a memberlist join/update would.
func feed(n *Node, name string, r record) {
	meta, _ := r.encode(nil, maxMetaSize)
	d := &delegate{n: n}
	d.NotifyUpdate(&memberlist.Node{Name: name, Addr: net.IPv4(127, 0, 0, 2), Port: 9, Meta: meta})
	n.rebuild()
}

func gone(n *Node, name string) {
	(&delegate{n: n}).NotifyLeave(&memberlist.Node{Name: name})
	n.rebuild()
}

// participate makes n a participant since the given time.
func participate(n *Node, since time.Time) {
	n.mu.Lock()
	n.local.State, n.local.Since = Participant, since.UnixMilli()
	n.mu.Unlock()
	n.rebuild()
}

// handoffKey finds a key that moves from giver to taker at tick h.
func handoffKey(t *testing.T, n *Node, h int64, giver, taker string) uint64 {
	t.Helper()
	for _, k := range randomKeys(1000) {
		if n.OwnerOf(k, h-1) == giver && n.OwnerOf(k, h) == taker {
			return k
		}
	}
	t.Fatalf("no key moves from %s to %s at %d", giver, taker, h)
	return 0
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// handoffSetup: a has owned everything for a while; b (the node under
// test) owns its share from h.
func handoffSetup(t *testing.T, mod ...func(*Config)) (b *Node, clk *fakeClock, h int64, key uint64) {
	now := time.Now()
	clk = &fakeClock{t: now}
	b = offlineNode(t, "b", clk, mod...)
	feed(b, "a", record{State: Participant, Since: now.Add(-time.Minute).UnixMilli()})
	participate(b, now)
	h = now.UnixMilli() + b.delta
	key = handoffKey(t, b, h, "a", "b")
	return b, clk, h, key
}

func TestHoldIsReleasedWhenTheGiversWatermarkPassesTheHandoff(t *testing.T) {
	b, _, h, key := handoffSetup(t)
	ch := b.Hold(key, h)
	if ch == nil {
		t.Fatal("no hold for the first tick of a target taken over from a live node")
	}
	if again := b.Hold(key, h+15_000); again != ch {
		t.Error("a later tick of the same run of ownership does not share the hold")
	}
	feed(b, "a", record{State: Participant, Since: h - 60_000, Watermark: h - 2})
	if closed(ch) {
		t.Fatal("hold released while the giver's watermark is still before the handoff")
	}
	feed(b, "a", record{State: Participant, Since: h - 60_000, Watermark: h - 1})
	if !closed(ch) {
		t.Fatal("hold not released once the giver acknowledged every sample before the handoff")
	}
	if b.Hold(key, h+30_000) != nil {
		t.Error("a released hold is handed out again")
	}
}

func TestHoldIsReleasedWhenTheGiverDies(t *testing.T) {
	b, _, h, key := handoffSetup(t)
	ch := b.Hold(key, h)
	if ch == nil {
		t.Fatal("no hold")
	}
	gone(b, "a")
	if !closed(ch) {
		t.Fatal("hold not released when the giver died")
	}
}

func TestHoldIsReleasedOnTimeout(t *testing.T) {
	b, clk, h, key := handoffSetup(t, func(c *Config) { c.HoldTimeout = 5 * time.Second })
	ch := b.Hold(key, h)
	if ch == nil {
		t.Fatal("no hold")
	}
	b.expireHolds(clk.Now().Add(4 * time.Second))
	if closed(ch) {
		t.Fatal("hold released before its timeout")
	}
	b.expireHolds(clk.Now().Add(5 * time.Second))
	if !closed(ch) {
		t.Fatal("hold not released after its timeout")
	}
}

func TestNoHoldWhereNothingMoved(t *testing.T) {
	b, _, h, key := handoffSetup(t)
	if ch := b.Hold(key, h-1); ch != nil {
		t.Error("hold for a tick this node does not own")
	}
	for _, k := range randomKeys(200) {
		if b.OwnerOf(k, h) == "a" && b.Hold(k, h) != nil {
			t.Fatal("hold for a key the giver keeps")
		}
	}
	feed(b, "a", record{State: Participant, Since: h - 60_000, Watermark: h})
	if ch := b.Hold(key, h); ch != nil {
		t.Error("hold although the giver's watermark already covers the handoff")
	}
}

type fakeDelivery struct {
	wm      atomic.Int64
	flushes atomic.Int64
}

func (d *fakeDelivery) Watermark() int64 { return d.wm.Load() }
func (d *fakeDelivery) Flush()           { d.flushes.Add(1) }

func TestLosingTargetsFlushesDeliveriesAndGossipsTheWatermark(t *testing.T) {
	now := time.Now()
	clk := &fakeClock{t: now}
	a := offlineNode(t, "a", clk)
	participate(a, now.Add(-time.Minute))
	d := &fakeDelivery{}
	d.wm.Store(now.UnixMilli() - 5000)
	a.AddDelivery("prometheus.remote_write.default", d)
	// b joins: a loses keys at h.
	feed(a, "b", record{State: Participant, Since: now.UnixMilli()})
	h := now.UnixMilli() + a.delta
	if !a.view.Load().losesAt(a.view.Load().index(h)) {
		t.Fatal("the view does not show a losing keys when b becomes eligible")
	}
	clk.Set(time.UnixMilli(h))
	a.onBoundary()
	if d.flushes.Load() == 0 {
		t.Fatal("deliveries not flushed at the handoff tick")
	}
	d.wm.Store(h - 1)
	a.refreshWatermark(clk.Now())
	a.mu.Lock()
	wm := a.local.Watermark
	a.mu.Unlock()
	if wm != h-1 {
		t.Errorf("record watermark %d after the handoff, want the trackers' %d at once", wm, h-1)
	}
}

func TestRevivedNodeIsNotEligibleUntilItRejoins(t *testing.T) {
	now := time.Now()
	clk := &fakeClock{t: now}
	a := offlineNode(t, "a", clk)
	participate(a, now.Add(-time.Minute))
	old := record{State: Participant, Since: now.Add(-time.Minute).UnixMilli()}
	feed(a, "b", old)
	if !a.view.Load().at(now.UnixMilli()).has("b") {
		t.Fatal("b not eligible")
	}
	gone(a, "b")
	if a.view.Load().at(now.UnixMilli()).has("b") {
		t.Fatal("dead b still eligible")
	}
	feed(a, "b", old) // b refuted its death with its old record
	if a.view.Load().at(now.UnixMilli()).has("b") {
		t.Fatal("b eligible again at once, on its old since")
	}
	s := now.UnixMilli() + 100
	feed(a, "b", record{State: Participant, Since: s})
	v := a.view.Load()
	if v.at(s+a.delta-1).has("b") || !v.at(s+a.delta).has("b") {
		t.Error("b, back with a new since, is not eligible from exactly since+Δ")
	}
}

func TestWatermarkStaysBelowAHeldTick(t *testing.T) {
	b, clk, h, key := handoffSetup(t)
	d := &fakeDelivery{}
	b.AddDelivery("rw", d)
	clk.Set(time.UnixMilli(h + 5_000))
	d.wm.Store(h + 4_000) // everything handed to remote write is out
	if b.Hold(key, h) == nil {
		t.Fatal("no hold")
	}
	// The held samples (stamped h and later) are not in the tracker: a
	// node taking the target from b next must not see them as delivered.
	if got := b.watermark(clk.Now()); got != h-1 {
		t.Fatalf("watermark %d with a hold at %d pending, want %d", got, h, h-1)
	}
	feed(b, "a", record{State: Participant, Since: h - 60_000, Watermark: h - 1})
	if got := b.watermark(clk.Now()); got != h-1 {
		t.Errorf("watermark %d right after the release, before the samples reach the tracker, want %d", got, h-1)
	}
	clk.Set(clk.Now().Add(holdSettle))
	if got := b.watermark(clk.Now()); got != h+4_000 {
		t.Errorf("watermark %d once the released samples settled, want the tracker's %d", got, h+4_000)
	}
}

func TestClusteredNodeSendsWhatItScrapedEveryPeriod(t *testing.T) {
	// Not only around handoffs: a node declared dead by a partition's
	// other side is not told, and its last samples must already be out
	// when the other side starts writing its targets.
	clk := &fakeClock{t: time.Now()}
	a := offlineNode(t, "a", clk)
	participate(a, clk.Now().Add(-time.Minute))
	d := &fakeDelivery{}
	a.AddDelivery("prometheus.remote_write.default", d)
	for range 3 {
		a.periodic()
	}
	if got := d.flushes.Load(); got != 3 {
		t.Errorf("%d flushes in three periods of a steady node, want 3", got)
	}
}

func TestHoldFindsTheGiverAcrossEpochsWithoutATick(t *testing.T) {
	// b takes keys from a at h1, and c becomes eligible 10ms later (as
	// when every node re-enters at once after a partition heals). A key b
	// keeps at h2 is first scraped by b in the epoch starting at h2; its
	// samples must still wait for a, who scraped the tick before.
	now := time.Now()
	clk := &fakeClock{t: now}
	b := offlineNode(t, "b", clk)
	feed(b, "a", record{State: Participant, Since: now.Add(-time.Minute).UnixMilli()})
	feed(b, "c", record{State: Participant, Since: now.UnixMilli() + 10})
	participate(b, now)
	h1 := now.UnixMilli() + b.delta
	h2 := h1 + 10
	var key uint64
	found := false
	for _, k := range randomKeys(2000) {
		if b.OwnerOf(k, h1-1) == "a" && b.OwnerOf(k, h1) == "b" && b.OwnerOf(k, h2) == "b" {
			key, found = k, true
			break
		}
	}
	if !found {
		t.Fatal("no key moves from a to b at h1 and stays with b at h2")
	}
	ch := b.Hold(key, h2+1500)
	if ch == nil {
		t.Fatal("no hold for b's first tick of a key taken from a live node one epoch earlier")
	}
	feed(b, "a", record{State: Participant, Since: now.Add(-time.Minute).UnixMilli(), Watermark: h1 - 1})
	if !closed(ch) {
		t.Error("hold not released once a's watermark passed the handoff at h1")
	}
}
