package scrape

import (
	"math"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/shoal-dev/shoal/internal/sample"
)

// reporter writes the series Prometheus generates for every scrape, with
// the target's labels, stamped with the tick. Their labels are built once
// per target.
type reporter struct {
	up, duration, scraped, postRelabel, seriesAdded labels.Labels
	// The extra_metrics series, nil unless enabled.
	timeout, sampleLimit, bodySize labels.Labels
	extra                          bool
}

func newReporter(t *target, extra bool) reporter {
	mk := func(name string) labels.Labels {
		lb := labels.NewBuilder(t.public)
		lb.Set(model.MetricNameLabel, name)
		return lb.Labels()
	}
	r := reporter{
		up:          mk("up"),
		duration:    mk("scrape_duration_seconds"),
		scraped:     mk("scrape_samples_scraped"),
		postRelabel: mk("scrape_samples_post_metric_relabeling"),
		seriesAdded: mk("scrape_series_added"),
		extra:       extra,
	}
	if extra {
		r.timeout = mk("scrape_timeout_seconds")
		r.sampleLimit = mk("scrape_sample_limit")
		r.bodySize = mk("scrape_body_size_bytes")
	}
	return r
}

// scrapeReport is what one scrape tells about itself.
type scrapeReport struct {
	tick        int64
	duration    time.Duration
	res         parseResult
	err         error
	timeout     time.Duration
	sampleLimit int
	// bodySize is the uncompressed body size, -1 when body_size_limit was
	// exceeded, 0 for other failures.
	bodySize int
}

// append adds the report samples of one scrape to b.
func (r *reporter) append(b *sample.Batch, rep scrapeReport) {
	up := 1.0
	if rep.err != nil {
		up = 0
	}
	add := func(l labels.Labels, v float64) {
		b.Samples = append(b.Samples, sample.Sample{Labels: l, T: rep.tick, V: v})
	}
	add(r.up, up)
	add(r.duration, rep.duration.Seconds())
	add(r.scraped, float64(rep.res.total))
	add(r.postRelabel, float64(rep.res.added))
	add(r.seriesAdded, float64(rep.res.seriesAdded))
	if r.extra {
		add(r.timeout, rep.timeout.Seconds())
		add(r.sampleLimit, float64(rep.sampleLimit))
		add(r.bodySize, float64(rep.bodySize))
	}
}

// appendStale marks every report series stale at t, when the target has
// left discovery, and returns the number of markers.
func (r *reporter) appendStale(b *sample.Batch, t int64) int {
	stale := math.Float64frombits(value.StaleNaN)
	for _, l := range []labels.Labels{r.up, r.duration, r.scraped, r.postRelabel, r.seriesAdded} {
		b.Samples = append(b.Samples, sample.Sample{Labels: l, T: t, V: stale})
	}
	if r.extra {
		for _, l := range []labels.Labels{r.timeout, r.sampleLimit, r.bodySize} {
			b.Samples = append(b.Samples, sample.Sample{Labels: l, T: t, V: stale})
		}
		return 8
	}
	return 5
}
