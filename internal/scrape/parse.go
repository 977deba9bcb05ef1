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

	// slowText turns the known-line fast path off, so that tests can
	// compare it with textparse alone.
	slowText bool
	// textType is the last Content-Type that textparse read as the plain
	// text format, so that a steady target's bodies go straight to the
	// fast path without parsing the header again.
	textType string

	// meta is the target's metric metadata as last sent, by family;
	// metaPend the families whose HELP, TYPE or UNIT changed since, sent
	// with the next scrape that succeeds. Only comment lines that are new
	// to the target reach noteMeta (the fast path skips known ones), so a
	// steady target costs nothing here.
	meta     map[string]sample.Metadata
	metaPend map[string]sample.Metadata
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
//
// A text-format body first goes through the known-line fast path (see
// text.go), which handles the lines of series already in the cache; the
// first line it does not know, and everything after it, goes to textparse.
func (p *parser) parse(body []byte, contentType string, tick int64, b *sample.Batch) (res parseResult, err error) {
	res, err = p.parseBody(body, contentType, tick, b)
	if err == nil && len(p.metaPend) > 0 {
		p.flushMeta(b)
	}
	return res, err
}

func (p *parser) parseBody(body []byte, contentType string, tick int64, b *sample.Batch) (res parseResult, err error) {
	if len(body) == 0 {
		// An empty body is an empty scrape, whatever its Content-Type.
		return res, nil
	}
	st := emitState{tick: tick, b: b, res: &res}
	var tp textparse.Parser
	if contentType == "" || contentType != p.textType || p.slowText {
		tp, err = textparse.New(body, contentType, p.symbols, p.opts)
		if tp == nil {
			if err == nil {
				err = fmt.Errorf("cannot parse Content-Type %q", contentType)
			}
			return res, err
		}
		res.fallback = err
		p.textType = ""
		if _, text := tp.(*textparse.PromParser); text && err == nil {
			// Known to mean the plain text format from now on.
			p.textType = contentType
		}
	}
	if _, text := tp.(*textparse.PromParser); (text || tp == nil) && !p.slowText {
		n, err := p.parseKnownText(body, &st)
		if err != nil {
			return res, err
		}
		if n == len(body) {
			return res, st.limitErr()
		}
		if n > 0 || tp == nil {
			tp = textparse.NewPromParser(body[n:], p.symbols, p.opts.EnableTypeAndUnitLabels)
		}
	}
	if err := p.parseWith(tp, &st); err != nil {
		return res, err
	}
	return res, st.limitErr()
}

// emitState is what one scrape carries from sample to sample.
type emitState struct {
	tick int64
	b    *sample.Batch
	res  *parseResult
	// sent counts the samples appended, for sample_limit.
	sent int
	// The limit errors are returned once the whole body is read, so that
	// scrape_samples_scraped counts every sample.
	sampleLimitErr, bucketLimitErr error
}

func (st *emitState) limitErr() error {
	if st.sampleLimitErr != nil {
		return st.sampleLimitErr
	}
	return st.bucketLimitErr
}

// parseWith reads the rest of a body with textparse.
func (p *parser) parseWith(tp textparse.Parser, st *emitState) error {
	for {
		et, err := tp.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
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
		case textparse.EntryHelp, textparse.EntryType, textparse.EntryUnit:
			p.noteMeta(tp, et)
			continue
		default:
			continue
		}
		if err := p.entry(tp, raw, ts, v, h, fh, st); err != nil {
			return err
		}
	}
}

// entry handles one sample that tp has just parsed: the series cache (with
// labeling and validation for a new series), the sample itself and its
// exemplars.
func (p *parser) entry(tp textparse.Parser, raw []byte, ts *int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, st *emitState) error {
	st.res.total++
	e := p.cache.get(raw)
	isNew := e == nil
	if isNew {
		tp.Labels(&p.lset)
		final := p.labeler.apply(p.lset)
		if final.IsEmpty() {
			p.cache.add(raw, final).seen = p.cache.iter
			return nil
		}
		if !final.Has(model.MetricNameLabel) {
			return errNameLabelMandatory
		}
		if !final.IsValid(p.validation) {
			return fmt.Errorf("invalid metric name or label names: %s", final.String())
		}
		if name, dup := final.HasDuplicateLabelNames(); dup {
			// Prometheus' appender refuses such a series and so fails
			// the scrape; a receiver must never see a name twice.
			return fmt.Errorf("label name %q is not unique: invalid sample", name)
		}
		if err := p.limits.checkLabels(final); err != nil {
			return err
		}
		e = p.cache.add(raw, final)
	}
	t, ok, err := p.emit(e, isNew, ts, v, h, fh, st)
	if err != nil || !ok {
		return err
	}
	if _, proto := tp.(*textparse.ProtobufParser); proto {
		// The protobuf format carries a counter's (or counter
		// histogram's) start timestamp in the sample itself; remote
		// write 2.0 sends it. OpenMetrics' _created lines are kept as
		// the samples they are: finding a sample's one means reading
		// ahead through its family, for every sample.
		st.b.Samples[len(st.b.Samples)-1].ST = tp.StartTimestamp()
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
		st.b.Exemplars = append(st.b.Exemplars, sample.Exemplar{Labels: e.lset, Exemplar: p.ex})
		p.ex = exemplar.Exemplar{}
	}
	return nil
}

// emit appends the sample of a cached series to the batch, applying
// timestamps, duplicates, staleness tracking and the sample and bucket
// limits. It returns the sample's time and whether it was appended (so
// that its exemplars may follow).
func (p *parser) emit(e *cacheEntry, isNew bool, ts *int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, st *emitState) (int64, bool, error) {
	if e.lset.IsEmpty() {
		// Dropped by relabeling.
		e.seen = p.cache.iter
		return 0, false, nil
	}
	if !p.honorTimestamps {
		ts = nil
	}
	t := st.tick
	if ts != nil {
		t = *ts
	}
	st.res.added++
	if e.seen == p.cache.iter && ts == nil {
		// The same series twice in one body: a receiver would reject
		// the second sample at the same timestamp.
		st.res.duplicates++
		return t, false, nil
	}
	e.seen = p.cache.iter

	if p.limits.sample > 0 && st.sent >= p.limits.sample {
		// Keep reading so that scrape_samples_scraped is right.
		st.sampleLimitErr = errSampleLimit
		return t, false, nil
	}
	if h != nil || fh != nil {
		if err := p.limits.fitHistogram(h, fh); err != nil {
			if !errors.Is(err, errBucketLimit) {
				return t, false, err
			}
			st.bucketLimitErr = err
			return t, false, nil
		}
	}
	st.b.Samples = append(st.b.Samples, sample.Sample{Labels: e.lset, T: t, V: v, H: h, FH: fh})
	st.sent++
	if ts == nil || p.trackTimestampsStaleness {
		p.cache.track(e)
	}
	if isNew {
		st.res.seriesAdded++
	}
	return t, true, nil
}

// noteMeta records the HELP, TYPE or UNIT entry tp has just parsed when it
// differs from what was sent.
func (p *parser) noteMeta(tp textparse.Parser, et textparse.Entry) {
	var name []byte
	var set func(m *sample.Metadata) bool
	switch et {
	case textparse.EntryHelp:
		var help []byte
		name, help = tp.Help()
		set = func(m *sample.Metadata) bool {
			if m.Help == string(help) {
				return false
			}
			m.Help = string(help)
			return true
		}
	case textparse.EntryType:
		var typ model.MetricType
		name, typ = tp.Type()
		set = func(m *sample.Metadata) bool {
			if m.Type == typ {
				return false
			}
			m.Type = typ
			return true
		}
	case textparse.EntryUnit:
		var unit []byte
		name, unit = tp.Unit()
		set = func(m *sample.Metadata) bool {
			if m.Unit == string(unit) {
				return false
			}
			m.Unit = string(unit)
			return true
		}
	default:
		return
	}
	m, pending := p.metaPend[string(name)]
	if !pending {
		m = p.meta[string(name)]
	}
	if !set(&m) {
		return
	}
	if p.metaPend == nil {
		p.metaPend = make(map[string]sample.Metadata)
	}
	m.Family = string(name)
	p.metaPend[m.Family] = m
}

// flushMeta appends the changed metadata to b and remembers it as sent.
func (p *parser) flushMeta(b *sample.Batch) {
	if p.meta == nil {
		p.meta = make(map[string]sample.Metadata, len(p.metaPend))
	}
	for name, m := range p.metaPend {
		if m.Type == "" {
			m.Type = model.MetricTypeUnknown
		}
		if old, ok := p.meta[name]; !ok || old != m {
			p.meta[name] = m
			b.Metadata = append(b.Metadata, m)
		}
		delete(p.metaPend, name)
	}
}
