package remotewrite

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/shoal-dev/shoal/internal/sample"
)

// promReceiver is Prometheus' own remote write handler (1.0 and 2.0) over
// a TSDB, in the test process (test code only: the binary does not link
// storage/remote or tsdb).
type promReceiver struct {
	db       *tsdb.DB
	srv      *httptest.Server
	requests atomic.Int64
	v2       atomic.Int64
}

func newPromReceiver(t *testing.T) *promReceiver {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = 1000
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := remote.NewWriteHandler(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), db,
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, true)
	r := &promReceiver{db: db}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if req.Header.Get("X-Prometheus-Remote-Write-Version") == "2.0.0" {
			r.v2.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// points reads back a series: float timestamps, histograms and their
// timestamps.
func (r *promReceiver) points(t *testing.T, ls labels.Labels) (floats []int64, hists []*histogram.Histogram) {
	t.Helper()
	q, err := r.db.Querier(0, time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var ms []*labels.Matcher
	ls.Range(func(l labels.Label) { ms = append(ms, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value)) })
	ss := q.Select(context.Background(), false, nil, ms...)
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, _ := it.At()
				floats = append(floats, ts)
			case chunkenc.ValHistogram:
				_, h := it.AtHistogram(nil)
				hists = append(hists, h)
			}
		}
	}
	return floats, hists
}

func (r *promReceiver) exemplars(t *testing.T, name string) []exemplar.Exemplar {
	t.Helper()
	q, err := r.db.ExemplarQuerier(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Select(0, time.Now().Add(time.Hour).UnixMilli(), []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", name)})
	if err != nil {
		t.Fatal(err)
	}
	var out []exemplar.Exemplar
	for _, r := range res {
		out = append(out, r.Exemplars...)
	}
	return out
}

// TestV2PrometheusReceiverRoundTrip writes floats, native histograms and
// exemplars to Prometheus' 2.0 handler and reads them back from its TSDB.
func TestV2PrometheusReceiverRoundTrip(t *testing.T) {
	r := newPromReceiver(t)
	w := start(t, t.TempDir(), Options{UserAgent: "shoal-test/1"}, Config{Endpoints: []EndpointConfig{v2Endpoint(r.srv.URL)}})
	now := time.Now().Add(-time.Minute).UnixMilli()
	ctr := labels.FromStrings("__name__", "reqs_total", "job", "j", "instance", "i")
	hist := labels.FromStrings("__name__", "lat_seconds", "job", "j", "instance", "i")
	h := &histogram.Histogram{Count: 6, Sum: 1.5, Schema: 2, ZeroThreshold: 1e-128, ZeroCount: 1,
		PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}, {Offset: 3, Length: 1}}, PositiveBuckets: []int64{1, 1, -1},
		NegativeSpans: []histogram.Span{{Offset: -2, Length: 1}}, NegativeBuckets: []int64{1}}
	w.receive(t, []*sample.Batch{{
		Samples: []sample.Sample{
			{Labels: ctr, T: now, V: 1}, {Labels: ctr, T: now + 1000, V: 2},
			{Labels: hist, T: now, H: h},
		},
		Exemplars: []sample.Exemplar{
			{Labels: ctr, Exemplar: exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "t1"), Value: 1, Ts: now, HasTs: true}},
			{Labels: hist, Exemplar: exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "t2"), Value: 0.3, Ts: now, HasTs: true}},
		},
	}})
	eventually(t, 10*time.Second, "the samples acknowledged", func() bool {
		return counter(t, w.reg, "prometheus_remote_storage_samples_total") == 3
	})
	if f, _ := r.points(t, ctr); len(f) != 2 || f[0] != now || f[1] != now+1000 {
		t.Fatalf("counter read back: %v", f)
	}
	_, hs := r.points(t, hist)
	if len(hs) != 1 || hs[0].Count != h.Count || hs[0].Sum != h.Sum || hs[0].Schema != h.Schema || hs[0].ZeroCount != h.ZeroCount {
		t.Fatalf("histogram read back: %v, sent %v", hs, h)
	}
	hc := hs[0].Copy()
	hc.CounterResetHint = h.CounterResetHint
	if !hc.Equals(h) {
		t.Fatalf("histogram read back %v, sent %v", hs[0], h)
	}
	if ex := r.exemplars(t, "reqs_total"); len(ex) != 1 || ex[0].Labels.Get("trace_id") != "t1" || ex[0].Ts != now {
		t.Fatalf("counter exemplars read back: %v", ex)
	}
	if ex := r.exemplars(t, "lat_seconds"); len(ex) != 1 || ex[0].Value != 0.3 {
		t.Fatalf("histogram exemplars read back: %v", ex)
	}
	if n := counter(t, w.reg, "prometheus_remote_storage_exemplars_total"); n != 2 {
		t.Fatalf("exemplars_total %v, want 2 (from the Exemplars-Written header)", n)
	}
	if r.v2.Load() != r.requests.Load() {
		t.Fatalf("%d of %d requests were 2.0", r.v2.Load(), r.requests.Load())
	}
}

// TestV2PrometheusReceiverPartialWrite: one out-of-order sample among good
// ones; Prometheus writes the good ones and answers 400 with the
// ...-Written headers, which the sender counts; nothing is sent again.
func TestV2PrometheusReceiverPartialWrite(t *testing.T) {
	r := newPromReceiver(t)
	ep := v2Endpoint(r.srv.URL)
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	now := time.Now().Add(-time.Minute).UnixMilli()
	bad := labels.FromStrings("__name__", "m", "series", "bad", "job", "j", "instance", "i")
	w.receive(t, []*sample.Batch{{Samples: []sample.Sample{{Labels: bad, T: now, V: 1}}}})
	eventually(t, 10*time.Second, "the first sample", func() bool {
		return counter(t, w.reg, "prometheus_remote_storage_samples_total") == 1
	})
	before := r.requests.Load()
	b := &sample.Batch{}
	b.Samples = append(b.Samples, sample.Sample{Labels: bad, T: now - 10000, V: 0}) // out of order
	for i := range 9 {
		ls := labels.FromStrings("__name__", "m", "series", string(rune('a'+i)), "job", "j", "instance", "i")
		b.Samples = append(b.Samples, sample.Sample{Labels: ls, T: now, V: float64(i)})
	}
	w.receive(t, []*sample.Batch{b})
	eventually(t, 10*time.Second, "the partial write counted", func() bool {
		return counter(t, w.reg, "prometheus_remote_storage_samples_total") == 10
	})
	if f := counter(t, w.reg, "prometheus_remote_storage_samples_failed_total"); f != 1 {
		t.Fatalf("failed %v, want 1", f)
	}
	if rj := counter(t, w.reg, "shoal_remote_write_rejected_samples_total", "reason", "out_of_order"); rj != 1 {
		t.Fatalf("rejected out_of_order %v, want 1", rj)
	}
	w.w.Flush()
	if n := r.requests.Load() - before; n != 1 {
		t.Fatalf("%d requests for the partial batch, want 1 (nothing sent again)", n)
	}
	if f, _ := r.points(t, labels.FromStrings("__name__", "m", "series", "e", "job", "j", "instance", "i")); len(f) != 1 {
		t.Fatalf("good sample not stored: %v", f)
	}
}
