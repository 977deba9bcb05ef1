package demo

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// BenchmarkSummaryFigures is the work of one summary of the default demo:
// 300 targets, a 2 s interval and the log of a 20 s window plus margins,
// through the lab's figures and the current owners.
func BenchmarkSummaryFigures(b *testing.B) {
	const targets, ivl = 300, 2 * time.Second
	now := time.Unix(1_800_000_000, 0)
	var addrs []string
	var log []lab.Scrape
	for i := range targets {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+i)
		addrs = append(addrs, addr)
		off := time.Duration(i*7) * time.Millisecond
		for t := now.Add(-30 * time.Second).Truncate(ivl).Add(off); t.Before(now); t = t.Add(ivl) {
			log = append(log, lab.Scrape{Target: i, Addr: addr, Time: t.Add(3 * time.Millisecond), Scraper: fmt.Sprintf("node-%d", i%3)})
		}
	}
	to := now.Add(-1500 * time.Millisecond)
	b.ReportAllocs()
	for b.Loop() {
		rep := figures(ivl, addrs, log, nil, to.Add(-20*time.Second), to)
		recent := figures(ivl, addrs, log, nil, to.Add(-2*ivl), to)
		owners := latestOwners(log, to.Add(-2*ivl), to)
		if rep.Missed != 0 || recent.Doubled != 0 || len(owners) != targets {
			b.Fatalf("missed %d, doubled %d, owners %d", rep.Missed, recent.Doubled, len(owners))
		}
	}
}
