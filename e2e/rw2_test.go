package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/shoal-dev/shoal/internal/lab"
)

// v2Message is the endpoint setting that makes shoal send remote write 2.0.
const v2Message = "io.prometheus.write.v2.Request"

// TestRemoteWrite2Handoff runs the lab's handoff scenarios with the fleet
// writing remote write 2.0 to Prometheus' own receiver: its write handler
// over a TSDB (out-of-order ingestion off, as by default), in this
// process. The figures must be those of the 1.0 runs — no tick missed or
// doubled, a disjoint split, no more targets moved than had to — and the
// receiver must reject no sample as out of order (nor as a duplicate, out
// of bounds or too old) and must have answered every request as 2.0.
func TestRemoteWrite2Handoff(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		check    func(*testing.T, *lab.Rig, lab.Report)
	}{
		{"split", checkSplit},
		{"rolling", func(t *testing.T, r *lab.Rig, rep lab.Report) {
			expectZero(t, rep, "missed", "doubled", "out-of-order", "duplicates", "stale")
		}},
		{"scaleup", checkHandoff},
		{"scaledown", checkHandoff},
		// A crash (kill -9) passes too, but adds half a minute; the
		// handoff it exercises is scale-down's.
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			long(t)
			rx := newPromSink(t)
			v2 := func(o *lab.ScenarioOptions) {
				o.Sink = rx
				o.Endpoint = fmt.Sprintf("protobuf_message = %q", v2Message)
				// A shorter watch than the 1.0 scenarios keeps the four
				// runs within about two minutes; a handoff still spans
				// several intervals of it.
				o.Observe = 12 * time.Second // six of the default 2 s intervals
			}
			scenario(t, tc.scenario, v2, func(t *testing.T, r *lab.Rig, rep lab.Report) {
				tc.check(t, r, rep)
				st := rx.stats()
				t.Logf("%s over remote write 2.0: ticks expected %d, scraped %d, missed %d, doubled %d; receiver: %d requests (%d as 2.0, %d answered with the samples-written header, %d not 2xx), %d samples written, rejects: %d out of order, %d duplicate, %d out of bounds, %d too old; TSDB counters: %v",
					tc.scenario, rep.Expected, rep.Scraped, rep.Missed, rep.Doubled,
					st.requests, st.v2Requests, st.withWritten, st.failed, st.written,
					st.rejects["out-of-order"], st.rejects["duplicate"], st.rejects["out-of-bounds"], st.rejects["too-old"], rx.tsdbRejects(t))
				rx.check(t, st)
			})
		})
	}
}

// promSink is Prometheus' remote write handler (1.0 and 2.0 accepted, so
// that a fall-back would show in the figures rather than as a stall) over
// a TSDB with default options, behind an httptest server that counts the
// requests, what version they were, and whether the answer carried the
// 2.0 samples-written header. It implements lab.Sink.
type promSink struct {
	db  *tsdb.DB
	reg *prometheus.Registry
	srv *httptest.Server

	mu sync.Mutex
	st sinkStats
	// rejected counts the handler's per-sample rejects by instance.
	rejected map[string]int
}

type sinkStats struct {
	requests, v2Requests, withWritten, failed int
	written                                   int64
	rejects                                   map[string]int // by kind
	firstFailure                              string
}

func newPromSink(t *testing.T) *promSink {
	t.Helper()
	s := &promSink{reg: prometheus.NewRegistry(), rejected: map[string]int{}}
	s.st.rejects = map[string]int{}
	opts := tsdb.DefaultOptions()
	if opts.OutOfOrderTimeWindow != 0 {
		t.Fatalf("the TSDB's default accepts out-of-order samples (window %d ms)", opts.OutOfOrderTimeWindow)
	}
	db, err := tsdb.Open(t.TempDir(), slog.New(slog.DiscardHandler), s.reg, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.db = db
	h := remote.NewWriteHandler(slog.New(rejectLog{s}), prometheus.NewRegistry(), db,
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, false)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rw := &recordingWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rw, req)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.requests++
		if req.Header.Get("X-Prometheus-Remote-Write-Version") == "2.0.0" &&
			strings.Contains(req.Header.Get("Content-Type"), "proto="+v2Message) {
			s.st.v2Requests++
		}
		if n := w.Header().Get("X-Prometheus-Remote-Write-Samples-Written"); n != "" {
			s.st.withWritten++
			var v int64
			fmt.Sscan(n, &v)
			s.st.written += v
		}
		if rw.code/100 != 2 {
			s.st.failed++
			if s.st.firstFailure == "" {
				s.st.firstFailure = fmt.Sprintf("%d %s", rw.code, strings.TrimSpace(rw.body.String()))
			}
		}
	}))
	// The fleet is closed (deferred in scenario) before these cleanups run.
	t.Cleanup(func() {
		s.srv.Close()
		db.Close()
	})
	return s
}

// recordingWriter keeps the status and body of a response.
type recordingWriter struct {
	http.ResponseWriter
	code int
	body strings.Builder
}

func (w *recordingWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.body.Len() < 1024 {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// rejectLog receives the handler's log: it logs every sample it rejects
// (out of order, duplicate, out of bounds, too old) with the series, which
// names the instance.
type rejectLog struct{ s *promSink }

func (rejectLog) Enabled(context.Context, slog.Level) bool { return true }
func (l rejectLog) WithAttrs([]slog.Attr) slog.Handler     { return l }
func (l rejectLog) WithGroup(string) slog.Handler          { return l }

var instanceRE = regexp.MustCompile(`instance="([^"]*)"`)

func (l rejectLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "Out of order") {
		return nil
	}
	var errText, series string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "err":
			errText = a.Value.String()
		case "series":
			series = a.Value.String()
		}
		return true
	})
	kind := "other"
	switch {
	case strings.Contains(errText, "out of order"):
		kind = "out-of-order"
	case strings.Contains(errText, "duplicate"):
		kind = "duplicate"
	case strings.Contains(errText, "out of bounds"):
		kind = "out-of-bounds"
	case strings.Contains(errText, "too old"):
		kind = "too-old"
	}
	inst := ""
	if m := instanceRE.FindStringSubmatch(series); m != nil {
		inst = m[1]
	}
	l.s.mu.Lock()
	l.s.st.rejects[kind]++
	l.s.rejected[inst]++
	l.s.mu.Unlock()
	return nil
}

func (s *promSink) URL() string { return s.srv.URL + "/api/v1/write" }

func (s *promSink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.rejects = map[string]int{}
	for k, v := range s.st.rejects {
		st.rejects[k] = v
	}
	return st
}

// ByInstance reads the TSDB back by instance.
func (s *promSink) ByInstance() map[string]lab.InstanceStats {
	return s.byInstance(math.MinInt64, math.MaxInt64)
}

// ByInstanceBetween reads the samples stamped in [from, to). A reject is
// not stamped in the log, so every reject counts as out of order in the
// figures of every window: the test wants none anywhere.
func (s *promSink) ByInstanceBetween(from, to time.Time) map[string]lab.InstanceStats {
	return s.byInstance(from.UnixMilli(), to.UnixMilli())
}

func (s *promSink) byInstance(lo, hi int64) map[string]lab.InstanceStats {
	out := map[string]lab.InstanceStats{}
	q, err := s.db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return out
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "instance", ".+"))
	for ss.Next() {
		ls := ss.At().Labels()
		inst := ls.Get("instance")
		up := ls.Get("__name__") == "up"
		st := out[inst]
		st.Series++
		it := ss.At().Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			if vt != chunkenc.ValFloat {
				st.Accepted++
				continue
			}
			ts, v := it.At()
			if ts < lo || ts >= hi {
				continue
			}
			st.Accepted++
			switch {
			case value.IsStaleNaN(v):
				st.StaleMarkers++
			case up:
				st.UpTimes = append(st.UpTimes, ts)
			}
		}
		out[inst] = st
	}
	s.mu.Lock()
	for inst, n := range s.rejected {
		st := out[inst]
		st.OutOfOrder += n
		out[inst] = st
	}
	s.mu.Unlock()
	return out
}

// tsdbRejects reads the TSDB's own reject counters, summed over types.
func (s *promSink) tsdbRejects(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Errorf("gathering the TSDB's metrics: %v", err)
		return out
	}
	for _, mf := range mfs {
		switch name := mf.GetName(); name {
		case "prometheus_tsdb_out_of_order_samples_total", "prometheus_tsdb_out_of_bound_samples_total", "prometheus_tsdb_too_old_samples_total":
			for _, m := range mf.GetMetric() {
				out[strings.TrimPrefix(name, "prometheus_tsdb_")] += m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// check asserts what the receiver saw over the whole run: requests, all
// of them 2.0 and answered as 2.0, none failed, no sample rejected.
func (s *promSink) check(t *testing.T, st sinkStats) {
	t.Helper()
	if st.requests == 0 || st.written == 0 {
		t.Fatalf("the receiver got %d requests and wrote %d samples", st.requests, st.written)
	}
	if st.v2Requests != st.requests {
		t.Errorf("%d of %d requests were remote write 2.0", st.v2Requests, st.requests)
	}
	if st.withWritten != st.requests {
		t.Errorf("%d of %d responses carried X-Prometheus-Remote-Write-Samples-Written: 2.0 was not used throughout", st.withWritten, st.requests)
	}
	if st.failed != 0 {
		t.Errorf("%d requests failed, the first: %s", st.failed, st.firstFailure)
	}
	for kind, n := range st.rejects {
		if n != 0 {
			t.Errorf("%d samples rejected by the receiver as %s, want 0", n, kind)
		}
	}
	for name, v := range s.tsdbRejects(t) {
		if v != 0 {
			t.Errorf("TSDB %s = %v, want 0", name, v)
		}
	}
}

// TestPromSinkCountsRejects checks the receiver of TestRemoteWrite2Handoff
// without a fleet: a 2.0 request with a sample older than the one stored
// is rejected, and the sink counts the reject (against its instance), the
// failed request and the 2.0 answer.
func TestPromSinkCountsRejects(t *testing.T) {
	s := newPromSink(t)
	now := time.Now().UnixMilli()
	send := func(ts int64) int {
		t.Helper()
		st := writev2.NewSymbolTable()
		ls := labels.FromStrings("__name__", "up", "instance", "a:1", "job", "j")
		req := &writev2.Request{Timeseries: []writev2.TimeSeries{{
			LabelsRefs: st.SymbolizeLabels(ls, nil),
			Samples:    []writev2.Sample{{Value: 1, Timestamp: ts}},
		}}}
		req.Symbols = st.Symbols()
		pb, err := req.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		hr, err := http.NewRequest(http.MethodPost, s.URL(), bytes.NewReader(snappy.Encode(nil, pb)))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Content-Type", "application/x-protobuf;proto="+v2Message)
		hr.Header.Set("Content-Encoding", "snappy")
		hr.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(now); code/100 != 2 {
		t.Fatalf("first sample answered %d", code)
	}
	if code := send(now - 10_000); code != http.StatusBadRequest {
		t.Fatalf("out-of-order sample answered %d, want 400", code)
	}
	st := s.stats()
	if st.requests != 2 || st.v2Requests != 2 || st.withWritten != 2 || st.failed != 1 || st.written != 1 {
		t.Errorf("stats %+v, want 2 requests, both 2.0 and answered with the header, 1 failed, 1 sample written", st)
	}
	if st.rejects["out-of-order"] != 1 {
		t.Errorf("rejects %v, want 1 out-of-order", st.rejects)
	}
	by := s.ByInstance()
	if a := by["a:1"]; a.OutOfOrder != 1 || len(a.UpTimes) != 1 || a.UpTimes[0] != now {
		t.Errorf("instance a:1: %+v, want 1 out-of-order and up at %d", a, now)
	}
	if c := s.tsdbRejects(t); c["out_of_order_samples_total"] != 1 {
		t.Errorf("TSDB reject counters %v, want 1 out of order", c)
	}
}
