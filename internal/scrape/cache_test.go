package scrape

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// scrapeCache runs one successful scrape of the series [from, to) through c
// and returns how many staleness markers it produced.
func scrapeCache(t *testing.T, c *seriesCache, from, to int) int {
	t.Helper()
	c.begin()
	for i := from; i < to; i++ {
		raw := []byte(fmt.Sprintf("m{s=\"%d\"}", i))
		e := c.get(raw)
		if e == nil {
			e = c.add(raw, labels.FromStrings("__name__", "m", "s", fmt.Sprint(i)))
		} else if got := e.lset.Get("s"); got != fmt.Sprint(i) {
			t.Fatalf("series %d: cached labels are those of s=%s", i, got)
		}
		e.seen = c.iter
		c.track(e)
	}
	stale := 0
	c.commit(func(labels.Labels) { stale++ })
	return stale
}

// TestSeriesCacheReusesAndShrinksEntries: entries of vanished series are
// reused and the dense slice is given back when most of it is free, while
// staleness and the labels of every remaining series stay right.
func TestSeriesCacheReusesAndShrinksEntries(t *testing.T) {
	c := newSeriesCache()
	if n := scrapeCache(t, c, 0, 3000); n != 0 {
		t.Fatalf("first scrape: %d stale markers, want 0", n)
	}
	if n := scrapeCache(t, c, 0, 100); n != 2900 {
		t.Fatalf("second scrape: %d stale markers, want 2900", n)
	}
	if c.len() != 100 || len(c.entries) != 100 || len(c.free) != 0 {
		t.Fatalf("after shrinking: %d series, %d entries, %d free; want 100, 100, 0", c.len(), len(c.entries), len(c.free))
	}
	if n := scrapeCache(t, c, 50, 150); n != 50 {
		t.Fatalf("third scrape: %d stale markers, want 50", n)
	}
	if c.len() != 100 || len(c.entries) != 150 {
		t.Fatalf("after reuse: %d series, %d entries; want 100 and 150 (50 freed, 50 reused)", c.len(), len(c.entries))
	}
	var live int
	c.live(func(labels.Labels) { live++ })
	if live != 100 || len(c.sentHashes()) != 100 {
		t.Fatalf("live %d, sent hashes %d; want 100", live, len(c.sentHashes()))
	}
	// A failed scrape marks everything sent before as stale.
	c.begin()
	n := 0
	c.abort(func(labels.Labels) { n++ })
	if n != 100 {
		t.Fatalf("abort: %d stale markers, want 100", n)
	}
}

// TestSeriesCacheHashCollisions: raw series of different lengths whose
// hashes collide keep their own labels, staleness and reuse, whichever of
// them came first and whichever leaves first.
func TestSeriesCacheHashCollisions(t *testing.T) {
	c := newSeriesCache()
	// Only lengths tell colliding series apart: s="1", s="10" and
	// s="100" have lengths 8, 9 and 10.
	series := []int{1, 10, 100}
	scrape := func(ids ...int) (stale int) {
		c.begin()
		for _, i := range ids {
			raw := []byte(fmt.Sprintf("m{s=\"%d\"}", i))
			e := c.get(raw)
			if e == nil {
				e = c.add(raw, labels.FromStrings("__name__", "m", "s", fmt.Sprint(i)))
			} else if got := e.lset.Get("s"); got != fmt.Sprint(i) {
				t.Fatalf("series %d: cached labels are those of s=%s", i, got)
			}
			e.seen = c.iter
			c.track(e)
		}
		c.commit(func(labels.Labels) { stale++ })
		return stale
	}
	c.hash = func([]byte) uint64 { return 7 } // every series collides
	if n := scrape(series...); n != 0 || c.len() != 3 {
		t.Fatalf("first scrape: %d stale, %d cached; want 0 and 3", n, c.len())
	}
	if n := scrape(series...); n != 0 || c.len() != 3 {
		t.Fatalf("second scrape: %d stale, %d cached; want 0 and 3", n, c.len())
	}
	// The first series of the probe chain leaves; the others stay found.
	if n := scrape(10, 100); n != 1 || c.len() != 2 {
		t.Fatalf("third scrape: %d stale, %d cached; want 1 and 2", n, c.len())
	}
	if n := scrape(1, 10, 100); n != 0 || c.len() != 3 {
		t.Fatalf("fourth scrape: %d stale, %d cached; want 0 and 3", n, c.len())
	}
	var live []string
	c.live(func(ls labels.Labels) { live = append(live, ls.Get("s")) })
	if len(live) != 3 {
		t.Fatalf("live series %v, want 3", live)
	}
	if n := scrape(); n != 3 || c.len() != 0 {
		t.Fatalf("empty scrape: %d stale, %d cached; want 3 and 0", n, c.len())
	}
}
