package lab

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Observation is what a scenario saw, the input of Compute.
type Observation struct {
	Scenario string
	// Interval is the scrape interval of every target.
	Interval time.Duration
	// Ticks whose grid time falls in [From, To) are expected to be scraped
	// exactly once.
	From, To time.Time
	// Targets lists the host:port of every target that should be scraped;
	// scrapes of other targets are ignored.
	Targets []string
	// Scrapes is the targets' log (Targets.Log), in any order.
	Scrapes []Scrape
	// Offsets optionally gives each target's grid offset, key mod interval
	// in ms. A target without one has its offset derived from its scrapes.
	Offsets map[string]int64
	// Receiver optionally holds the receiver's counts by instance
	// (Receiver.ByInstance).
	Receiver map[string]InstanceStats
	// Owners optionally lists, per node, the targets the node says it
	// scrapes (its debug info). Without it, ownership is read from the
	// scrapers named in the log.
	Owners map[string][]string
	// Scrapers, when set, keeps only the scrapes by these scrapers: on a
	// shared machine another test's process may still scrape a port that
	// one of our targets reuses.
	Scrapers map[string]bool
}

// TargetFigures are the figures of one target.
type TargetFigures struct {
	Addr         string
	Offset       int64 // ms after each multiple of the interval
	Expected     int   // grid ticks in the window
	Scraped      int   // scrapes served for those ticks
	Missed       int   // ticks with no scrape
	Doubled      int   // scrapes beyond the first of a tick
	LargestGap   time.Duration
	OutOfOrder   int
	Duplicates   int
	StaleMarkers int
	Scrapers     []string // who scraped it in the window, sorted
}

// Report holds the figures of one scenario.
type Report struct {
	Scenario string
	Interval time.Duration
	From, To time.Time
	Targets  int

	Expected   int
	Scraped    int
	Missed     int
	Doubled    int
	LargestGap time.Duration
	GapTarget  string // the target with the largest gap

	OutOfOrder   int // rejects at the receiver
	Duplicates   int // duplicate-timestamp rejects at the receiver (doubled ticks)
	StaleMarkers int // staleness markers the receiver stored

	// Nodes is the number of targets per node; Balance the largest share
	// divided by the mean (1.0 is perfect).
	Nodes   map[string]int
	Balance float64
	// Overlap counts targets claimed by more than one node and Uncovered
	// targets claimed by none (only with Observation.Owners).
	Overlap   int
	Uncovered int
	// Moved is set by scenarios that change membership: targets whose owner
	// changed, and the least number that had to (the joiners' share
	// afterwards plus the leavers' share before).
	Moved, IdealMoved int

	PerTarget []TargetFigures
	Notes     []string
	// Series is set by the weighted scenario.
	Series SeriesFigures

	// Receiver, for the crash and standby scenarios, is the window as
	// the receiver saw it (see standby.go).
	Receiver *ReceiverFigures
}

// Compute derives a Report from an Observation.
func Compute(o Observation) Report {
	ivl := o.Interval.Milliseconds()
	if ivl <= 0 {
		ivl = 1
	}
	r := Report{Scenario: o.Scenario, Interval: o.Interval, From: o.From, To: o.To, Targets: len(o.Targets)}
	byTarget := map[string][]Scrape{}
	want := map[string]bool{}
	for _, a := range o.Targets {
		want[a] = true
	}
	ignored := 0
	for _, s := range o.Scrapes {
		if !want[s.Addr] {
			continue
		}
		if o.Scrapers != nil && !o.Scrapers[scraperOf(s)] {
			ignored++
			continue
		}
		byTarget[s.Addr] = append(byTarget[s.Addr], s)
	}
	from, to := o.From.UnixMilli(), o.To.UnixMilli()
	assign := map[string]string{}
	for _, addr := range o.Targets {
		scrapes := byTarget[addr]
		sort.Slice(scrapes, func(i, j int) bool { return scrapes[i].Time.Before(scrapes[j].Time) })
		off, ok := o.Offsets[addr]
		if !ok {
			off = deriveOffset(scrapes, ivl)
		}
		tf := TargetFigures{Addr: addr, Offset: off}
		tf.Expected = countTicks(from, to, ivl, off)
		perTick := map[int64]int{}
		who := map[string]int{}
		var inWindow []Scrape
		for _, s := range scrapes {
			tick := tickOf(s.Time.UnixMilli(), ivl, off)
			if tick < from || tick >= to {
				continue
			}
			perTick[tick]++
			inWindow = append(inWindow, s)
			who[scraperOf(s)]++
		}
		tf.Scraped = len(inWindow)
		for _, c := range perTick {
			tf.Doubled += c - 1
		}
		tf.Missed = tf.Expected - len(perTick)
		if tf.Missed < 0 {
			tf.Missed = 0
		}
		tf.LargestGap = largestGap(inWindow, from, to, ivl, off)
		for w := range who {
			tf.Scrapers = append(tf.Scrapers, w)
		}
		sort.Strings(tf.Scrapers)
		if len(who) > 0 {
			assign[addr] = dominant(who)
		}
		if st, ok := o.Receiver[addr]; ok {
			tf.OutOfOrder, tf.Duplicates, tf.StaleMarkers = st.OutOfOrder, st.Duplicates, st.StaleMarkers
		}
		r.Expected += tf.Expected
		r.Scraped += tf.Scraped
		r.Missed += tf.Missed
		r.Doubled += tf.Doubled
		r.OutOfOrder += tf.OutOfOrder
		r.Duplicates += tf.Duplicates
		r.StaleMarkers += tf.StaleMarkers
		if tf.LargestGap > r.LargestGap {
			r.LargestGap, r.GapTarget = tf.LargestGap, addr
		}
		r.PerTarget = append(r.PerTarget, tf)
	}

	r.Nodes = map[string]int{}
	if o.Owners != nil {
		claims := map[string]int{}
		for node, ts := range o.Owners {
			r.Nodes[node] += 0
			for _, a := range ts {
				if want[a] {
					r.Nodes[node]++
					claims[a]++
				}
			}
		}
		for _, a := range o.Targets {
			switch c := claims[a]; {
			case c == 0:
				r.Uncovered++
			case c > 1:
				r.Overlap++
			}
		}
	} else {
		for _, node := range assign {
			r.Nodes[node]++
		}
	}
	r.Balance = Balance(r.Nodes)
	if ignored > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d scrapes by processes outside the fleet ignored", ignored))
	}
	return r
}

// Balance is the largest count divided by the mean count; 0 when empty.
func Balance(counts map[string]int) float64 {
	if len(counts) == 0 {
		return 0
	}
	total, most := 0, 0
	for _, c := range counts {
		total += c
		most = max(most, c)
	}
	if total == 0 {
		return 0
	}
	return float64(most) / (float64(total) / float64(len(counts)))
}

// Assignments returns, per target, the scraper that made most of its scrapes
// with arrival in [from, to).
func Assignments(scrapes []Scrape, from, to time.Time) map[string]string {
	counts := map[string]map[string]int{}
	for _, s := range scrapes {
		if s.Time.Before(from) || !s.Time.Before(to) {
			continue
		}
		m := counts[s.Addr]
		if m == nil {
			m = map[string]int{}
			counts[s.Addr] = m
		}
		m[scraperOf(s)]++
	}
	out := make(map[string]string, len(counts))
	for addr, m := range counts {
		out[addr] = dominant(m)
	}
	return out
}

// Moved counts the targets present in both assignments whose owner differs.
func Moved(before, after map[string]string) int {
	n := 0
	for addr, b := range before {
		if a, ok := after[addr]; ok && a != b {
			n++
		}
	}
	return n
}

func scraperOf(s Scrape) string {
	if s.Scraper != "" {
		return s.Scraper
	}
	if s.Header != "" {
		return s.Header
	}
	return "?"
}

func dominant(m map[string]int) string {
	best, bestN := "", -1
	for k, n := range m {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	return best
}

// deriveOffset estimates a target's grid offset from its scrapes' arrival
// phases. Arrivals trail their tick by a small latency, so the phases form
// one cluster (which may wrap around the interval); its median is taken.
func deriveOffset(scrapes []Scrape, ivl int64) int64 {
	if len(scrapes) == 0 {
		return 0
	}
	p0 := mod(scrapes[0].Time.UnixMilli(), ivl)
	devs := make([]int64, 0, len(scrapes))
	for _, s := range scrapes {
		d := mod(s.Time.UnixMilli()-p0+ivl/2, ivl) - ivl/2
		devs = append(devs, d)
	}
	slices.Sort(devs)
	return mod(p0+devs[len(devs)/2], ivl)
}

// tickOf returns the grid tick nearest to the arrival time t (ms).
func tickOf(t, ivl, off int64) int64 {
	n := int64(math.Round(float64(t-off) / float64(ivl)))
	return n*ivl + off
}

// countTicks counts grid times n·ivl+off in [from, to).
func countTicks(from, to, ivl, off int64) int {
	if to <= from {
		return 0
	}
	first := firstTickAtOrAfter(from, ivl, off)
	if first >= to {
		return 0
	}
	return int((to-1-first)/ivl) + 1
}

func firstTickAtOrAfter(t, ivl, off int64) int64 {
	base := t - mod(t-off, ivl)
	if base < t {
		base += ivl
	}
	return base
}

// largestGap is the longest time between consecutive scrapes in the window.
// At the window's edges the gap runs from the window's first tick to the
// first scrape's tick, and from the last scrape's tick to the window's end,
// so that ticks missed there count too.
func largestGap(scrapes []Scrape, from, to, ivl, off int64) time.Duration {
	n := int64(countTicks(from, to, ivl, off))
	if n == 0 {
		return 0
	}
	first := firstTickAtOrAfter(from, ivl, off)
	last := first + (n-1)*ivl
	if len(scrapes) == 0 {
		return time.Duration((n+1)*ivl) * time.Millisecond
	}
	var gap int64
	if t := tickOf(scrapes[0].Time.UnixMilli(), ivl, off); t > first {
		gap = t - first + ivl
	}
	for i := 1; i < len(scrapes); i++ {
		gap = max(gap, scrapes[i].Time.UnixMilli()-scrapes[i-1].Time.UnixMilli())
	}
	if t := tickOf(scrapes[len(scrapes)-1].Time.UnixMilli(), ivl, off); t < last {
		gap = max(gap, last+ivl-t)
	}
	return time.Duration(gap) * time.Millisecond
}

func mod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// String prints the figures, then the nodes, then the worst targets.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s: %d targets, interval %s, window %s (%s .. %s)\n",
		orDash(r.Scenario), r.Targets, r.Interval, r.To.Sub(r.From).Round(time.Millisecond),
		r.From.Format("15:04:05.000"), r.To.Format("15:04:05.000"))
	fmt.Fprintf(&b, "  ticks expected   %d\n", r.Expected)
	fmt.Fprintf(&b, "  scrapes served   %d\n", r.Scraped)
	fmt.Fprintf(&b, "  scrapes missed   %d\n", r.Missed)
	fmt.Fprintf(&b, "  scrapes doubled  %d\n", r.Doubled)
	fmt.Fprintf(&b, "  largest gap      %s (%s)\n", r.LargestGap, orDash(r.GapTarget))
	fmt.Fprintf(&b, "  out-of-order     %d rejected at the receiver\n", r.OutOfOrder)
	fmt.Fprintf(&b, "  duplicates       %d rejected at the receiver\n", r.Duplicates)
	fmt.Fprintf(&b, "  staleness marks  %d\n", r.StaleMarkers)
	if r.Moved > 0 || r.IdealMoved > 0 {
		fmt.Fprintf(&b, "  targets moved    %d (ideal %d)\n", r.Moved, r.IdealMoved)
	}
	if r.Receiver != nil {
		b.WriteString(r.Receiver.String())
	}
	nodes := make([]string, 0, len(r.Nodes))
	for n := range r.Nodes {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		parts = append(parts, fmt.Sprintf("%s=%d", n, r.Nodes[n]))
	}
	fmt.Fprintf(&b, "  balance          %.3f (%s)\n", r.Balance, strings.Join(parts, " "))
	if r.Series.Nodes != nil {
		start := "unweighted"
		if r.Series.PlansAtStart > 0 {
			start = fmt.Sprintf("%d plans already made", r.Series.PlansAtStart)
		}
		fmt.Fprintf(&b, "  series balance   %.3f at start (%s), %.3f planned, %.3f after the join, %.3f at end\n",
			r.Series.Start, start, r.Series.Balanced, r.Series.Joined, r.Series.End)
		sn := make([]string, 0, len(r.Series.Nodes))
		for n := range r.Series.Nodes {
			sn = append(sn, n)
		}
		sort.Strings(sn)
		sp := make([]string, 0, len(sn))
		for _, n := range sn {
			sp = append(sp, fmt.Sprintf("%s=%d", n, r.Series.Nodes[n]))
		}
		fmt.Fprintf(&b, "  series per node  %s\n", strings.Join(sp, " "))
	}
	if r.Overlap > 0 || r.Uncovered > 0 {
		fmt.Fprintf(&b, "  ownership        %d claimed twice, %d by nobody\n", r.Overlap, r.Uncovered)
	}
	worst := slices.Clone(r.PerTarget)
	bad := func(t TargetFigures) int { return t.Missed + t.Doubled + t.OutOfOrder + t.Duplicates + t.StaleMarkers }
	sort.SliceStable(worst, func(i, j int) bool {
		a, c := worst[i], worst[j]
		if bad(a) != bad(c) {
			return bad(a) > bad(c)
		}
		return a.LargestGap > c.LargestGap
	})
	shown := 0
	for _, t := range worst {
		if shown == 5 || bad(t) == 0 {
			break
		}
		fmt.Fprintf(&b, "  target %s: missed %d, doubled %d, gap %s, ooo %d, dup %d, stale %d, by %s\n",
			t.Addr, t.Missed, t.Doubled, t.LargestGap, t.OutOfOrder, t.Duplicates, t.StaleMarkers, strings.Join(t.Scrapers, ","))
		shown++
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  note: %s\n", n)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
