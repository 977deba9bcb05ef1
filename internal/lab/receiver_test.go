package lab

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
)

// series builds one prompb series named name with an instance label.
func series(name, instance string, samples ...prompb.Sample) prompb.TimeSeries {
	return prompb.TimeSeries{
		Labels:  []prompb.Label{{Name: "__name__", Value: name}, {Name: "instance", Value: instance}},
		Samples: samples,
	}
}

func smp(t int64, v float64) prompb.Sample { return prompb.Sample{Timestamp: t, Value: v} }

func encode(t testing.TB, ts ...prompb.TimeSeries) []byte {
	t.Helper()
	wr := prompb.WriteRequest{Timeseries: ts}
	raw, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func write(t *testing.T, r *Receiver, ts ...prompb.TimeSeries) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(encode(t, ts...)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func startReceiver(t *testing.T, opts ...ReceiverOption) *Receiver {
	t.Helper()
	r, err := StartReceiver(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestReceiverStoresAcceptedSamples(t *testing.T) {
	r := startReceiver(t)
	if code, body := write(t, r, series("up", "a:1", smp(1000, 1), smp(2000, 1)), series("up", "b:1", smp(1000, 0))); code != http.StatusNoContent {
		t.Fatalf("write answered %d %s", code, body)
	}
	got := r.Lookup("__name__", "up", "instance", "a:1")
	if len(got) != 1 || len(got[0].Points) != 2 || got[0].Points[1] != (Point{T: 2000, V: 1}) {
		t.Fatalf("stored %+v", got)
	}
	if st := r.Stats(); st.Accepted != 3 || st.Requests != 1 || st.OutOfOrder+st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}
	if by := r.ByInstance(); len(by["a:1"].UpTimes) != 2 || by["b:1"].Accepted != 1 {
		t.Errorf("by instance %+v", by)
	}
}

func TestReceiverRejectsOlderSamplesAsOutOfOrder(t *testing.T) {
	r := startReceiver(t)
	write(t, r, series("up", "a:1", smp(2000, 1)))
	code, body := write(t, r, series("up", "a:1", smp(1000, 1)))
	if code != http.StatusBadRequest || !strings.Contains(body, ReasonOutOfOrder) {
		t.Fatalf("an older sample answered %d %q, want 400 %q", code, body, ReasonOutOfOrder)
	}
	if st := r.Stats(); st.OutOfOrder != 1 || st.Accepted != 1 || st.Rejected != 1 {
		t.Errorf("stats %+v", st)
	}
	if by := r.ByInstance(); by["a:1"].OutOfOrder != 1 {
		t.Errorf("the reject is not counted for its instance: %+v", by)
	}
}

func TestReceiverRejectsAConflictingValueAtTheSameTimestampAsADoubledTick(t *testing.T) {
	r := startReceiver(t)
	write(t, r, series("scrape_duration_seconds", "a:1", smp(2000, 0.010)))
	code, body := write(t, r, series("scrape_duration_seconds", "a:1", smp(2000, 0.012)))
	if code != http.StatusBadRequest || !strings.Contains(body, ReasonDuplicate) {
		t.Fatalf("a conflicting sample answered %d %q, want 400 %q", code, body, ReasonDuplicate)
	}
	// The same value again is a no-op, as in Prometheus.
	if code, body := write(t, r, series("scrape_duration_seconds", "a:1", smp(2000, 0.010))); code != http.StatusNoContent {
		t.Fatalf("an identical duplicate answered %d %q, want 204", code, body)
	}
	st := r.Stats()
	if st.Duplicates != 1 || st.IdenticalDuplicates != 1 || st.Accepted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestReceiverRejectsTheWholeRequestLikePrometheus(t *testing.T) {
	r := startReceiver(t)
	write(t, r, series("up", "b:1", smp(5000, 1)))
	code, _ := write(t, r,
		series("up", "a:1", smp(1000, 1)), // fine on its own
		series("up", "b:1", smp(4000, 1)), // out of order
	)
	if code != http.StatusBadRequest {
		t.Fatalf("answered %d, want 400", code)
	}
	if got := r.Lookup("instance", "a:1"); len(got) != 0 && len(got[0].Points) != 0 {
		t.Errorf("all-or-nothing stored a sample of a rejected request: %+v", got)
	}
	if st := r.Stats(); st.Accepted != 1 {
		t.Errorf("accepted %d samples, want only the first request's one", st.Accepted)
	}
}

func TestReceiverInPartialModeKeepsTheGoodSamples(t *testing.T) {
	r := startReceiver(t, WithRejectMode(PartialAccept))
	write(t, r, series("up", "b:1", smp(5000, 1)))
	code, body := write(t, r,
		series("up", "a:1", smp(1000, 1)),
		series("up", "b:1", smp(4000, 1), smp(6000, 1)),
	)
	if code != http.StatusBadRequest || !strings.Contains(body, ReasonOutOfOrder) {
		t.Fatalf("answered %d %q, want 400 naming the reject", code, body)
	}
	if got := r.Lookup("instance", "a:1"); len(got) != 1 || len(got[0].Points) != 1 {
		t.Errorf("partial mode dropped a good sample: %+v", got)
	}
	if got := r.Lookup("instance", "b:1"); len(got) != 1 || len(got[0].Points) != 2 {
		t.Errorf("partial mode: b holds %+v, want samples at 5000 and 6000", got)
	}
}

func TestReceiverCountsStalenessMarkers(t *testing.T) {
	r := startReceiver(t)
	stale := math.Float64frombits(value.StaleNaN)
	code, _ := write(t, r, series("up", "a:1", smp(1000, 1), smp(2000, stale)), series("up", "b:1", smp(1000, math.NaN())))
	if code != http.StatusNoContent {
		t.Fatalf("answered %d", code)
	}
	if st := r.Stats(); st.StaleMarkers != 1 {
		t.Errorf("counted %d staleness markers, want 1 (an ordinary NaN is not one)", st.StaleMarkers)
	}
	if by := r.ByInstance(); by["a:1"].StaleMarkers != 1 || len(by["a:1"].UpTimes) != 1 {
		t.Errorf("by instance %+v", by["a:1"])
	}
}

func TestReceiverOutageAndRestart(t *testing.T) {
	r := startReceiver(t)
	write(t, r, series("up", "a:1", smp(1000, 1)))
	r.Outage(time.Minute)
	if code, _ := write(t, r, series("up", "a:1", smp(2000, 1))); code != http.StatusServiceUnavailable {
		t.Errorf("during an outage the receiver answered %d, want 503", code)
	}
	r.EndOutage()
	if code, _ := write(t, r, series("up", "a:1", smp(2000, 1))); code != http.StatusNoContent {
		t.Errorf("after the outage the receiver answered %d", code)
	}

	r.Stop()
	resp, err := http.Post(r.URL(), "application/x-protobuf", bytes.NewReader(encode(t, series("up", "a:1", smp(3000, 1)))))
	if err == nil {
		resp.Body.Close()
		t.Fatal("a stopped receiver answered")
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	if code, _ := write(t, r, series("up", "a:1", smp(3000, 1))); code != http.StatusNoContent {
		t.Errorf("after a restart the receiver answered %d", code)
	}
	if got := r.Lookup("instance", "a:1"); len(got) != 1 || len(got[0].Points) != 3 {
		t.Errorf("a restart lost samples: %+v", got)
	}
	if st := r.Stats(); st.Unavailable != 1 {
		t.Errorf("counted %d 503s, want 1", st.Unavailable)
	}
}

func TestReceiverAnswers400ToABodyThatDoesNotDecode(t *testing.T) {
	r := startReceiver(t)
	for _, body := range [][]byte{[]byte("not snappy at all"), snappy.Encode(nil, []byte{0xff, 0xff, 0xff})} {
		resp, err := http.Post(r.URL(), "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("garbage answered %d, want 400", resp.StatusCode)
		}
	}
	if code, body := write(t, r, prompb.TimeSeries{Labels: []prompb.Label{{Name: "job", Value: "x"}}, Samples: []prompb.Sample{smp(1, 1)}}); code != http.StatusBadRequest || !strings.Contains(body, "no metric name") {
		t.Errorf("a series without a name answered %d %q", code, body)
	}
	if st := r.Stats(); st.Invalid != 3 || st.Accepted != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWaitForGivesUpAtTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := WaitFor(ctx, func() bool { return false }); err == nil {
		t.Error("WaitFor returned nil for a condition that never held")
	}
}

// FuzzReceiver feeds arbitrary bodies to the write handler: whatever comes
// in, it answers 204, 400 or 415, never panics, and never stores a sample
// from a request it rejected.
func FuzzReceiver(f *testing.F) {
	f.Add(encode(f, series("up", "a:1", smp(1000, 1), smp(2000, 0))))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := &Receiver{series: map[string]*receiverSeries{}}
		// Two passes: the second sees the first's samples, so the reject
		// paths run too.
		for pass := range 2 {
			rec := &recorder{header: http.Header{}}
			req, err := http.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			before := r.Stats().Accepted
			r.handleWrite(rec, req)
			switch rec.code {
			case http.StatusNoContent:
			case http.StatusBadRequest:
				if r.Stats().Accepted != before {
					t.Fatalf("pass %d: a rejected request stored samples", pass)
				}
			default:
				t.Fatalf("pass %d: answered %d", pass, rec.code)
			}
		}
	})
}

// recorder is the least http.ResponseWriter the handler needs.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) { r.code = code }

func TestReceiverCountsARetriedRejectOnce(t *testing.T) {
	r := startReceiver(t)
	write(t, r, series("up", "a:1", smp(2000, 1)))
	for range 3 {
		write(t, r, series("up", "a:1", smp(1000, 1), smp(2000, 0)))
	}
	if st := r.Stats(); st.OutOfOrder != 3 || st.Duplicates != 3 {
		t.Errorf("stats %+v, want every rejection counted: 3 and 3", st)
	}
	if by := r.ByInstance()["a:1"]; by.OutOfOrder != 1 || by.Duplicates != 1 {
		t.Errorf("by instance %+v, want one distinct sample of each", by)
	}
}

func TestReceiverFiguresOfAWindowLeaveOutWhatCameBefore(t *testing.T) {
	r := startReceiver(t)
	stale := math.Float64frombits(value.StaleNaN)
	write(t, r, series("up", "a:1", smp(1000, 1), smp(5000, 1), smp(6000, stale)))
	write(t, r, series("up", "a:1", smp(500, 1)))  // out of order, before the window
	write(t, r, series("up", "a:1", smp(5500, 1))) // out of order, inside it
	by := r.ByInstanceBetween(time.UnixMilli(2000), time.UnixMilli(10000))["a:1"]
	if by.OutOfOrder != 1 || by.StaleMarkers != 1 || len(by.UpTimes) != 1 || by.Accepted != 2 {
		t.Errorf("window figures %+v, want 1 out-of-order, 1 marker, 1 up at 5000, 2 accepted", by)
	}
	if all := r.ByInstance()["a:1"]; all.OutOfOrder != 2 {
		t.Errorf("whole-run figures %+v, want 2 out-of-order", all)
	}
}
