package scrape

import (
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/shoal-dev/shoal/internal/sample"
)

// Staleness follows Prometheus' rules, with one exception that handoff
// needs:
//   - a series sent in the previous scrape and absent from this one gets a
//     staleness marker at this scrape's tick;
//   - a failed scrape marks every series of the previous scrape stale;
//   - a target that leaves discovery gets markers on all its series, and on
//     its report series, at the tick it would have scraped next;
//   - nothing is written on shutdown, and nothing when the target moves to
//     another node: the new owner continues the series, and a marker from
//     the old owner would cut them (or arrive out of order).
//
// Series with their own timestamps are left out unless
// track_timestamps_staleness is set.

// staleNaN is the value of a staleness marker.
var staleNaN = math.Float64frombits(value.StaleNaN)

// staleAppender returns a function that appends a marker for a series at t.
func staleAppender(b *sample.Batch, t int64, n *int) func(labels.Labels) {
	return func(l labels.Labels) {
		b.Samples = append(b.Samples, sample.Sample{Labels: l, T: t, V: staleNaN})
		*n++
	}
}

// staleCarried appends markers for the series of a previous configuration
// of the target that the current scrape did not send (their labels changed
// with the configuration). sent are the hashes of the series just sent.
func staleCarried(b *sample.Batch, t int64, carried []labels.Labels, sent map[uint64]struct{}) int {
	n := 0
	for _, l := range carried {
		if _, ok := sent[l.Hash()]; ok {
			continue
		}
		b.Samples = append(b.Samples, sample.Sample{Labels: l, T: t, V: staleNaN})
		n++
	}
	return n
}
