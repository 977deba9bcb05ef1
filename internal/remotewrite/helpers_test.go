package remotewrite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/sample"
)

// receiver is a fake remote-write receiver that decodes with prompb and
// remembers every sample it accepted.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	got      map[string][]int64 // series → timestamps accepted, in arrival order
	hists    int
	exs      int
	accepted int // requests
	answered int
	// verdict decides the answer to a decoded request; nil accepts.
	verdict func(n int, req *prompb.WriteRequest) (int, string)
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: make(map[string][]int64)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.Header.Get("Content-Encoding") != "snappy" || req.Header.Get("Content-Type") != "application/x-protobuf" ||
		req.Header.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" || req.Header.Get("User-Agent") == "" {
		http.Error(w, "bad headers", http.StatusUnsupportedMediaType)
		return
	}
	comp, _ := io.ReadAll(req.Body)
	raw, err := snappy.Decode(nil, comp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered++
	if r.verdict != nil {
		if code, msg := r.verdict(r.answered, &wr); code != 0 {
			http.Error(w, msg, code)
			return
		}
	}
	r.accepted++
	for _, ts := range wr.Timeseries {
		key := labelsKey(ts.Labels)
		for _, s := range ts.Samples {
			r.got[key] = append(r.got[key], s.Timestamp)
		}
		for _, h := range ts.Histograms {
			r.got[key] = append(r.got[key], h.Timestamp)
			r.hists++
		}
		r.exs += len(ts.Exemplars)
	}
}

func (r *receiver) setVerdict(f func(n int, req *prompb.WriteRequest) (int, string)) {
	r.mu.Lock()
	r.verdict = f
	r.mu.Unlock()
}

func labelsKey(ls []prompb.Label) string {
	s := ""
	for _, l := range ls {
		s += l.Name + "=" + l.Value + ","
	}
	return s
}

// total is the number of float and histogram samples accepted.
func (r *receiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ts := range r.got {
		n += len(ts)
	}
	return n
}

func (r *receiver) snapshot() map[string][]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]int64, len(r.got))
	for k, v := range r.got {
		out[k] = append([]int64(nil), v...)
	}
	return out
}

// eventually waits for cond, failing the test after the deadline.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// batches makes nb batches of series × 1 sample, timestamps base+i*1000.
func makeBatches(nb, series int, base int64, extra ...string) []*sample.Batch {
	out := make([]*sample.Batch, nb)
	lbls := make([]labels.Labels, series)
	for s := range lbls {
		lbls[s] = labels.FromStrings(append([]string{"__name__", "test_metric", "series", fmt.Sprint(s), "job", "bench", "instance", "host-0123:9100"}, extra...)...)
	}
	for i := range out {
		b := &sample.Batch{}
		for s := range lbls {
			b.Samples = append(b.Samples, sample.Sample{Labels: lbls[s], T: base + int64(i)*1000, V: float64(i)})
		}
		out[i] = b
	}
	return out
}

func endpointFor(r *receiver) EndpointConfig {
	q := DefaultQueueConfig
	q.BatchSendDeadline = 20 * time.Millisecond
	q.MinBackoff = time.Millisecond
	q.MaxBackoff = 20 * time.Millisecond
	return EndpointConfig{Name: "test", URL: r.srv.URL, RemoteTimeout: 5 * time.Second, Queue: q, SendExemplars: true}
}

// running opens a Writer on dir and runs it until the test ends (or stop).
type running struct {
	w      *Writer
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, dir string, opts Options, cfg Config) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Dir = dir
	opts.Registerer = reg
	w, err := Open(opts, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func (r *running) receive(t *testing.T, bs []*sample.Batch) {
	t.Helper()
	for _, b := range bs {
		if err := r.w.Receive(context.Background(), b); err != nil {
			t.Fatalf("receive: %v", err)
		}
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string, lbls ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(lbls); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == lbls[i] && lp.GetValue() == lbls[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

// checkExactlyOnce asserts every series got exactly want timestamps, each
// once and in increasing order.
func checkExactlyOnce(t *testing.T, got map[string][]int64, series, perSeries int) {
	t.Helper()
	bad := 0
	for k, ts := range got {
		if len(ts) != perSeries && bad < 5 {
			bad++
			t.Logf("series %s: %d samples: %v", k, len(ts), ts)
		}
	}
	if len(got) != series {
		t.Fatalf("receiver has %d series, want %d", len(got), series)
	}
	for k, ts := range got {
		if len(ts) != perSeries {
			t.Fatalf("series %s: %d samples, want %d", k, len(ts), perSeries)
		}
		if !sort.SliceIsSorted(ts, func(i, j int) bool { return ts[i] < ts[j] }) {
			t.Fatalf("series %s: timestamps out of order: %v", k, ts)
		}
		for i := 1; i < len(ts); i++ {
			if ts[i] == ts[i-1] {
				t.Fatalf("series %s: timestamp %d delivered twice", k, ts[i])
			}
		}
	}
}
