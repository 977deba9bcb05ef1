// Package convert turns OTLP metrics into Prometheus samples the way
// Alloy's otelcol.exporter.prometheus does, so that a fleet moving from
// Alloy keeps the same series: the same names and suffixes, job and
// instance from service.namespace/service.name and service.instance.id,
// target_info and otel_scope_info, counters from cumulative monotonic sums,
// gauges from gauges and cumulative non-monotonic sums, classic histograms
// and summaries as their _bucket/_sum/_count (quantile) series, and
// exponential histograms as native histograms. Delta sums and histograms
// are dropped, as in Alloy.
//
// It owns the conversion and the cache of active series (for out-of-order
// detection and exemplars); the component around it is its parent package.
package convert

import (
	"encoding/hex"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/shoal-dev/shoal/internal/sample"
)

// Options are what the exporter's arguments change in the conversion.
type Options struct {
	// IncludeTargetInfo writes a target_info series per resource.
	IncludeTargetInfo bool
	// IncludeScopeInfo writes an otel_scope_info series per scope.
	IncludeScopeInfo bool
	// IncludeScopeLabels adds otel_scope_name and otel_scope_version to
	// every series.
	IncludeScopeLabels bool
	// AddMetricSuffixes appends units and _total/_ratio to names.
	AddMetricSuffixes bool
	// ResourceToTelemetryConversion copies the resource attributes onto
	// every series.
	ResourceToTelemetryConversion bool
	// HonorMetadata sends each family's type, help and unit when it changes.
	HonorMetadata bool
	// ConvertClassicHistogramsToNHCB writes classic histograms as native
	// histograms with custom buckets.
	ConvertClassicHistogramsToNHCB bool
	// KeepIdentifyingResourceAttributes keeps service.name,
	// service.namespace and service.instance.id on target_info besides job
	// and instance.
	KeepIdentifyingResourceAttributes bool
	// StartTimestampZeroIngestion writes a zero sample at the start time of
	// each cumulative series ahead of its first sample after a (re)start.
	StartTimestampZeroIngestion bool
}

// The labels of scopes, as Alloy names them.
const (
	ScopeNameLabel    = "otel_scope_name"
	ScopeVersionLabel = "otel_scope_version"
)

// The OTLP resource attributes that make job and instance.
const (
	serviceName       = "service.name"
	serviceNamespace  = "service.namespace"
	serviceInstanceID = "service.instance.id"
)

// Converter converts batches of OTLP metrics. It remembers the series it
// has written, to drop data points older than the last one written and
// exemplars older than the last one, and the metadata it has sent. Its
// methods may be called concurrently; conversions are serialised.
type Converter struct {
	mu     sync.Mutex
	opts   Options
	series map[uint64][]*series
	meta   map[string]*family
	now    func() time.Time
}

// series is one output series as the converter remembers it.
type series struct {
	labels     labels.Labels
	lastNanos  int64 // time of the last data point written, Unix ns
	lastExNano int64 // time of the last exemplar written, Unix ns
	lastZeroST int64 // the last start time given a zero sample, Unix ms
	seen       time.Time
}

// family is one metric family's metadata as last sent.
type family struct {
	md    sample.Metadata
	dirty bool
	seen  time.Time
}

// New returns a converter with options opts.
func New(opts Options) *Converter {
	return &Converter{opts: opts, series: map[uint64][]*series{}, meta: map[string]*family{}, now: time.Now}
}

// SetOptions changes the options and forgets the metadata sent, so that
// the next batches send it again (the receivers may have changed).
func (c *Converter) SetOptions(opts Options) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts = opts
	clear(c.meta)
}

// GC forgets the series and metadata not seen for staleAfter. Nothing is
// written for them: Alloy writes no staleness markers either.
func (c *Converter) GC(staleAfter time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cutoff := c.now().Add(-staleAfter)
	for h, list := range c.series {
		list = slices.DeleteFunc(list, func(s *series) bool { return s.seen.Before(cutoff) })
		if len(list) == 0 {
			delete(c.series, h)
		} else {
			c.series[h] = list
		}
	}
	for name, f := range c.meta {
		if f.seen.Before(cutoff) {
			delete(c.meta, name)
		}
	}
}

// Len is the number of series remembered.
func (c *Converter) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.series {
		n += len(l)
	}
	return n
}

// run is the state of one conversion.
type run struct {
	*Converter
	out *sample.Batch
	now time.Time
	lb  *labels.Builder
}

// Convert appends the samples, exemplars and metadata of md to out.
func (c *Converter) Convert(md pmetric.Metrics, out *sample.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &run{Converter: c, out: out, now: c.now(), lb: labels.NewBuilder(labels.EmptyLabels())}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		r.resource(rms.At(i))
	}
}

// getSeries returns the remembered series with labels ls, or a new one,
// marked seen now.
func (r *run) getSeries(ls labels.Labels) *series {
	h := ls.Hash()
	for _, s := range r.series[h] {
		if labels.Equal(s.labels, ls) {
			s.seen = r.now
			return s
		}
	}
	s := &series{labels: ls, seen: r.now, lastNanos: math.MinInt64, lastExNano: math.MinInt64}
	r.series[h] = append(r.series[h], s)
	return s
}

// metadata records the metadata of a family and sends it if it changed
// and honor_metadata is set.
func (r *run) metadata(md sample.Metadata) {
	f := r.meta[md.Family]
	if f == nil {
		f = &family{}
		r.meta[md.Family] = f
	}
	f.seen = r.now
	if f.md != md {
		f.md, f.dirty = md, true
	}
	if r.opts.HonorMetadata && f.dirty {
		r.out.Metadata = append(r.out.Metadata, md)
		f.dirty = false
	}
}

// target is what a resource gives every series of it.
type target struct {
	job, instance string
	attrs         pcommon.Map
}

func (r *run) resource(rm pmetric.ResourceMetrics) {
	attrs := rm.Resource().Attributes()
	t := target{attrs: attrs}
	if name, ok := attrs.Get(serviceName); ok {
		t.job = name.AsString()
		if ns, ok := attrs.Get(serviceNamespace); ok {
			t.job = ns.AsString() + "/" + t.job
		}
	}
	if id, ok := attrs.Get(serviceInstanceID); ok {
		t.instance = id.AsString()
	}

	r.lb.Reset(labels.EmptyLabels())
	r.lb.Set(model.MetricNameLabel, "target_info")
	r.lb.Set(model.JobLabel, t.job)
	r.lb.Set(model.InstanceLabel, t.instance)
	attrs.Range(func(k string, v pcommon.Value) bool {
		if !r.opts.KeepIdentifyingResourceAttributes && (k == serviceName || k == serviceNamespace || k == serviceInstanceID) {
			return true
		}
		r.lb.Set(LabelName(k), v.AsString())
		return true
	})
	info := r.getSeries(r.lb.Labels())
	if r.opts.IncludeTargetInfo {
		r.out.Samples = append(r.out.Samples, sample.Sample{Labels: info.labels, T: r.now.UnixMilli(), V: 1})
		r.metadata(sample.Metadata{Family: "target_info", Type: model.MetricTypeGauge, Help: "Target metadata"})
	}

	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		r.scope(t, sms.At(i))
	}
}

// scope is what an instrumentation scope gives every series of it.
type scope struct {
	target
	name, version string
}

func (r *run) scope(t target, sm pmetric.ScopeMetrics) {
	s := scope{target: t, name: sm.Scope().Name(), version: sm.Scope().Version()}
	r.lb.Reset(labels.EmptyLabels())
	r.lb.Set(model.MetricNameLabel, "otel_scope_info")
	r.lb.Set(model.JobLabel, t.job)
	r.lb.Set(model.InstanceLabel, t.instance)
	r.lb.Set(ScopeNameLabel, s.name)
	r.lb.Set(ScopeVersionLabel, s.version)
	sm.Scope().Attributes().Range(func(k string, v pcommon.Value) bool {
		r.lb.Set(LabelName(k), v.AsString())
		return true
	})
	info := r.getSeries(r.lb.Labels())
	if r.opts.IncludeScopeInfo {
		r.out.Samples = append(r.out.Samples, sample.Sample{Labels: info.labels, T: r.now.UnixMilli(), V: 1})
		r.metadata(sample.Metadata{Family: "otel_scope_info", Type: model.MetricTypeGauge})
	}

	ms := sm.Metrics()
	for i := 0; i < ms.Len(); i++ {
		r.metric(s, ms.At(i))
	}
}

// attr is one attribute of a data point, resource attributes included.
type attr struct {
	k string
	v pcommon.Value
}

// pointAttrs lists the attributes of a data point in order; with
// resource_to_telemetry_conversion the resource's follow, a resource
// attribute replacing a point attribute of the same key in its place.
func (r *run) pointAttrs(s scope, m pcommon.Map) []attr {
	out := make([]attr, 0, m.Len())
	m.Range(func(k string, v pcommon.Value) bool {
		out = append(out, attr{k, v})
		return true
	})
	if r.opts.ResourceToTelemetryConversion {
		s.attrs.Range(func(k string, v pcommon.Value) bool {
			for i := range out {
				if out[i].k == k {
					out[i].v = v
					return true
				}
			}
			out = append(out, attr{k, v})
			return true
		})
	}
	return out
}

// seriesOf returns the series of metric name for a data point with
// attributes attrs, and extra labels (le, quantile) given as name, value
// pairs.
func (r *run) seriesOf(s scope, name string, attrs []attr, extra ...string) *series {
	r.lb.Reset(labels.EmptyLabels())
	r.lb.Set(model.MetricNameLabel, name)
	r.lb.Set(model.JobLabel, s.job)
	r.lb.Set(model.InstanceLabel, s.instance)
	for i := 0; i+1 < len(extra); i += 2 {
		r.lb.Set(extra[i], extra[i+1])
	}
	if r.opts.IncludeScopeLabels {
		r.lb.Set(ScopeNameLabel, s.name)
		r.lb.Set(ScopeVersionLabel, s.version)
	}
	for _, a := range attrs {
		r.lb.Set(LabelName(a.k), a.v.AsString())
	}
	return r.getSeries(r.lb.Labels())
}

// point is what every kind of data point has.
type point interface {
	Timestamp() pcommon.Timestamp
	StartTimestamp() pcommon.Timestamp
	Flags() pmetric.DataPointFlags
}

// write appends v at the time of p to ser, unless p is older than the last
// point written to it. A point without a recorded value is a staleness
// marker. It reports whether it wrote.
func (r *run) write(ser *series, p point, v float64, cumulative bool) bool {
	ns := int64(p.Timestamp())
	if ns < ser.lastNanos {
		return false
	}
	ser.lastNanos = ns
	if p.Flags().NoRecordedValue() {
		v = math.Float64frombits(value.StaleNaN)
	}
	t := ns / 1e6
	if cumulative {
		r.zero(ser, p, t, nil)
	}
	r.out.Samples = append(r.out.Samples, sample.Sample{Labels: ser.labels, T: t, V: v})
	return true
}

// zero writes the zero sample (or empty histogram shaped like h) at the
// start time of p when start_timestamp_zero_ingestion asks for it: once
// per start time, and only if the start time is before the sample and
// after what the series has already written.
func (r *run) zero(ser *series, p point, t int64, h *histogram.Histogram) {
	if !r.opts.StartTimestampZeroIngestion || p.StartTimestamp() == 0 {
		return
	}
	st := int64(p.StartTimestamp()) / 1e6
	if st >= t || st <= ser.lastZeroST {
		return
	}
	ser.lastZeroST = st
	if h == nil {
		r.out.Samples = append(r.out.Samples, sample.Sample{Labels: ser.labels, T: st, V: 0})
		return
	}
	r.out.Samples = append(r.out.Samples, sample.Sample{Labels: ser.labels, T: st, H: &histogram.Histogram{
		Schema: h.Schema, ZeroThreshold: h.ZeroThreshold, CustomValues: h.CustomValues,
	}})
}

// writeHistogram appends the native histogram h at the time of p to ser,
// unless p is older than the last point written to it.
func (r *run) writeHistogram(ser *series, p point, h *histogram.Histogram) bool {
	ns := int64(p.Timestamp())
	if ns < ser.lastNanos {
		return false
	}
	ser.lastNanos = ns
	t := ns / 1e6
	r.zero(ser, p, t, h)
	r.out.Samples = append(r.out.Samples, sample.Sample{Labels: ser.labels, T: t, H: h})
	return true
}

// exemplar appends e to ser unless it is older than the last exemplar of
// ser.
func (r *run) exemplar(ser *series, e pmetric.Exemplar) {
	ns := int64(e.Timestamp())
	if ns < ser.lastExNano {
		return
	}
	ser.lastExNano = ns
	b := labels.NewScratchBuilder(2)
	if id := e.TraceID(); !id.IsEmpty() {
		b.Add("trace_id", hex.EncodeToString(id[:]))
	}
	if id := e.SpanID(); !id.IsEmpty() {
		b.Add("span_id", hex.EncodeToString(id[:]))
	}
	b.Sort()
	var v float64
	switch e.ValueType() {
	case pmetric.ExemplarValueTypeDouble:
		v = e.DoubleValue()
	case pmetric.ExemplarValueTypeInt:
		v = float64(e.IntValue())
	}
	r.out.Exemplars = append(r.out.Exemplars, sample.Exemplar{Labels: ser.labels, Exemplar: exemplar.Exemplar{
		Labels: b.Labels(), Value: v, Ts: ns / 1e6, HasTs: true,
	}})
}

func (r *run) metric(s scope, m pmetric.Metric) {
	name := MetricName(m, r.opts.AddMetricSuffixes)
	if name == "" {
		// Alloy would write series without a name, which a Prometheus
		// receiver refuses with the rest of their request: shoal drops
		// them instead.
		return
	}
	md := sample.Metadata{Family: name, Unit: m.Unit(), Help: m.Description()}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		md.Type = model.MetricTypeGauge
		r.numbers(s, name, m.Gauge().DataPoints(), false)
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if sum.AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			return // delta sums are dropped, as in Alloy
		}
		md.Type = model.MetricTypeGauge
		if sum.IsMonotonic() {
			md.Type = model.MetricTypeCounter
		}
		r.numbers(s, name, sum.DataPoints(), sum.IsMonotonic())
	case pmetric.MetricTypeHistogram:
		if m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			return
		}
		md.Type = model.MetricTypeHistogram
		r.histograms(s, name, m.Histogram().DataPoints())
	case pmetric.MetricTypeExponentialHistogram:
		if m.ExponentialHistogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			return
		}
		md.Type = model.MetricTypeHistogram
		r.exponentials(s, name, m.ExponentialHistogram().DataPoints())
	case pmetric.MetricTypeSummary:
		md.Type = model.MetricTypeSummary
		r.summaries(s, name, m.Summary().DataPoints())
	default:
		return
	}
	r.metadata(md)
}

func numberValue(p pmetric.NumberDataPoint) float64 {
	switch p.ValueType() {
	case pmetric.NumberDataPointValueTypeDouble:
		return p.DoubleValue()
	case pmetric.NumberDataPointValueTypeInt:
		return float64(p.IntValue())
	}
	return 0
}

// numbers writes gauges and sums; a counter's exemplars go with it.
func (r *run) numbers(s scope, name string, ps pmetric.NumberDataPointSlice, counter bool) {
	for i := 0; i < ps.Len(); i++ {
		p := ps.At(i)
		ser := r.seriesOf(s, name, r.pointAttrs(s, p.Attributes()))
		r.write(ser, p, numberValue(p), counter)
		if counter {
			for j := 0; j < p.Exemplars().Len(); j++ {
				r.exemplar(ser, p.Exemplars().At(j))
			}
		}
	}
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// histograms writes classic histograms as _sum, _count and cumulative
// _bucket series (or as native histograms with custom buckets). Exemplars,
// in order of value, go to the first bucket whose bound is above them.
func (r *run) histograms(s scope, name string, ps pmetric.HistogramDataPointSlice) {
	for i := 0; i < ps.Len(); i++ {
		p := ps.At(i)
		attrs := r.pointAttrs(s, p.Attributes())
		if r.opts.ConvertClassicHistogramsToNHCB {
			ser := r.seriesOf(s, name, attrs)
			h, ok := customBuckets(p)
			if !ok {
				continue
			}
			if r.writeHistogram(ser, p, h) {
				for j := 0; j < p.Exemplars().Len(); j++ {
					r.exemplar(ser, p.Exemplars().At(j))
				}
			}
			continue
		}
		if p.HasSum() {
			r.write(r.seriesOf(s, name+"_sum", attrs), p, p.Sum(), true)
		}
		r.write(r.seriesOf(s, name+"_count", attrs), p, float64(p.Count()), true)

		bounds, counts := p.ExplicitBounds(), p.BucketCounts()
		n := min(bounds.Len(), counts.Len())
		// Cumulative counts by bound, over the bounds in ascending order.
		cum := make(map[float64]uint64, n)
		sorted := make([]float64, 0, n)
		for j := 0; j < n; j++ {
			cum[bounds.At(j)] = counts.At(j)
			sorted = append(sorted, bounds.At(j))
		}
		sort.Float64s(sorted)
		var total uint64
		for _, b := range sorted {
			total += cum[b]
			cum[b] = total
		}
		exs := make([]pmetric.Exemplar, p.Exemplars().Len())
		for j := range exs {
			exs[j] = p.Exemplars().At(j)
		}
		sort.Slice(exs, func(a, b int) bool { return exs[a].DoubleValue() < exs[b].DoubleValue() })
		next := 0
		for j := 0; j < n; j++ {
			bound := bounds.At(j)
			ser := r.seriesOf(s, name+"_bucket", attrs, model.BucketLabel, formatFloat(bound))
			r.write(ser, p, float64(cum[bound]), true)
			for ; next < len(exs) && exs[next].DoubleValue() < bound; next++ {
				r.exemplar(ser, exs[next])
			}
		}
		inf := r.seriesOf(s, name+"_bucket", attrs, model.BucketLabel, "+Inf")
		r.write(inf, p, float64(p.Count()), true)
		for ; next < len(exs); next++ {
			r.exemplar(inf, exs[next])
		}
	}
}

// summaries writes _sum, _count and one series per quantile.
func (r *run) summaries(s scope, name string, ps pmetric.SummaryDataPointSlice) {
	for i := 0; i < ps.Len(); i++ {
		p := ps.At(i)
		attrs := r.pointAttrs(s, p.Attributes())
		r.write(r.seriesOf(s, name+"_sum", attrs), p, p.Sum(), true)
		r.write(r.seriesOf(s, name+"_count", attrs), p, float64(p.Count()), true)
		qs := p.QuantileValues()
		for j := 0; j < qs.Len(); j++ {
			q := qs.At(j)
			r.write(r.seriesOf(s, name, attrs, model.QuantileLabel, formatFloat(q.Quantile())), p, q.Value(), false)
		}
	}
}

// exponentials writes exponential histograms as native histograms.
func (r *run) exponentials(s scope, name string, ps pmetric.ExponentialHistogramDataPointSlice) {
	for i := 0; i < ps.Len(); i++ {
		p := ps.At(i)
		ser := r.seriesOf(s, name, r.pointAttrs(s, p.Attributes()))
		if int64(p.Timestamp()) < ser.lastNanos {
			continue
		}
		h, ok := Native(p)
		if !ok {
			continue
		}
		if r.writeHistogram(ser, p, h) {
			for j := 0; j < p.Exemplars().Len(); j++ {
				r.exemplar(ser, p.Exemplars().At(j))
			}
		}
	}
}
