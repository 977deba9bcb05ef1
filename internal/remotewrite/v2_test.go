package remotewrite

import (
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/shoal-dev/shoal/internal/sample"
)

// v2Receiver is a fake receiver that decodes remote write 2.0 with
// prompb's writev2 types and checks every request against the MUST and
// MUST NOT rules of the 2.0 specification for senders. It answers 1.0
// requests only when v1 is set (415 otherwise), and, like a 2.0 receiver,
// answers 2.0 requests with the ...-Written headers unless noHeaders.
type v2Receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	v1         bool
	noHeaders  bool // answer 2.0 with 204 and no headers, storing nothing (Prometheus 2.42)
	violations []string
	v2Reqs     int
	v1Reqs     int
	series     map[string][]int64 // written: series → timestamps (floats and histograms)
	values     map[string][]float64
	starts     map[string][]int64 // start_timestamp of each sample and histogram
	hists      map[string][]*histogram.Histogram
	fhists     map[string][]*histogram.FloatHistogram
	exemplars  map[string][]writev2.Exemplar
	exLabels   map[string][]labels.Labels
	meta       map[string]writev2.Metadata // series name → metadata (strings resolved below)
	metaText   map[string][2]string        // series name → help, unit
	v1Meta     []prompb.MetricMetadata
	// verdict may answer a 2.0 request itself: a status and the
	// counts to put in the ...-Written headers (nil: none).
	verdict func(n int, req *writev2.Request) (code int, written *[3]int)
}

func newV2Receiver(t *testing.T) *v2Receiver {
	r := &v2Receiver{
		t: t, series: map[string][]int64{}, values: map[string][]float64{}, starts: map[string][]int64{}, hists: map[string][]*histogram.Histogram{},
		fhists: map[string][]*histogram.FloatHistogram{}, exemplars: map[string][]writev2.Exemplar{},
		exLabels: map[string][]labels.Labels{}, meta: map[string]writev2.Metadata{}, metaText: map[string][2]string{},
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *v2Receiver) violate(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (r *v2Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	comp, _ := io.ReadAll(req.Body)
	// Snappy's block format (the framed one starts with a stream
	// identifier chunk that block decoding rejects).
	raw, err := snappy.Decode(nil, comp)
	if err != nil {
		r.violate("body is not snappy block format: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req.Method != http.MethodPost {
		r.violate("method %s, want POST", req.Method)
	}
	if req.Header.Get("Content-Encoding") != "snappy" {
		r.violate("Content-Encoding %q", req.Header.Get("Content-Encoding"))
	}
	if ua := req.Header.Get("User-Agent"); ua == "" || ua == "user-set" {
		r.violate("User-Agent %q", ua)
	}
	ct, ver := req.Header.Get("Content-Type"), req.Header.Get("X-Prometheus-Remote-Write-Version")
	switch ct {
	case "application/x-protobuf;proto=io.prometheus.write.v2.Request":
		if ver != "2.0.0" {
			r.violate("2.0 request with X-Prometheus-Remote-Write-Version %q", ver)
		}
	case "application/x-protobuf":
		if ver != "0.1.0" {
			r.violate("1.0 request with X-Prometheus-Remote-Write-Version %q", ver)
		}
		if !r.v1 {
			http.Error(w, "remote write 1.0 not supported", http.StatusUnsupportedMediaType)
			return
		}
		var wr prompb.WriteRequest
		if err := wr.Unmarshal(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.v1Reqs++
		r.v1Meta = append(r.v1Meta, wr.Metadata...)
		for _, ts := range wr.Timeseries {
			k := labelsKey(ts.Labels)
			for _, s := range ts.Samples {
				r.series[k] = append(r.series[k], s.Timestamp)
			}
			for _, h := range ts.Histograms {
				r.series[k] = append(r.series[k], h.Timestamp)
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		r.violate("Content-Type %q", ct)
		http.Error(w, "bad content type", http.StatusUnsupportedMediaType)
		return
	}
	r.v2Reqs++
	if r.noHeaders {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var wr writev2.Request
	if err := wr.Unmarshal(raw); err != nil {
		r.violate("2.0 request does not decode: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.check(&wr)
	if r.verdict != nil {
		if code, written := r.verdict(r.v2Reqs, &wr); code != 0 {
			if written != nil {
				w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(written[0]))
				w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", strconv.Itoa(written[1]))
				w.Header().Set("X-Prometheus-Remote-Write-Exemplars-Written", strconv.Itoa(written[2]))
			}
			http.Error(w, "verdict", code)
			return
		}
	}
	var ns, nh, nx int
	for _, ts := range wr.Timeseries {
		ls, err := ts.ToLabels(&labels.ScratchBuilder{}, wr.Symbols)
		if err != nil {
			r.violate("labels: %v", err)
			continue
		}
		k := ls.String()
		for _, s := range ts.Samples {
			r.series[k] = append(r.series[k], s.Timestamp)
			r.values[k] = append(r.values[k], s.Value)
			r.starts[k] = append(r.starts[k], s.StartTimestamp)
			ns++
		}
		for _, h := range ts.Histograms {
			r.series[k] = append(r.series[k], h.Timestamp)
			r.starts[k] = append(r.starts[k], h.StartTimestamp)
			if h.IsFloatHistogram() {
				r.fhists[k] = append(r.fhists[k], h.ToFloatHistogram())
			} else {
				r.hists[k] = append(r.hists[k], h.ToIntHistogram())
			}
			nh++
		}
		for _, e := range ts.Exemplars {
			r.exemplars[k] = append(r.exemplars[k], e)
			ex, err := e.ToExemplar(&labels.ScratchBuilder{}, wr.Symbols)
			if err != nil {
				r.violate("exemplar: %v", err)
			}
			r.exLabels[k] = append(r.exLabels[k], ex.Labels)
			nx++
		}
		name := ls.Get(labels.MetricName)
		r.meta[name] = ts.Metadata
		r.metaText[name] = [2]string{wr.Symbols[ts.Metadata.HelpRef], wr.Symbols[ts.Metadata.UnitRef]}
	}
	w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(ns))
	w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", strconv.Itoa(nh))
	w.Header().Set("X-Prometheus-Remote-Write-Exemplars-Written", strconv.Itoa(nx))
	w.WriteHeader(http.StatusNoContent)
}

// check records every rule of the 2.0 specification's wire format that
// wr breaks (see TestV2SpecMUSTs).
func (r *v2Receiver) check(wr *writev2.Request) {
	syms := wr.Symbols
	// "The symbols table MUST be provided ... The first element MUST be
	// an empty string."
	if len(syms) == 0 || syms[0] != "" {
		r.violate("symbols[0] is not the empty string: %q", syms)
	}
	// "it MUST contain deduplicated strings"
	seen := map[string]bool{}
	for _, s := range syms {
		if seen[s] {
			r.violate("symbol %q repeated", s)
		}
		seen[s] = true
	}
	ref := func(what string, x uint32) string {
		// "References MUST point to the existing index"
		if int(x) >= len(syms) {
			r.violate("%s ref %d beyond %d symbols", what, x, len(syms))
			return ""
		}
		return syms[x]
	}
	for _, ts := range wr.Timeseries {
		// "labels_refs MUST be provided", in name/value pairs.
		if len(ts.LabelsRefs) == 0 || len(ts.LabelsRefs)%2 != 0 {
			r.violate("labels_refs %v", ts.LabelsRefs)
			continue
		}
		prev := ""
		for i := 0; i < len(ts.LabelsRefs); i += 2 {
			n, v := ref("label name", ts.LabelsRefs[i]), ref("label value", ts.LabelsRefs[i+1])
			// "MUST NOT contain any empty label names or values."
			if n == "" || v == "" {
				r.violate("empty label %q=%q", n, v)
			}
			// "MUST NOT contain repeated label names. MUST have label
			// names sorted in lexicographical order."
			if i > 0 && n <= prev {
				r.violate("label names not sorted or repeated: %q after %q", n, prev)
			}
			prev = n
		}
		// "At least one element in samples or in histograms MUST be
		// provided. A TimeSeries MUST NOT include both."
		if (len(ts.Samples) == 0) == (len(ts.Histograms) == 0) {
			r.violate("series with %d samples and %d histograms", len(ts.Samples), len(ts.Histograms))
		}
		// "Senders MUST send samples (or histograms) for any given
		// TimeSeries in timestamp order."
		for i := 1; i < len(ts.Samples); i++ {
			if ts.Samples[i].Timestamp < ts.Samples[i-1].Timestamp {
				r.violate("samples out of timestamp order")
			}
		}
		for i := 1; i < len(ts.Histograms); i++ {
			if ts.Histograms[i].Timestamp < ts.Histograms[i-1].Timestamp {
				r.violate("histograms out of timestamp order")
			}
		}
		for _, e := range ts.Exemplars {
			// "MUST contain a timestamp."
			if e.Timestamp == 0 {
				r.violate("exemplar without timestamp")
			}
			for _, x := range e.LabelsRefs {
				ref("exemplar label", x)
			}
		}
		ref("help", ts.Metadata.HelpRef)
		ref("unit", ts.Metadata.UnitRef)
	}
}

func (r *v2Receiver) noViolations(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.violations) > 0 {
		t.Fatalf("the sender broke the specification:\n%s", strings.Join(r.violations, "\n"))
	}
}

func (r *v2Receiver) written() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ts := range r.series {
		n += len(ts)
	}
	return n
}

func v2Endpoint(url string) EndpointConfig {
	q := DefaultQueueConfig
	q.BatchSendDeadline = 20 * time.Millisecond
	q.MinBackoff = time.Millisecond
	q.MaxBackoff = 20 * time.Millisecond
	return EndpointConfig{
		Name: "v2", URL: url, RemoteTimeout: 5 * time.Second, Queue: q,
		SendExemplars: true, SendNativeHistograms: true, ProtobufMessage: ProtoV2,
		MetadataSend: true, MetadataInterval: time.Hour, MetadataMaxPerSend: 2000,
	}
}

// TestV2SpecMUSTs sends floats, stale markers, integer and float native
// histograms, a series with both, exemplars with and without a timestamp
// and metadata as remote write 2.0, and checks each request against the
// specification's rules for senders (v2Receiver.check and serve) and the
// data against what was sent.
func TestV2SpecMUSTs(t *testing.T) {
	r := newV2Receiver(t)
	ep := v2Endpoint(r.srv.URL)
	// "MUST NOT allow users to configure [custom headers] in such a way
	// as to send reserved headers."
	ep.Headers = map[string]string{
		"Content-Type": "text/plain", "Content-Encoding": "gzip", "User-Agent": "user-set",
		"X-Prometheus-Remote-Write-Version": "9.9.9", "X-Scope-OrgID": "t1",
	}
	w := start(t, t.TempDir(), Options{UserAgent: "shoal-test/1"}, Config{
		ExternalLabels: labels.FromStrings("cluster", "c1"),
		Endpoints:      []EndpointConfig{ep},
	})
	ctr := labels.FromStrings("__name__", "http_requests_total", "job", "j", "instance", "i:1", "code", "200")
	gauge := labels.FromStrings("__name__", "temperature_celsius", "job", "j", "instance", "i:1")
	hist := labels.FromStrings("__name__", "latency_seconds", "job", "j", "instance", "i:1")
	fhist := labels.FromStrings("__name__", "size_bytes", "job", "j", "instance", "i:1")
	mixed := labels.FromStrings("__name__", "mixed", "job", "j", "instance", "i:1")
	h := func(n int64) *histogram.Histogram {
		return &histogram.Histogram{Count: uint64(3 + n), Sum: 2.5, Schema: 1, ZeroThreshold: 0.001, ZeroCount: 1,
			PositiveSpans: []histogram.Span{{Offset: -1, Length: 2}}, PositiveBuckets: []int64{1, n},
			NegativeSpans: []histogram.Span{{Offset: 2, Length: 1}}, NegativeBuckets: []int64{1}}
	}
	fh := &histogram.FloatHistogram{Count: 3, Sum: 2, Schema: 0, PositiveSpans: []histogram.Span{{Length: 2}}, PositiveBuckets: []float64{1, 2}, CounterResetHint: histogram.GaugeType}
	stale := math.Float64frombits(value.StaleNaN)
	b := &sample.Batch{
		Samples: []sample.Sample{
			{Labels: ctr, T: 1000, V: 1, ST: 500}, {Labels: ctr, T: 2000, V: 2, ST: 500}, {Labels: ctr, T: 3000, V: stale},
			{Labels: gauge, T: 1000, V: 21.5},
			{Labels: hist, T: 1000, H: h(1), ST: 1_700_000_000_000}, {Labels: hist, T: 2000, H: h(2)},
			{Labels: fhist, T: 1000, FH: fh},
			{Labels: mixed, T: 1000, V: 7}, {Labels: mixed, T: 2000, H: h(3)},
		},
		Exemplars: []sample.Exemplar{
			{Labels: ctr, Exemplar: exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "abc"), Value: 1, Ts: 1000, HasTs: true}},
			{Labels: hist, Exemplar: exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "def"), Value: 0.2}},
		},
		Metadata: []sample.Metadata{
			{Family: "http_requests", Type: model.MetricTypeCounter, Help: "Requests served."},
			{Family: "temperature_celsius", Type: model.MetricTypeGauge, Help: "Temperature.", Unit: "celsius"},
			{Family: "latency_seconds", Type: model.MetricTypeHistogram, Help: "Latency."},
		},
	}
	w.receive(t, []*sample.Batch{b})
	eventually(t, 10*time.Second, "all samples written", func() bool { return r.written() == len(b.Samples) })
	r.noViolations(t)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v1Reqs != 0 {
		t.Fatalf("%d 1.0 requests to a 2.0 receiver", r.v1Reqs)
	}
	withExt := func(ls labels.Labels) string {
		return labels.NewBuilder(ls).Set("cluster", "c1").Labels().String()
	}
	if got := r.series[withExt(ctr)]; !slices.Equal(got, []int64{1000, 2000, 3000}) {
		t.Fatalf("counter timestamps %v", got)
	}
	// "Stale markers MUST be signalled by the special NaN value
	// 0x7ff0000000000002."
	if v := r.values[withExt(ctr)]; len(v) != 3 || math.Float64bits(v[2]) != value.StaleNaN || v[0] != 1 {
		t.Fatalf("counter values %v: the stale marker is not 0x7ff0000000000002", v)
	}
	// start_timestamp (Sample field 3, Histogram field 17) as scraped; 0
	// (unset) where unknown.
	if got := r.starts[withExt(ctr)]; !slices.Equal(got, []int64{500, 500, 0}) {
		t.Fatalf("counter start timestamps %v", got)
	}
	if got := r.starts[withExt(hist)]; !slices.Equal(got, []int64{1_700_000_000_000, 0}) {
		t.Fatalf("histogram start timestamps %v", got)
	}
	if got := r.hists[withExt(hist)]; len(got) != 2 || !got[0].Equals(h(1)) || !got[1].Equals(h(2)) {
		t.Fatalf("integer histograms did not round-trip: %v", got)
	}
	if got := r.fhists[withExt(fhist)]; len(got) != 1 || !got[0].Equals(fh) {
		t.Fatalf("float histogram did not round-trip: %v", got)
	}
	if got := r.series[withExt(mixed)]; len(got) != 2 || len(r.hists[withExt(mixed)]) != 1 {
		t.Fatalf("mixed series: %v timestamps, %d histograms", got, len(r.hists[withExt(mixed)]))
	}
	ex := r.exemplars[withExt(ctr)]
	if len(ex) != 1 || ex[0].Value != 1 || ex[0].Timestamp != 1000 || r.exLabels[withExt(ctr)][0].Get("trace_id") != "abc" {
		t.Fatalf("counter exemplar %+v %v", ex, r.exLabels[withExt(ctr)])
	}
	if ex := r.exemplars[withExt(hist)]; len(ex) != 1 || ex[0].Timestamp == 0 || ex[0].Value != 0.2 {
		t.Fatalf("histogram exemplar %+v", ex)
	}
	if m, txt := r.meta["http_requests_total"], r.metaText["http_requests_total"]; m.Type != writev2.Metadata_METRIC_TYPE_COUNTER || txt[0] != "Requests served." {
		t.Fatalf("counter metadata %+v %q", m, txt)
	}
	if m, txt := r.meta["temperature_celsius"], r.metaText["temperature_celsius"]; m.Type != writev2.Metadata_METRIC_TYPE_GAUGE || txt != [2]string{"Temperature.", "celsius"} {
		t.Fatalf("gauge metadata %+v %q", m, txt)
	}
	if m := r.meta["latency_seconds"]; m.Type != writev2.Metadata_METRIC_TYPE_HISTOGRAM {
		t.Fatalf("histogram metadata %+v", m)
	}
	if m := r.meta["mixed"]; m.Type != writev2.Metadata_METRIC_TYPE_UNSPECIFIED || m.HelpRef != 0 {
		t.Fatalf("series without metadata got %+v", m)
	}
}

// TestV2ExactlyOnceInOrder: many requests (small batches, several
// shards); every series' samples arrive once each, in timestamp order.
func TestV2ExactlyOnceInOrder(t *testing.T) {
	r := newV2Receiver(t)
	ep := v2Endpoint(r.srv.URL)
	ep.Queue.MaxSamplesPerSend = 70
	ep.Queue.MinShards, ep.Queue.MaxShards = 3, 3
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	w.receive(t, makeBatches(8, 50, 1000))
	eventually(t, 20*time.Second, "all samples", func() bool { return r.written() == 400 })
	r.noViolations(t)
	r.mu.Lock()
	got := maps.Clone(r.series)
	r.mu.Unlock()
	checkExactlyOnce(t, got, 50, 8)
}

// TestV2PartialWriteCountedNotResent: a 2.0 receiver that writes all but
// one sample answers 400 with the ...-Written headers; the sender counts
// exactly what was written and sends nothing again, even with bisection.
func TestV2PartialWriteCountedNotResent(t *testing.T) {
	r := newV2Receiver(t)
	r.verdict = func(n int, req *writev2.Request) (int, *[3]int) {
		if n == 1 {
			total := 0
			for _, ts := range req.Timeseries {
				total += len(ts.Samples)
			}
			return http.StatusBadRequest, &[3]int{total - 1, 0, 0}
		}
		return 0, nil
	}
	ep := v2Endpoint(r.srv.URL)
	ep.BisectOn400 = true
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	w.receive(t, makeBatches(1, 50, 1000))
	eventually(t, 10*time.Second, "the request counted", func() bool {
		return counter(t, w.reg, "prometheus_remote_storage_samples_total") == 49
	})
	if f := counter(t, w.reg, "prometheus_remote_storage_samples_failed_total"); f != 1 {
		t.Fatalf("failed %v, want 1", f)
	}
	if rj := counter(t, w.reg, "shoal_remote_write_rejected_samples_total"); rj != 1 {
		t.Fatalf("rejected %v, want 1", rj)
	}
	w.w.Flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v2Reqs != 1 {
		t.Fatalf("%d requests: a partial write was sent again", r.v2Reqs)
	}
}

// TestV2RetriesOn5xx: 5xx is retried with backoff, 4xx (but 429) is not.
func TestV2RetriesOn5xx(t *testing.T) {
	r := newV2Receiver(t)
	r.verdict = func(n int, _ *writev2.Request) (int, *[3]int) {
		if n <= 2 {
			return http.StatusServiceUnavailable, nil
		}
		return 0, nil
	}
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{v2Endpoint(r.srv.URL)}})
	w.receive(t, makeBatches(1, 10, 1000))
	eventually(t, 10*time.Second, "samples written after the 5xx", func() bool { return r.written() == 10 })
	if n := counter(t, w.reg, "prometheus_remote_storage_samples_retried_total"); n != 20 {
		t.Fatalf("retried %v, want 20", n)
	}
}

// TestV2NoRetryOn4xx: a 4xx other than 429 without headers is dropped,
// never sent again.
func TestV2NoRetryOn4xx(t *testing.T) {
	r := newV2Receiver(t)
	r.verdict = func(n int, _ *writev2.Request) (int, *[3]int) {
		if n == 1 {
			return http.StatusForbidden, nil
		}
		return 0, nil
	}
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{v2Endpoint(r.srv.URL)}})
	w.receive(t, makeBatches(1, 10, 1000))
	eventually(t, 10*time.Second, "the request failed", func() bool {
		return counter(t, w.reg, "prometheus_remote_storage_samples_failed_total") == 10
	})
	w.receive(t, makeBatches(1, 10, 2000))
	eventually(t, 10*time.Second, "the next batch written", func() bool { return r.written() == 10 })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.v2Reqs != 2 {
		t.Fatalf("%d requests, want 2 (no retry of the 403)", r.v2Reqs)
	}
}

// TestV2FallbackOn415: a 1.0-only receiver answers 415; the same samples
// go as 1.0, exactly once, and so does everything after.
func TestV2FallbackOn415(t *testing.T) {
	r := newReceiver(t) // answers 415 to anything but 1.0
	ep := v2Endpoint(r.srv.URL)
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	w.receive(t, makeBatches(3, 20, 1000))
	eventually(t, 10*time.Second, "samples arrive as 1.0", func() bool { return r.total() == 60 })
	checkExactlyOnce(t, r.snapshot(), 20, 3)
	if f := counter(t, w.reg, "prometheus_remote_storage_samples_failed_total"); f != 0 {
		t.Fatalf("failed %v after fallback", f)
	}
}

// TestV2FallbackOnMissingHeaders: a receiver that answers a 2.0 request
// with 204 and no ...-Written headers (Prometheus before 2.54: it stored
// nothing) gets the same samples again as 1.0.
func TestV2FallbackOnMissingHeaders(t *testing.T) {
	r := newV2Receiver(t)
	r.v1, r.noHeaders = true, true
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{v2Endpoint(r.srv.URL)}})
	w.receive(t, makeBatches(2, 20, 1000))
	eventually(t, 10*time.Second, "samples arrive as 1.0", func() bool { return r.written() == 40 })
	r.mu.Lock()
	v2 := r.v2Reqs
	r.mu.Unlock()
	if v2 != 1 {
		t.Fatalf("%d 2.0 requests, want 1 then 1.0 only", v2)
	}
	r.noViolations(t)
}

// TestMetadataV1 sends the metadata the batches brought in 1.0 metadata
// requests every send_interval, at most max_samples_per_send entries each.
func TestMetadataV1(t *testing.T) {
	r := newV2Receiver(t)
	r.v1 = true
	ep := endpointFor(&receiver{srv: r.srv})
	ep.MetadataSend, ep.MetadataInterval, ep.MetadataMaxPerSend = true, 20*time.Millisecond, 2
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	b := makeBatches(1, 2, 1000)[0]
	b.Metadata = []sample.Metadata{
		{Family: "a_total", Type: model.MetricTypeCounter, Help: "A."},
		{Family: "b", Type: model.MetricTypeGauge, Help: "B.", Unit: "bytes"},
		{Family: "c", Type: model.MetricTypeSummary, Help: "C."},
	}
	w.receive(t, []*sample.Batch{b})
	eventually(t, 10*time.Second, "metadata sent twice", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.v1Meta) >= 6
	})
	r.mu.Lock()
	got := append([]prompb.MetricMetadata(nil), r.v1Meta[:3]...)
	r.mu.Unlock()
	slices.SortFunc(got, func(a, b prompb.MetricMetadata) int { return strings.Compare(a.MetricFamilyName, b.MetricFamilyName) })
	want := []prompb.MetricMetadata{
		{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "a_total", Help: "A."},
		{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "b", Help: "B.", Unit: "bytes"},
		{Type: prompb.MetricMetadata_SUMMARY, MetricFamilyName: "c", Help: "C."},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metadata %+v, want %+v", got, want)
	}
	if n := counter(t, w.reg, "prometheus_remote_storage_metadata_total"); n < 6 {
		t.Fatalf("metadata_total %v", n)
	}
}

// TestMetadataV1MaxPerSend: no metadata request holds more than
// max_samples_per_send entries.
func TestMetadataV1MaxPerSend(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		comp, _ := io.ReadAll(req.Body)
		raw, _ := snappy.Decode(nil, comp)
		var wr prompb.WriteRequest
		if err := wr.Unmarshal(raw); err == nil && len(wr.Metadata) > 0 {
			mu.Lock()
			sizes = append(sizes, len(wr.Metadata))
			mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	ep := endpointFor(&receiver{srv: srv})
	ep.MetadataSend, ep.MetadataInterval, ep.MetadataMaxPerSend = true, 20*time.Millisecond, 2
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	b := &sample.Batch{}
	for i := range 5 {
		b.Metadata = append(b.Metadata, sample.Metadata{Family: fmt.Sprint("f", i), Type: model.MetricTypeGauge})
	}
	w.receive(t, []*sample.Batch{b})
	eventually(t, 10*time.Second, "one round of metadata", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sizes) >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sizes[:3], []int{2, 2, 1}) {
		t.Fatalf("metadata request sizes %v, want 2, 2, 1", sizes)
	}
}

// TestMetadataSendFalse: with send = false no metadata is sent, in 1.0
// requests or inline in 2.0.
func TestMetadataSendFalse(t *testing.T) {
	r := newV2Receiver(t)
	ep := v2Endpoint(r.srv.URL)
	ep.MetadataSend = false
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	b := makeBatches(1, 1, 1000)[0]
	b.Metadata = []sample.Metadata{{Family: "test_metric", Type: model.MetricTypeGauge, Help: "T."}}
	w.receive(t, []*sample.Batch{b})
	eventually(t, 10*time.Second, "sample written", func() bool { return r.written() == 1 })
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.meta["test_metric"]; m.Type != 0 || m.HelpRef != 0 {
		t.Fatalf("metadata sent with send = false: %+v", m)
	}
}

func TestDecodeExemplarV1RoundTrip(t *testing.T) {
	e := exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "x", "span_id", "y"), Value: 1.5, Ts: 42, HasTs: true}
	var sb labels.ScratchBuilder
	got, err := decodeExemplarV1(&sb, AppendExemplar(nil, e))
	if err != nil || !labels.Equal(got.ls, e.Labels) || got.v != 1.5 || got.t != 42 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := decodeExemplarV1(&sb, []byte{0x0a, 0x05}); err == nil {
		t.Fatal("truncated exemplar decoded")
	}
}

// FuzzDecodeExemplarV1 checks that the exemplar decoder never panics and
// that what it decodes encodes back to the same exemplar.
func FuzzDecodeExemplarV1(f *testing.F) {
	f.Add(AppendExemplar(nil, exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "abc"), Value: 1, Ts: 5, HasTs: true}))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		var sb labels.ScratchBuilder
		ex, err := decodeExemplarV1(&sb, b)
		if err != nil {
			return
		}
		again, err := decodeExemplarV1(&sb, AppendExemplar(nil, exemplar.Exemplar{Labels: ex.ls, Value: ex.v, Ts: ex.t, HasTs: true}))
		if err != nil || !labels.Equal(again.ls, ex.ls) || again.t != ex.t || math.Float64bits(again.v) != math.Float64bits(ex.v) {
			t.Fatalf("round trip: %+v → %+v (%v)", ex, again, err)
		}
	})
}

// FuzzEncodeV2 builds a 2.0 request from fuzz input with the hand-written
// encoder and decodes it with prompb's writev2 types: labels, values,
// timestamps, start timestamps, histograms, exemplars and metadata must
// come back as given.
func FuzzEncodeV2(f *testing.F) {
	f.Add("job", "a", int64(1000), int64(500), 1.5, true, "help", "unit")
	f.Add("", "", int64(0), int64(0), math.NaN(), false, "", "")
	f.Add("x", "\xff", int64(-5), int64(-1), math.Inf(1), true, "h", "")
	f.Fuzz(func(t *testing.T, name, val string, ts, st int64, v float64, hist bool, help, unit string) {
		if name == "" || val == "" || name == labels.MetricName {
			return
		}
		ls := labels.FromStrings(labels.MetricName, "m", name, val)
		points := []Point{{T: ts, V: v, ST: st}}
		var h *histogram.Histogram
		if hist {
			h = &histogram.Histogram{Count: uint64(ts) & 0xff, Sum: v, Schema: int32(st % 8), PositiveSpans: []histogram.Span{{Offset: int32(ts % 5), Length: 1}}, PositiveBuckets: []int64{ts}}
			points = append(points, Point{T: ts + 1, Hist: AppendHistogram(nil, h), ST: st})
		}
		ex := AppendExemplar(nil, exemplar.Exemplar{Labels: labels.FromStrings("trace_id", val), Value: v, Ts: ts, HasTs: true})
		md := &sample.Metadata{Family: "m", Type: model.MetricTypeCounter, Help: help, Unit: unit}
		var w RequestWriterV2
		w.Reset()
		if !w.AddSeries(ls, points, [][]byte{ex}, md) {
			t.Fatal("series with points left out")
		}
		var req writev2.Request
		if err := req.Unmarshal(w.Bytes()); err != nil {
			t.Fatalf("does not decode: %v", err)
		}
		want := 1
		if hist {
			want = 2
		}
		if len(req.Timeseries) != want || req.Symbols[0] != "" {
			t.Fatalf("%d series, symbols %q", len(req.Timeseries), req.Symbols)
		}
		var sb labels.ScratchBuilder
		for _, s := range req.Timeseries {
			got, err := s.ToLabels(&sb, req.Symbols)
			if err != nil || !labels.Equal(got, ls) {
				t.Fatalf("labels %v (%v), want %v", got, err, ls)
			}
			if s.Metadata.Type != writev2.Metadata_METRIC_TYPE_COUNTER || req.Symbols[s.Metadata.HelpRef] != help || req.Symbols[s.Metadata.UnitRef] != unit {
				t.Fatalf("metadata %+v", s.Metadata)
			}
		}
		s := req.Timeseries[0]
		if len(s.Samples) != 1 || s.Samples[0].Timestamp != ts || s.Samples[0].StartTimestamp != st || math.Float64bits(s.Samples[0].Value) != math.Float64bits(v) {
			t.Fatalf("sample %+v, want t=%d st=%d v=%v", s.Samples, ts, st, v)
		}
		// An exemplar without a timestamp (0 is unset) takes its series'
		// last one: the spec requires one.
		wantExTs := ts
		if ts == 0 {
			wantExTs = points[len(points)-1].T
		}
		if len(s.Exemplars) != 1 || s.Exemplars[0].Timestamp != wantExTs || math.Float64bits(s.Exemplars[0].Value) != math.Float64bits(v) {
			t.Fatalf("exemplar %+v", s.Exemplars)
		}
		if hist {
			gh := req.Timeseries[1].Histograms
			if len(gh) != 1 || gh[0].Timestamp != ts+1 || gh[0].StartTimestamp != st || !gh[0].ToIntHistogram().Equals(h) {
				t.Fatalf("histogram %+v, want %v", gh, h)
			}
		}
	})
}
