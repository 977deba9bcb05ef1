package scrape

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// exemplarTarget serves, through client_golang, a native histogram and a
// counter, both with exemplars, negotiating protobuf or OpenMetrics from
// the Accept header as real exporters do.
func exemplarTarget(t *testing.T, buckets int) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latency_seconds", Help: "latency",
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 1000,
	})
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "requests_total", Help: "requests"})
	reg.MustRegister(h, c)
	for i := 1; i <= buckets; i++ {
		h.(prometheus.ExemplarObserver).ObserveWithExemplar(float64(i)*0.37, prometheus.Labels{"trace_id": "abc"})
	}
	c.(prometheus.ExemplarAdder).AddWithExemplar(3, prometheus.Labels{"trace_id": "def"})
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func scrapeOneTick(t *testing.T, cfg Config, addr string) ([]sample.Sample, []sample.Exemplar, TargetStatus) {
	t.Helper()
	l := targetLabels(addr)
	h := newHarness(t, nil)
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	newTicker(h, l, cfg, 1).tick(t)
	var ex []sample.Exemplar
	for _, b := range h.recv.snapshot() {
		ex = append(ex, b.Exemplars...)
	}
	return h.recv.samples(), ex, h.engine.Targets()[0]
}

func TestNativeHistogramsAndExemplarsOverProtobuf(t *testing.T) {
	addr := exemplarTarget(t, 20)
	cfg := testConfig()
	cfg.Protocols = ProtoFirstProtocols
	cfg.ScrapeNativeHistograms = true
	ss, ex, st := scrapeOneTick(t, cfg, addr)
	if st.Health != HealthUp {
		t.Fatalf("target down: %s", st.LastError)
	}
	hs := find(ss, "latency_seconds")
	if len(hs) != 1 || (hs[0].H == nil && hs[0].FH == nil) {
		t.Fatalf("want one native histogram sample of latency_seconds, got %v", hs)
	}
	if hs[0].H != nil && hs[0].H.Count != 20 {
		t.Fatalf("histogram count %d, want 20", hs[0].H.Count)
	}
	// client_golang exposes start (created) timestamps in protobuf: when
	// the metrics were made (real time; the scrape's is a fake clock's).
	rs := find(ss, "requests_total")
	recent := func(st int64) bool { return time.Since(time.UnixMilli(st)).Abs() < time.Hour }
	if len(rs) != 1 || !recent(rs[0].ST) || !recent(hs[0].ST) {
		t.Fatalf("start timestamps: counter %v, histogram %d", rs, hs[0].ST)
	}
	var onHist, onCounter int
	for _, e := range ex {
		switch e.Labels.Get("__name__") {
		case "latency_seconds":
			onHist++
		case "requests_total":
			onCounter++
			if e.Exemplar.Labels.Get("trace_id") != "def" || e.Exemplar.Value != 3 {
				t.Fatalf("counter exemplar %v", e.Exemplar)
			}
		}
	}
	if onHist == 0 || onCounter != 1 {
		t.Fatalf("exemplars: %d on the histogram, %d on the counter", onHist, onCounter)
	}
}

func TestExemplarsOverOpenMetrics(t *testing.T) {
	addr := exemplarTarget(t, 5)
	cfg := testConfig()
	ss, ex, st := scrapeOneTick(t, cfg, addr)
	if st.Health != HealthUp {
		t.Fatalf("target down: %s", st.LastError)
	}
	if len(find(ss, "latency_seconds_bucket")) == 0 {
		t.Fatal("classic buckets missing from OpenMetrics")
	}
	found := false
	for _, e := range ex {
		if e.Labels.Get("__name__") == "requests_total" && e.Exemplar.Labels.Get("trace_id") == "def" {
			found = true
		}
	}
	if !found {
		t.Fatalf("counter exemplar missing; got %v", ex)
	}
}

func TestNativeHistogramBucketLimit(t *testing.T) {
	addr := exemplarTarget(t, 200)
	cfg := testConfig()
	cfg.Protocols = ProtoFirstProtocols
	cfg.ScrapeNativeHistograms = true

	// A limit the histogram can meet by lowering its resolution.
	cfg.NativeHistogramBucketLimit = 10
	ss, _, st := scrapeOneTick(t, cfg, addr)
	if st.Health != HealthUp {
		t.Fatalf("target down: %s", st.LastError)
	}
	h := find(ss, "latency_seconds")[0]
	if n := len(h.H.PositiveBuckets) + len(h.H.NegativeBuckets); n > 10 {
		t.Fatalf("%d buckets kept, limit 10", n)
	}
	if h.H.Count != 200 {
		t.Fatalf("count %d after reduction, want 200", h.H.Count)
	}
}
