package remotewrite

import (
	"encoding/binary"
	"math"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
)

// This file hand-writes the protobuf wire format of remote write 1.0
// (prometheus/prompb: WriteRequest, TimeSeries, Label, Sample, Exemplar,
// Histogram, BucketSpan). Messages are appended to caller-owned buffers so
// that the send path allocates nothing per sample. Nested messages are
// length-prefixed, so each writer computes the size of what it nests first.

// Protobuf wire types.
const (
	wireVarint = 0
	wireI64    = 1
	wireLen    = 2
)

func tag(field, wire int) byte { return byte(field<<3 | wire) }

func sizeVarint(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func zigzag64(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }
func zigzag32(v int32) uint64 { return uint64(uint32(v<<1) ^ uint32(v>>31)) }

func appendLenField(dst []byte, field int, b []byte) []byte {
	dst = append(dst, tag(field, wireLen))
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendStringField(dst []byte, field int, s string) []byte {
	dst = append(dst, tag(field, wireLen))
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendDoubleField(dst []byte, field int, v float64) []byte {
	dst = append(dst, tag(field, wireI64))
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}

func appendVarintField(dst []byte, field int, v uint64) []byte {
	dst = append(dst, tag(field, wireVarint))
	return binary.AppendUvarint(dst, v)
}

// AppendLabels appends ls as the repeated `labels` field (number 1) of a
// TimeSeries or Exemplar message. The result can be cached per series and
// copied into every request that carries the series.
func AppendLabels(dst []byte, ls labels.Labels) []byte {
	ls.Range(func(l labels.Label) {
		b := dst
		nn, nv := len(l.Name), len(l.Value)
		if n := 4 + nn + nv; n < 0x80 {
			// The common case, every length in one byte: the sender
			// encodes each series' labels into every request.
			b = append(b, tag(1, wireLen), byte(n), tag(1, wireLen), byte(nn))
			b = append(b, l.Name...)
			b = append(b, tag(2, wireLen), byte(nv))
			dst = append(b, l.Value...)
			return
		}
		n := 1 + sizeVarint(uint64(nn)) + nn + 1 + sizeVarint(uint64(nv)) + nv
		b = append(b, tag(1, wireLen))
		b = binary.AppendUvarint(b, uint64(n))
		b = appendStringField(b, 1, l.Name)
		dst = appendStringField(b, 2, l.Value)
	})
	return dst
}

// AppendExemplar appends the body of an Exemplar message.
func AppendExemplar(dst []byte, e exemplar.Exemplar) []byte {
	dst = AppendLabels(dst, e.Labels)
	dst = appendDoubleField(dst, 2, e.Value)
	if e.HasTs && e.Ts != 0 {
		dst = appendVarintField(dst, 3, uint64(e.Ts))
	}
	return dst
}

func appendSpans(dst []byte, field int, spans []histogram.Span) []byte {
	for _, s := range spans {
		n := 0
		if s.Offset != 0 {
			n += 1 + sizeVarint(zigzag32(s.Offset))
		}
		if s.Length != 0 {
			n += 1 + sizeVarint(uint64(s.Length))
		}
		dst = append(dst, tag(field, wireLen))
		dst = binary.AppendUvarint(dst, uint64(n))
		if s.Offset != 0 {
			dst = appendVarintField(dst, 1, zigzag32(s.Offset))
		}
		if s.Length != 0 {
			dst = appendVarintField(dst, 2, uint64(s.Length))
		}
	}
	return dst
}

// appendPackedSint64 appends a packed repeated sint64 field.
func appendPackedSint64(dst []byte, field int, vs []int64) []byte {
	if len(vs) == 0 {
		return dst
	}
	n := 0
	for _, v := range vs {
		n += sizeVarint(zigzag64(v))
	}
	dst = append(dst, tag(field, wireLen))
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, v := range vs {
		dst = binary.AppendUvarint(dst, zigzag64(v))
	}
	return dst
}

// appendPackedDouble appends a packed repeated double field.
func appendPackedDouble(dst []byte, field int, vs []float64) []byte {
	if len(vs) == 0 {
		return dst
	}
	dst = append(dst, tag(field, wireLen))
	dst = binary.AppendUvarint(dst, uint64(8*len(vs)))
	for _, v := range vs {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst
}

// AppendHistogram appends the body of a Histogram message for an integer
// native histogram, without its timestamp (field 15), which the request
// writer adds.
func AppendHistogram(dst []byte, h *histogram.Histogram) []byte {
	dst = appendVarintField(dst, 1, h.Count)
	dst = appendDoubleField(dst, 3, h.Sum)
	if h.Schema != 0 {
		dst = appendVarintField(dst, 4, zigzag32(h.Schema))
	}
	dst = appendDoubleField(dst, 5, h.ZeroThreshold)
	dst = appendVarintField(dst, 6, h.ZeroCount)
	dst = appendSpans(dst, 8, h.NegativeSpans)
	dst = appendPackedSint64(dst, 9, h.NegativeBuckets)
	dst = appendSpans(dst, 11, h.PositiveSpans)
	dst = appendPackedSint64(dst, 12, h.PositiveBuckets)
	if h.CounterResetHint != 0 {
		dst = appendVarintField(dst, 14, uint64(h.CounterResetHint))
	}
	dst = appendPackedDouble(dst, 16, h.CustomValues)
	return dst
}

// AppendFloatHistogram appends the body of a Histogram message for a float
// native histogram, without its timestamp.
func AppendFloatHistogram(dst []byte, h *histogram.FloatHistogram) []byte {
	dst = appendDoubleField(dst, 2, h.Count)
	dst = appendDoubleField(dst, 3, h.Sum)
	if h.Schema != 0 {
		dst = appendVarintField(dst, 4, zigzag32(h.Schema))
	}
	dst = appendDoubleField(dst, 5, h.ZeroThreshold)
	dst = appendDoubleField(dst, 7, h.ZeroCount)
	dst = appendSpans(dst, 8, h.NegativeSpans)
	dst = appendPackedDouble(dst, 10, h.NegativeBuckets)
	dst = appendSpans(dst, 11, h.PositiveSpans)
	dst = appendPackedDouble(dst, 13, h.PositiveBuckets)
	if h.CounterResetHint != 0 {
		dst = appendVarintField(dst, 14, uint64(h.CounterResetHint))
	}
	dst = appendPackedDouble(dst, 16, h.CustomValues)
	return dst
}

// Point is one sample of a series in a request: a float value, or a
// histogram whose Histogram message body (from AppendHistogram or
// AppendFloatHistogram) is Hist. ST is its start timestamp, sent by
// remote write 2.0 when not 0 (1.0 has no field for it).
type Point struct {
	T    int64
	V    float64
	Hist []byte
	ST   int64
}

// RequestWriter builds one WriteRequest at a time into a reused buffer.
type RequestWriter struct {
	buf []byte
}

// Reset starts a new, empty request.
func (w *RequestWriter) Reset() { w.buf = w.buf[:0] }

// Bytes is the encoded request; it is valid until the next Reset.
func (w *RequestWriter) Bytes() []byte { return w.buf }

func sampleSize(t int64) int {
	n := 9 // value
	if t != 0 {
		n += 1 + sizeVarint(uint64(t))
	}
	return n
}

func histSize(p Point) int {
	n := len(p.Hist)
	if p.T != 0 {
		n += 1 + sizeVarint(uint64(p.T))
	}
	return n
}

// AddSeries appends one TimeSeries: labelsProto from AppendLabels, its points
// (float and histogram ones, each kind kept in the given order) and
// exemplars (bodies from AppendExemplar).
func (w *RequestWriter) AddSeries(labelsProto []byte, points []Point, exemplars [][]byte) {
	n := len(labelsProto) + pointsSize(points, exemplars)
	b := append(w.buf, tag(1, wireLen))
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, labelsProto...)
	w.buf = appendPoints(b, points, exemplars)
}

// labelsGuess is what AddSeriesLabels expects a series' labels to take
// when it reserves room for the length of the TimeSeries before writing
// them; a wrong guess costs moving the labels by a byte or two.
const labelsGuess = 96

// AddSeriesLabels is AddSeries with ls encoded as it is written, for a
// sender that keeps the labels rather than a second, encoded copy.
func (w *RequestWriter) AddSeriesLabels(ls labels.Labels, points []Point, exemplars [][]byte) {
	ps := pointsSize(points, exemplars)
	// Write the labels first and the length in front of them after, so
	// that they are walked once.
	guess := sizeVarint(uint64(ps + labelsGuess))
	b := append(w.buf, tag(1, wireLen))
	at := len(b)
	b = append(b, make([]byte, guess)...)
	b = AppendLabels(b, ls)
	lbl := len(b) - at - guess
	n := uint64(lbl + ps)
	if d := sizeVarint(n) - guess; d != 0 {
		if d > 0 {
			b = append(b, make([]byte, d)...)
		}
		copy(b[at+guess+d:], b[at+guess:at+guess+lbl])
		b = b[:at+guess+d+lbl]
	}
	binary.PutUvarint(b[at:], n)
	w.buf = appendPoints(b, points, exemplars)
}

// pointsSize is the encoded size of a TimeSeries' samples, histograms and
// exemplars.
func pointsSize(points []Point, exemplars [][]byte) int {
	n := 0
	for _, p := range points {
		var m int
		if p.Hist == nil {
			m = sampleSize(p.T)
		} else {
			m = histSize(p)
		}
		n += 1 + sizeVarint(uint64(m)) + m
	}
	for _, e := range exemplars {
		n += 1 + sizeVarint(uint64(len(e))) + len(e)
	}
	return n
}

// appendPoints appends a TimeSeries' samples, exemplars and histograms.
func appendPoints(b []byte, points []Point, exemplars [][]byte) []byte {
	for _, p := range points {
		if p.Hist != nil {
			continue
		}
		b = append(b, tag(2, wireLen))
		b = binary.AppendUvarint(b, uint64(sampleSize(p.T)))
		b = appendDoubleField(b, 1, p.V)
		if p.T != 0 {
			b = appendVarintField(b, 2, uint64(p.T))
		}
	}
	for _, e := range exemplars {
		b = appendLenField(b, 3, e)
	}
	for _, p := range points {
		if p.Hist == nil {
			continue
		}
		b = append(b, tag(4, wireLen))
		b = binary.AppendUvarint(b, uint64(histSize(p)))
		b = append(b, p.Hist...)
		if p.T != 0 {
			b = appendVarintField(b, 15, uint64(p.T))
		}
	}
	return b
}
