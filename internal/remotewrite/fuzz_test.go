package remotewrite

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/sample"
)

// FuzzRecord feeds arbitrary bytes to the frame and record decoders: they
// must reject or accept, never panic, and an accepted samples record must
// decode the same way twice.
func FuzzRecord(f *testing.F) {
	enc := &recordEncoder{}
	b := makeBatches(2, 3, 1000)[0]
	b.Samples = append(b.Samples, sample.Sample{Labels: labels.FromStrings("__name__", "h"), T: 5, H: &histogram.Histogram{Count: 1, PositiveSpans: []histogram.Span{{Length: 1}}, PositiveBuckets: []int64{1}}})
	b.Exemplars = []sample.Exemplar{{Labels: labels.FromStrings("__name__", "h"), Exemplar: exemplar.Exemplar{Value: 1}}}
	rec, _ := enc.encodeBatch(nil, b, nil)
	f.Add(rec)
	// Start timestamps on a float and a histogram.
	b.Samples[0].ST = 500
	b.Samples[len(b.Samples)-1].ST = -3
	rec, _ = (&recordEncoder{}).encodeBatch(nil, b, nil)
	f.Add(rec)
	f.Add(appendSeal(nil, sealInfo{samples: 3, minT: 1, maxT: 9}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for len(data) > 0 {
			p, n, err := parseFrame(data)
			if err != nil {
				// A raw payload too: the decoder must survive it.
				_ = walkRecord(data, nil)
				return
			}
			var first, second int
			err1 := walkRecord(p, func(uint64, entry, recItem) { first++ })
			err2 := walkRecord(p, func(uint64, entry, recItem) { second++ })
			if (err1 == nil) != (err2 == nil) || first != second {
				t.Fatalf("decoding is not deterministic")
			}
			var sb labels.ScratchBuilder
			er := newEntryReader(p)
			for {
				_, body, ok := er.next()
				if !ok {
					break
				}
				if e, err := parseEntry(body); err == nil && e.def {
					_, _ = decodeLabels(&sb, e)
				}
			}
			data = data[n:]
		}
	})
}

// FuzzEncode builds a request from fuzz input with the hand-written encoder
// and checks that prompb decodes exactly what went in.
func FuzzEncode(f *testing.F) {
	f.Add([]byte("job\x00node\x00__name__\x00up"), int64(1700000000000), 1.5, int64(-3))
	f.Add([]byte{}, int64(0), 0.0, int64(0))
	f.Add([]byte("a\x00\x00b\x00c"), int64(-1), math.Inf(-1), int64(1<<40))
	f.Fuzz(func(t *testing.T, lraw []byte, ts int64, v float64, delta int64) {
		parts := bytes.Split(lraw, []byte{0})
		var sb labels.ScratchBuilder
		for i := 0; i+1 < len(parts); i += 2 {
			if len(parts[i]) == 0 {
				continue
			}
			sb.Add(string(parts[i]), string(parts[i+1]))
		}
		sb.Sort()
		ls := sb.Labels()
		h := &histogram.Histogram{
			Count: uint64(delta), ZeroCount: uint64(ts), Sum: v, Schema: int32(delta % 9), ZeroThreshold: math.Abs(v),
			PositiveSpans: []histogram.Span{{Offset: int32(delta), Length: 2}}, PositiveBuckets: []int64{delta, -delta},
			NegativeSpans: []histogram.Span{{Offset: -1, Length: 1}}, NegativeBuckets: []int64{ts},
			CounterResetHint: histogram.CounterResetHint(uint8(delta) % 4),
		}
		fh := &histogram.FloatHistogram{Count: v, Sum: -v, Schema: -2, PositiveSpans: []histogram.Span{{Length: 1}}, PositiveBuckets: []float64{v}}
		ex := exemplar.Exemplar{Labels: ls, Value: v, Ts: ts, HasTs: true}

		var w RequestWriter
		lp := AppendLabels(nil, ls)
		points := []Point{{T: ts, V: v}, {T: ts + delta, V: -v}, {T: ts, Hist: AppendHistogram(nil, h)}, {T: ts + 1, Hist: AppendFloatHistogram(nil, fh)}}
		w.AddSeries(lp, points, [][]byte{AppendExemplar(nil, ex)})
		w.AddSeries(lp, nil, nil)
		// Encoding the labels on the fly must write the same bytes.
		var wl RequestWriter
		wl.AddSeriesLabels(ls, points, [][]byte{AppendExemplar(nil, ex)})
		wl.AddSeriesLabels(ls, nil, nil)
		if !bytes.Equal(wl.Bytes(), w.Bytes()) {
			t.Fatalf("AddSeriesLabels wrote %x, AddSeries %x", wl.Bytes(), w.Bytes())
		}
		var req prompb.WriteRequest
		if err := req.Unmarshal(w.Bytes()); err != nil {
			t.Fatalf("prompb cannot decode: %v", err)
		}
		if len(req.Timeseries) != 2 {
			t.Fatalf("%d series", len(req.Timeseries))
		}
		s := req.Timeseries[0]
		var got labels.ScratchBuilder
		for _, l := range s.Labels {
			got.Add(l.Name, l.Value)
		}
		if !labels.Equal(got.Labels(), ls) {
			t.Fatalf("labels %v, want %v", got.Labels(), ls)
		}
		if len(s.Samples) != 2 || s.Samples[0].Timestamp != ts || !sameFloat(s.Samples[0].Value, v) ||
			s.Samples[1].Timestamp != ts+delta || !sameFloat(s.Samples[1].Value, -v) {
			t.Fatalf("samples %v", s.Samples)
		}
		if len(s.Histograms) != 2 {
			t.Fatalf("%d histograms", len(s.Histograms))
		}
		gh := s.Histograms[0].ToIntHistogram()
		if s.Histograms[0].Timestamp != ts || !gh.Equals(h) {
			t.Fatalf("histogram %v, want %v", gh, h)
		}
		gfh := s.Histograms[1].ToFloatHistogram()
		if s.Histograms[1].Timestamp != ts+1 || !sameFloat(gfh.Count, fh.Count) || !sameFloat(gfh.Sum, fh.Sum) || gfh.Schema != fh.Schema {
			t.Fatalf("float histogram %v, want %v", gfh, fh)
		}
		if len(s.Exemplars) != 1 || s.Exemplars[0].Timestamp != ts || !sameFloat(s.Exemplars[0].Value, v) || len(s.Exemplars[0].Labels) != ls.Len() {
			t.Fatalf("exemplars %v", s.Exemplars)
		}
	})
}

func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || a == b
}

// FuzzSegmentReader puts arbitrary bytes in the segment being written and
// reads it as a shard does: the reader must skip what is damaged, return
// only records whose frame checks, never read past the committed end, and
// finish.
func FuzzSegmentReader(f *testing.F) {
	enc := &recordEncoder{}
	var good []byte
	for _, b := range makeBatches(3, 4, 1000) {
		good, _ = enc.encodeBatch(good, b, nil)
	}
	f.Add(good)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/3] ^= 0x5a
	f.Add(flipped)
	f.Add(append([]byte{0xff, 0xff, 0xff, 0x00, 1, 2, 3, 4}, good...))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The segment lives in memory: the fuzzer runs the reader, not
		// the filesystem.
		q := &queue{opts: queueOptions{
			logger: slog.New(slog.DiscardHandler),
			open: func(string, int, os.FileMode) (queueFile, error) {
				return memFile{bytes.NewReader(data)}, nil
			},
		}}
		q.segs = []*segment{{start: 0, end: uint64(len(data)), info: emptySeal()}}
		q.end.Store(uint64(len(data)))
		rd := segReader{q: q}
		defer rd.close()
		rd.seek(0)
		for i := 0; ; i++ {
			if i > len(data)+10 {
				t.Fatalf("the reader did not finish %d bytes", len(data))
			}
			rec, err := rd.next()
			if errors.Is(err, errNoData) {
				break
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
			if rec.end > q.end.Load() || rec.off < rec.segStart {
				t.Fatalf("record [%d, %d) outside the data [0, %d)", rec.off, rec.end, q.end.Load())
			}
			_ = walkRecord(rec.payload, nil)
		}
	})
}

// memFile is a read-only queueFile over bytes.
type memFile struct{ *bytes.Reader }

func (memFile) Write([]byte) (int, error)          { return 0, os.ErrPermission }
func (memFile) WriteAt([]byte, int64) (int, error) { return 0, os.ErrPermission }
func (memFile) Truncate(int64) error               { return os.ErrPermission }
func (memFile) Sync() error                        { return nil }
func (memFile) Close() error                       { return nil }
func (memFile) Stat() (os.FileInfo, error)         { return nil, os.ErrInvalid }

// FuzzShardConsume feeds the records of an arbitrary segment to two
// shards, as after a restart (nothing of the segment in memory): whatever
// the refs and definitions, no item is kept without its series, and the
// shards' series stay in ascending ref order.
func FuzzShardConsume(f *testing.F) {
	enc := &recordEncoder{}
	var good []byte
	for _, b := range makeBatches(3, 6, 1000) {
		good, _ = enc.encodeBatch(good, b, nil)
	}
	f.Add(good)
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x21
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		q := &queue{opts: queueOptions{
			logger: slog.New(slog.DiscardHandler),
			open: func(string, int, os.FileMode) (queueFile, error) {
				return memFile{bytes.NewReader(data)}, nil
			},
		}}
		q.segs = []*segment{{start: 0, end: uint64(len(data)), info: emptySeal()}}
		q.end.Store(uint64(len(data)))
		q.activeStart.Store(math.MaxUint64) // no encoder table: decode
		e := &endpoint{q: q, cfg: EndpointConfig{Queue: DefaultQueueConfig}, m: newMetrics(nil).forEndpoint("f", "u"), logger: slog.New(slog.DiscardHandler)}
		for idx := range 2 {
			s := newShard(e, idx, 2, Position{})
			for i := 0; ; i++ {
				if i > len(data)+10 {
					t.Fatalf("the reader did not finish %d bytes", len(data))
				}
				rec, err := s.rd.next()
				if err != nil {
					break
				}
				s.consume(rec)
			}
			s.rd.close()
			if !slices.IsSorted(s.refs) || len(s.refs) != int(s.alloc.n) {
				t.Fatalf("shard %d: refs %v for %d series", idx, s.refs, s.alloc.n)
			}
			for _, it := range s.items {
				if it.s == nil {
					t.Fatalf("shard %d kept an item without its series", idx)
				}
			}
		}
	})
}
