package remotewrite

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// This file hand-writes remote write 2.0 (io.prometheus.write.v2.Request,
// prompb/io/prometheus/write/v2/types.proto): a request holds a symbol
// table (field 4, symbols[0] the empty string) and TimeSeries (field 5)
// whose labels, exemplar labels, HELP and UNIT are references into it.
// The Histogram message has the same field numbers in both versions, so
// the histogram bodies kept in the queue (AppendHistogram) are copied as
// they are; start_timestamp (17) is added when known. Exemplars are kept in
// the queue as 1.0 Exemplar bodies and are re-encoded with references.

// ProtoV1 and ProtoV2 are the values of an endpoint's protobuf_message.
const (
	ProtoV1 = "prometheus.WriteRequest"
	ProtoV2 = "io.prometheus.write.v2.Request"
)

// metricTypeEnum is the MetricType enum value of a metric type, the same in
// 1.0's MetricMetadata and 2.0's Metadata.
func metricTypeEnum(t model.MetricType) uint64 {
	switch t {
	case model.MetricTypeCounter:
		return 1
	case model.MetricTypeGauge:
		return 2
	case model.MetricTypeHistogram:
		return 3
	case model.MetricTypeGaugeHistogram:
		return 4
	case model.MetricTypeSummary:
		return 5
	case model.MetricTypeInfo:
		return 6
	case model.MetricTypeStateset:
		return 7
	}
	return 0
}

// RequestWriterV2 builds one 2.0 Request at a time into reused buffers.
type RequestWriterV2 struct {
	syms    map[string]uint32
	symBuf  []byte // the encoded symbols field
	series  []byte // the encoded timeseries fields
	ts      []byte // scratch: one TimeSeries body
	refs    []uint32
	out     []byte
	exLabel labels.ScratchBuilder
}

// Reset starts a new, empty request.
func (w *RequestWriterV2) Reset() {
	if w.syms == nil {
		w.syms = make(map[string]uint32, 256)
	}
	clear(w.syms)
	w.symBuf = w.symBuf[:0]
	w.series = w.series[:0]
	w.ref("") // symbols[0] is the empty string.
}

// ref is s's index in the symbol table, adding it when new.
func (w *RequestWriterV2) ref(s string) uint32 {
	if r, ok := w.syms[s]; ok {
		return r
	}
	r := uint32(len(w.syms))
	w.syms[s] = r
	w.symBuf = appendStringField(w.symBuf, 4, s)
	return r
}

// Bytes is the encoded request; valid until the next Reset.
func (w *RequestWriterV2) Bytes() []byte {
	w.out = append(append(w.out[:0], w.symBuf...), w.series...)
	return w.out
}

// appendPackedRefs appends refs as a packed repeated uint32 field.
func appendPackedRefs(dst []byte, field int, refs []uint32) []byte {
	if len(refs) == 0 {
		return dst
	}
	n := 0
	for _, r := range refs {
		n += sizeVarint(uint64(r))
	}
	dst = append(dst, tag(field, wireLen))
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, r := range refs {
		dst = binary.AppendUvarint(dst, uint64(r))
	}
	return dst
}

// labelRefs interns ls's names and values, in ls's (sorted) order.
func (w *RequestWriterV2) labelRefs(ls labels.Labels) []uint32 {
	w.refs = w.refs[:0]
	ls.Range(func(l labels.Label) {
		w.refs = append(w.refs, w.ref(l.Name), w.ref(l.Value))
	})
	return w.refs
}

// AddSeries appends ls's points (float samples and histogram bodies,
// each kind in the given order), its exemplars (1.0 Exemplar bodies, as
// AppendExemplar writes them) and its metadata, when md is not nil. The
// spec forbids a TimeSeries with both samples and histograms, and one with
// neither: floats and histograms of one series go in two TimeSeries (the
// exemplars and metadata with the first), and a series with exemplars
// alone is left out (it reports false). An exemplar without a timestamp
// (which the spec requires) takes its series' last one; one whose body
// does not decode is left out.
func (w *RequestWriterV2) AddSeries(ls labels.Labels, points []Point, exemplars [][]byte, md *sample.Metadata) bool {
	floats, hists := false, false
	var lastT int64
	for _, p := range points {
		if p.Hist == nil {
			floats = true
		} else {
			hists = true
		}
		lastT = p.T
	}
	if !floats && !hists {
		return false
	}
	w.labelRefs(ls)
	labelsField := appendPackedRefs(w.ts[:0], 1, w.refs)
	b := labelsField
	if floats {
		b = appendSamplesV2(b, points)
	} else {
		b = appendHistogramsV2(b, points)
	}
	for _, e := range exemplars {
		ex, err := decodeExemplarV1(&w.exLabel, e)
		if err != nil {
			continue
		}
		if ex.t == 0 {
			ex.t = lastT
		}
		refs := w.labelRefs(ex.ls)
		var body [32]byte
		eb := appendPackedRefs(body[:0], 1, refs)
		eb = appendDoubleField(eb, 2, ex.v)
		if ex.t != 0 {
			eb = appendVarintField(eb, 3, uint64(ex.t))
		}
		b = appendLenField(b, 4, eb)
	}
	b = w.appendMetadata(b, md)
	w.series = appendLenField(w.series, 5, b)
	if floats && hists {
		w.labelRefs(ls)
		b = appendPackedRefs(b[:0], 1, w.refs)
		b = appendHistogramsV2(b, points)
		b = w.appendMetadata(b, md)
		w.series = appendLenField(w.series, 5, b)
	}
	w.ts = b
	return true
}

// appendSamplesV2 appends the float points as Sample messages (value 1,
// timestamp 2, start_timestamp 3).
func appendSamplesV2(b []byte, points []Point) []byte {
	for _, p := range points {
		if p.Hist != nil {
			continue
		}
		n := 9
		if p.T != 0 {
			n += 1 + sizeVarint(uint64(p.T))
		}
		if p.ST != 0 {
			n += 1 + sizeVarint(uint64(p.ST))
		}
		b = append(b, tag(2, wireLen), byte(n)) // n < 0x80
		b = appendDoubleField(b, 1, p.V)
		if p.T != 0 {
			b = appendVarintField(b, 2, uint64(p.T))
		}
		if p.ST != 0 {
			b = appendVarintField(b, 3, uint64(p.ST))
		}
	}
	return b
}

// appendHistogramsV2 appends the histogram points as Histogram messages:
// the body kept in the queue, timestamp (15) and start_timestamp (17).
func appendHistogramsV2(b []byte, points []Point) []byte {
	for _, p := range points {
		if p.Hist == nil {
			continue
		}
		n := len(p.Hist)
		if p.T != 0 {
			n += 1 + sizeVarint(uint64(p.T))
		}
		if p.ST != 0 {
			n += 2 + sizeVarint(uint64(p.ST))
		}
		b = append(b, tag(3, wireLen))
		b = binary.AppendUvarint(b, uint64(n))
		b = append(b, p.Hist...)
		if p.T != 0 {
			b = appendVarintField(b, 15, uint64(p.T))
		}
		if p.ST != 0 {
			// Field 17 takes a two-byte key.
			b = append(b, byte(17<<3|wireVarint)|0x80, byte((17<<3)>>7))
			b = binary.AppendUvarint(b, uint64(p.ST))
		}
	}
	return b
}

// appendMetadata appends md as a TimeSeries' metadata field (type 1,
// help_ref 3, unit_ref 4), if there is any.
func (w *RequestWriterV2) appendMetadata(b []byte, md *sample.Metadata) []byte {
	if md == nil {
		return b
	}
	var body [24]byte
	mb := body[:0]
	if t := metricTypeEnum(md.Type); t != 0 {
		mb = appendVarintField(mb, 1, t)
	}
	if md.Help != "" {
		mb = appendVarintField(mb, 3, uint64(w.ref(md.Help)))
	}
	if md.Unit != "" {
		mb = appendVarintField(mb, 4, uint64(w.ref(md.Unit)))
	}
	if len(mb) == 0 {
		return b
	}
	return appendLenField(b, 5, mb)
}

// exemplarV1 is a decoded 1.0 Exemplar body.
type exemplarV1 struct {
	ls labels.Labels
	v  float64
	t  int64
}

var errBadExemplar = errors.New("malformed exemplar")

// decodeExemplarV1 decodes an Exemplar body as AppendExemplar writes it:
// Label messages (field 1), value (2), timestamp (3).
func decodeExemplarV1(sb *labels.ScratchBuilder, b []byte) (exemplarV1, error) {
	var ex exemplarV1
	sb.Reset()
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return ex, errBadExemplar
		}
		b = b[n:]
		field, wire := key>>3, key&7
		switch {
		case field == 1 && wire == wireLen:
			msg, rest, err := lenPrefixed(b)
			if err != nil {
				return ex, err
			}
			b = rest
			var name, value string
			for len(msg) > 0 {
				k, n := binary.Uvarint(msg)
				if n <= 0 || k&7 != wireLen {
					return ex, errBadExemplar
				}
				s, r, err := lenPrefixed(msg[n:])
				if err != nil {
					return ex, err
				}
				msg = r
				switch k >> 3 {
				case 1:
					name = string(s)
				case 2:
					value = string(s)
				}
			}
			sb.Add(name, value)
		case field == 2 && wire == wireI64:
			if len(b) < 8 {
				return ex, errBadExemplar
			}
			ex.v = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		case field == 3 && wire == wireVarint:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return ex, errBadExemplar
			}
			ex.t = int64(v)
			b = b[n:]
		default:
			return ex, errBadExemplar
		}
	}
	sb.Sort()
	ex.ls = sb.Labels()
	return ex, nil
}

func lenPrefixed(b []byte) (msg, rest []byte, err error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return nil, nil, errBadExemplar
	}
	return b[n : n+int(l)], b[n+int(l):], nil
}

// AppendMetadataRequest appends a 1.0 WriteRequest holding only metadata
// (field 3, MetricMetadata: type 1, metric_family_name 2, help 4, unit 5).
func AppendMetadataRequest(dst []byte, mds []sample.Metadata) []byte {
	var body []byte
	for _, md := range mds {
		body = body[:0]
		if t := metricTypeEnum(md.Type); t != 0 {
			body = appendVarintField(body, 1, t)
		}
		body = appendStringField(body, 2, md.Family)
		if md.Help != "" {
			body = appendStringField(body, 4, md.Help)
		}
		if md.Unit != "" {
			body = appendStringField(body, 5, md.Unit)
		}
		dst = appendLenField(dst, 3, body)
	}
	return dst
}
