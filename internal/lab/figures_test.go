package lab

import (
	"strings"
	"testing"
	"time"
)

// handLog builds the scrapes of one target on a 2 s grid with the given
// offset: one scrape per tick index in ticks (repeat an index to double
// it), each arriving latency after its tick, by the named scraper.
func handLog(addr string, base time.Time, offset time.Duration, latency time.Duration, ticks []int, by func(tick int) string) []Scrape {
	var out []Scrape
	for _, n := range ticks {
		at := base.Add(offset + time.Duration(n)*2*time.Second + latency)
		out = append(out, Scrape{Addr: addr, Time: at, Scraper: by(n)})
	}
	return out
}

// base is a multiple of 2 s, so that grid ticks are base + offset + n·2s.
var base = time.UnixMilli(1_700_000_000_000)

func TestFiguresCountExactlyOneMissedAndOneDoubledTick(t *testing.T) {
	ticks := []int{0, 1, 2, 3 /* 4 missed */, 5, 6, 7, 7 /* doubled */, 8, 9}
	scrapes := handLog("t:1", base, 300*time.Millisecond, 4*time.Millisecond, ticks, func(int) string { return "a" })
	// The doubled tick is scraped by a second node a few ms later.
	scrapes[7].Time = scrapes[7].Time.Add(9 * time.Millisecond)
	scrapes[7].Scraper = "b"

	r := Compute(Observation{
		Scenario: "hand",
		Interval: 2 * time.Second,
		From:     base,
		To:       base.Add(20 * time.Second),
		Targets:  []string{"t:1"},
		Scrapes:  scrapes,
	})
	if r.Expected != 10 || r.Missed != 1 || r.Doubled != 1 || r.Scraped != 10 {
		t.Errorf("expected %d, missed %d, doubled %d, scraped %d; want 10, 1, 1, 10", r.Expected, r.Missed, r.Doubled, r.Scraped)
	}
	if r.LargestGap != 4*time.Second {
		t.Errorf("largest gap %s, want 4s (the missed tick)", r.LargestGap)
	}
	if tf := r.PerTarget[0]; tf.Offset < 300 || tf.Offset > 310 {
		t.Errorf("derived offset %d ms, want about 300", tf.Offset)
	}
	if s := r.String(); !strings.Contains(s, "scrapes missed   1") || !strings.Contains(s, "scrapes doubled  1") {
		t.Errorf("report does not show the figures:\n%s", s)
	}
}

func TestFiguresDeriveAnOffsetThatWrapsAroundTheInterval(t *testing.T) {
	// Tick phase 1998 ms, latency 5 ms: arrivals land at phase 3 ms of the
	// next interval; they still belong to their own ticks. As in a real
	// run, scraping goes on before and after the window.
	var ticks []int
	for n := -3; n < 13; n++ {
		ticks = append(ticks, n)
	}
	scrapes := handLog("t:1", base, 1998*time.Millisecond, 5*time.Millisecond, ticks, func(int) string { return "a" })
	r := Compute(Observation{Interval: 2 * time.Second, From: base, To: base.Add(20 * time.Second), Targets: []string{"t:1"}, Scrapes: scrapes})
	if r.Missed != 0 || r.Doubled != 0 || r.Expected != 10 {
		t.Errorf("expected %d, missed %d, doubled %d; want 10, 0, 0\n%s", r.Expected, r.Missed, r.Doubled, r)
	}
	if r.LargestGap != 2*time.Second {
		t.Errorf("largest gap %s, want 2s", r.LargestGap)
	}
}

func TestFiguresUseAKnownOffsetAndCountMissedTicksAtTheEdges(t *testing.T) {
	scrapes := handLog("t:1", base, 500*time.Millisecond, time.Millisecond, []int{1, 2, 3}, func(int) string { return "a" })
	r := Compute(Observation{
		Interval: 2 * time.Second, From: base, To: base.Add(10 * time.Second),
		Targets: []string{"t:1", "t:2"}, Scrapes: scrapes,
		Offsets: map[string]int64{"t:1": 500, "t:2": 0},
	})
	// t:1 has ticks 0..4 in the window and misses 0 and 4; t:2 is never
	// scraped and misses all 5.
	if r.Expected != 10 || r.Missed != 7 {
		t.Errorf("expected %d, missed %d; want 10, 7", r.Expected, r.Missed)
	}
	if r.GapTarget != "t:2" || r.LargestGap != 12*time.Second {
		t.Errorf("largest gap %s at %s, want 12s at the unscraped t:2", r.LargestGap, r.GapTarget)
	}
	if g := r.PerTarget[0].LargestGap; g != 4*time.Second {
		t.Errorf("t:1 gap %s, want 4s (one missed tick at each edge)", g)
	}
}

func TestFiguresTakeReceiverCountsByInstance(t *testing.T) {
	r := Compute(Observation{
		Interval: time.Second, From: base, To: base.Add(time.Second), Targets: []string{"t:1"},
		Receiver: map[string]InstanceStats{"t:1": {OutOfOrder: 2, Duplicates: 3, StaleMarkers: 4}, "other:1": {OutOfOrder: 100}},
	})
	if r.OutOfOrder != 2 || r.Duplicates != 3 || r.StaleMarkers != 4 {
		t.Errorf("ooo %d dup %d stale %d, want 2 3 4 (other targets ignored)", r.OutOfOrder, r.Duplicates, r.StaleMarkers)
	}
}

func TestBalanceFromOwnersReportsOverlapAndGaps(t *testing.T) {
	r := Compute(Observation{
		Interval: time.Second, From: base, To: base, Targets: []string{"1", "2", "3", "4", "5", "6"},
		Owners: map[string][]string{"a": {"1", "2", "3"}, "b": {"3", "4"}, "c": {"5"}},
	})
	// a=3 b=2 c=1: mean 2, largest 3.
	if r.Balance != 1.5 || r.Overlap != 1 || r.Uncovered != 1 {
		t.Errorf("balance %.2f overlap %d uncovered %d, want 1.5 1 1", r.Balance, r.Overlap, r.Uncovered)
	}
}

func TestBalanceFromScrapersInTheLog(t *testing.T) {
	var scrapes []Scrape
	for i, who := range []string{"a", "a", "b", "b"} {
		scrapes = append(scrapes, Scrape{Addr: string(rune('w' + i)), Time: base.Add(time.Second), Scraper: who})
	}
	r := Compute(Observation{Interval: time.Second, From: base, To: base.Add(2 * time.Second), Targets: []string{"w", "x", "y", "z"}, Scrapes: scrapes})
	if r.Balance != 1 || r.Nodes["a"] != 2 || r.Nodes["b"] != 2 {
		t.Errorf("nodes %v balance %.2f, want a=2 b=2 balance 1", r.Nodes, r.Balance)
	}
}

func TestMovedCountsTargetsWhoseScraperChanged(t *testing.T) {
	before := map[string]string{"1": "a", "2": "b", "3": "a"}
	after := map[string]string{"1": "a", "2": "c", "3": "c", "4": "c"}
	if n := Moved(before, after); n != 2 {
		t.Errorf("moved %d, want 2", n)
	}
	scrapes := []Scrape{
		{Addr: "1", Time: base, Scraper: "a"},
		{Addr: "1", Time: base.Add(time.Second), Scraper: "b"},
		{Addr: "1", Time: base.Add(2 * time.Second), Scraper: "b"},
		{Addr: "1", Time: base.Add(3 * time.Second), Scraper: "a"}, // outside the window
	}
	if got := Assignments(scrapes, base, base.Add(3*time.Second)); got["1"] != "b" {
		t.Errorf("assignment %v, want 1 scraped mostly by b", got)
	}
}

func TestFiguresIgnoreScrapesFromOutsideTheFleet(t *testing.T) {
	scrapes := handLog("t:1", base, 0, time.Millisecond, []int{-1, 0, 1, 2, 3, 4, 5}, func(int) string { return "a" })
	scrapes = append(scrapes, Scrape{Addr: "t:1", Time: base.Add(2*time.Second + 5*time.Millisecond), Scraper: "?"})
	r := Compute(Observation{
		Interval: 2 * time.Second, From: base, To: base.Add(10 * time.Second),
		Targets: []string{"t:1"}, Scrapes: scrapes, Scrapers: map[string]bool{"a": true},
	})
	if r.Doubled != 0 || r.Missed != 0 || len(r.Notes) != 1 {
		t.Errorf("doubled %d missed %d notes %q; want the stranger's scrape ignored and noted", r.Doubled, r.Missed, r.Notes)
	}
}
