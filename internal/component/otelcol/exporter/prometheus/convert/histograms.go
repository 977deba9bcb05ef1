package convert

import (
	"math"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// zeroThreshold is the width of the zero bucket of every native histogram
// made from an exponential one: Alloy ignores OTLP's zero_threshold.
const zeroThreshold = 1e-128

// bucketRun collects bucket counts by index into the spans and deltas of
// a native histogram: runs of buckets separated by at most two empty ones
// share a span, as client_golang lays them out.
type bucketRun struct {
	spans  []histogram.Span
	deltas []int64
	last   int32 // index of the last bucket added
	prev   int64 // its count
}

func (b *bucketRun) add(idx int32, count int64) {
	if count == 0 {
		return
	}
	switch gap := idx - b.last - 1; {
	case len(b.spans) == 0:
		b.spans = append(b.spans, histogram.Span{Offset: idx})
	case gap > 2:
		b.spans = append(b.spans, histogram.Span{Offset: gap})
	default:
		for ; gap > 0; gap-- {
			b.spans[len(b.spans)-1].Length++
			b.deltas = append(b.deltas, -b.prev)
			b.prev = 0
		}
	}
	b.spans[len(b.spans)-1].Length++
	b.deltas = append(b.deltas, count-b.prev)
	b.prev, b.last = count, idx
}

// exponentialBuckets lays out OTLP's dense buckets, reduced by scaleDown
// steps of schema. OTLP's bucket i covers (base^i, base^(i+1)], Prometheus'
// (base^(i-1), base^i], hence the +1.
func exponentialBuckets(bs pmetric.ExponentialHistogramDataPointBuckets, scaleDown int32) ([]histogram.Span, []int64) {
	var run bucketRun
	counts := bs.BucketCounts()
	var idx int32
	var acc int64
	for i := 0; i < counts.Len(); i++ {
		j := (bs.Offset()+int32(i))>>scaleDown + 1
		if i > 0 && j != idx {
			run.add(idx, acc)
			acc = 0
		}
		idx = j
		acc += int64(counts.At(i))
	}
	if counts.Len() > 0 {
		run.add(idx, acc)
	}
	return run.spans, run.deltas
}

// Native is the native histogram of an exponential histogram data point.
// Schemas finer than 8 are reduced to 8; one coarser than -4 cannot be
// represented, and ok is false.
func Native(p pmetric.ExponentialHistogramDataPoint) (h *histogram.Histogram, ok bool) {
	scale := p.Scale()
	if scale < -4 {
		return nil, false
	}
	var down int32
	if scale > 8 {
		down, scale = scale-8, 8
	}
	h = &histogram.Histogram{Schema: scale, ZeroCount: p.ZeroCount(), ZeroThreshold: zeroThreshold}
	h.PositiveSpans, h.PositiveBuckets = exponentialBuckets(p.Positive(), down)
	h.NegativeSpans, h.NegativeBuckets = exponentialBuckets(p.Negative(), down)
	setSumCount(h, p.Flags(), p.HasSum(), p.Sum(), p.Count())
	return h, true
}

func setSumCount(h *histogram.Histogram, f pmetric.DataPointFlags, hasSum bool, sum float64, count uint64) {
	if f.NoRecordedValue() {
		h.Sum = math.Float64frombits(value.StaleNaN)
		h.Count = value.StaleNaN
		return
	}
	if hasSum {
		h.Sum = sum
	}
	h.Count = count
}

// customBuckets is the native histogram with custom buckets of a classic
// histogram data point; ok is false unless it has one bucket count more
// than bounds.
func customBuckets(p pmetric.HistogramDataPoint) (h *histogram.Histogram, ok bool) {
	bounds, counts := p.ExplicitBounds(), p.BucketCounts()
	if bounds.Len()+1 != counts.Len() {
		return nil, false
	}
	var run bucketRun
	for i := 0; i < counts.Len(); i++ {
		run.add(int32(i), int64(counts.At(i)))
	}
	h = &histogram.Histogram{
		Schema:          histogram.CustomBucketsSchema,
		PositiveSpans:   run.spans,
		PositiveBuckets: run.deltas,
		CustomValues:    bounds.AsRaw(),
	}
	setSumCount(h, p.Flags(), p.HasSum(), p.Sum(), p.Count())
	return h, true
}
