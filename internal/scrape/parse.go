package scrape

import (
	"errors"
	"fmt"
	"io"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/shoal-dev/shoal/internal/sample"
)

// parser turns one body into samples: textparse for the format, then the
// series cache, the labeler and the limits. One parser belongs to one
// target's loop; it keeps its state (the cache) between scrapes.
type parser struct {
	cache   *seriesCache
	labeler *labeler
	limits  limits
	opts    textparse.ParserOptions
	symbols *labels.SymbolTable

	validation               model.ValidationScheme
	honorTimestamps          bool
	trackTimestampsStaleness bool

	lset labels.Labels
	ex   exemplar.Exemplar
}

// parseResult counts what one scrape saw, for the report series.
type parseResult struct {
	// total is every sample in the body (scrape_samples_scraped).
	total int
	// added is every sample left after relabeling
	// (scrape_samples_post_metric_relabeling).
	added int
	// seriesAdded is the series not seen in the previous scrape.
	seriesAdded int
	// duplicates are samples of a series already seen in this body.
	duplicates int
	// fallback is set when the Content-Type was missing or unknown and
	// the fallback protocol parsed the body.
	fallback error
}

func newParser(t *target, cfg *Config) *parser {
	p := &parser{
		cache:                    newSeriesCache(),
		labeler:                  newLabeler(t.public, cfg.HonorLabels, cfg.MetricRelabel),
		limits:                   newLimits(cfg),
		symbols:                  labels.NewSymbolTable(),
		validation:               cfg.ValidationScheme,
		honorTimestamps:          cfg.HonorTimestamps,
		trackTimestampsStaleness: cfg.TrackTimestampsStaleness,
		opts: textparse.ParserOptions{
			IgnoreNativeHistograms:                  !cfg.ScrapeNativeHistograms,
			KeepClassicOnClassicAndNativeHistograms: cfg.AlwaysScrapeClassicHistograms,
			ConvertClassicHistogramsToNHCB:          cfg.ConvertClassicHistogramsToNHCB,
			// Start timestamps are not sent, so _created series are
			// kept as the samples they are in the exposition.
			OpenMetricsSkipSTSeries: false,
		},
	}
	if cfg.FallbackProtocol != "" {
		p.opts.FallbackContentType = cfg.FallbackProtocol.mediaType()
	}
	return p
}

// parse appends the samples and exemplars of body to b, stamped with tick
// (or the target's own timestamps when honored). The caller has begun a
// cache iteration and commits or aborts it. On error b holds a partial
// scrape that the caller must discard; the counts are still meaningful.
func (p *parser) parse(body []byte, contentType string, tick int64, b *sample.Batch) (res parseResult, err error) {
	if len(body) == 0 {
		// An empty body is an empty scrape, whatever its Content-Type.
		return res, nil
	}
	tp, err := textparse.New(body, contentType, p.symbols, p.opts)
	if tp == nil {
		if err == nil {
			err = fmt.Errorf("cannot parse Content-Type %q", contentType)
		}
		return res, err
	}
	res.fallback = err

	var sampleLimitErr, bucketLimitErr error
	sent := 0
	for {
		et, err := tp.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return res, err
		}
		var (
			raw []byte
			ts  *int64
			v   float64
			h   *histogram.Histogram
			fh  *histogram.FloatHistogram
		)
		switch et {
		case textparse.EntrySeries:
			raw, ts, v = tp.Series()
		case textparse.EntryHistogram:
			raw, ts, h, fh = tp.Histogram()
		default:
			continue
		}
		res.total++
		if !p.honorTimestamps {
			ts = nil
		}
		t := tick
		if ts != nil {
			t = *ts
		}

		e := p.cache.get(raw)
		isNew := e == nil
		if isNew {
			tp.Labels(&p.lset)
			final := p.labeler.apply(p.lset)
			if final.IsEmpty() {
				p.cache.add(raw, final).seen = p.cache.iter
				continue
			}
			if !final.Has(model.MetricNameLabel) {
				return res, errNameLabelMandatory
			}
			if !final.IsValid(p.validation) {
				return res, fmt.Errorf("invalid metric name or label names: %s", final.String())
			}
			if err := p.limits.checkLabels(final); err != nil {
				return res, err
			}
			e = p.cache.add(raw, final)
		} else if e.lset.IsEmpty() {
			e.seen = p.cache.iter
			continue
		}
		res.added++
		if e.seen == p.cache.iter && ts == nil {
			// The same series twice in one body: a receiver would reject
			// the second sample at the same timestamp.
			res.duplicates++
			continue
		}
		e.seen = p.cache.iter

		if p.limits.sample > 0 && sent >= p.limits.sample {
			// Keep reading so that scrape_samples_scraped is right.
			sampleLimitErr = errSampleLimit
			continue
		}
		if h != nil || fh != nil {
			if err := p.limits.fitHistogram(h, fh); err != nil {
				if !errors.Is(err, errBucketLimit) {
					return res, err
				}
				bucketLimitErr = err
				continue
			}
		}
		b.Samples = append(b.Samples, sample.Sample{Labels: e.lset, T: t, V: v, H: h, FH: fh})
		sent++
		if ts == nil || p.trackTimestampsStaleness {
			p.cache.track(e)
		}
		if isNew {
			res.seriesAdded++
		}

		for tp.Exemplar(&p.ex) {
			if !p.ex.HasTs {
				if h != nil || fh != nil {
					// Exemplars of native histograms need their own
					// timestamp, as in Prometheus.
					p.ex = exemplar.Exemplar{}
					continue
				}
				p.ex.Ts = t
			}
			b.Exemplars = append(b.Exemplars, sample.Exemplar{Labels: e.lset, Exemplar: p.ex})
			p.ex = exemplar.Exemplar{}
		}
	}
	if sampleLimitErr != nil {
		return res, sampleLimitErr
	}
	return res, bucketLimitErr
}
