package prometheus_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/component/otelcol/exporter/prometheus"
	"github.com/shoal-dev/shoal/internal/component/otelcol/otelcoltest"
	"github.com/shoal-dev/shoal/internal/component/otelcol/receiver/otlp"
	"github.com/shoal-dev/shoal/internal/runtime"
	"github.com/shoal-dev/shoal/internal/sample"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a prometheus.Arguments
	if err := discoverytest.Decode(t, `otelcol.exporter.prometheus "x" { forward_to = [] }`, "otelcol.exporter.prometheus", nil, &a); err != nil {
		t.Fatal(err)
	}
	want := prometheus.Arguments{IncludeTargetInfo: true, IncludeScopeLabels: true, GCFrequency: 5 * time.Minute, AddMetricSuffixes: true, ForwardTo: []sample.Receiver{}}
	if fmt.Sprint(a) != fmt.Sprint(want) {
		t.Errorf("defaults %+v, want %+v", a, want)
	}
	rt := runtime.New(runtime.Options{Registry: component.NewRegistry(prometheus.Registration)})
	diags := rt.Validate("e.alloy", []byte("otelcol.exporter.prometheus \"x\" {\n  forward_to = []\n  gc_frequency = \"0s\"\n}"))
	if len(diags) == 0 || !strings.Contains(diags.Error(), "e.alloy:1:1") || !strings.Contains(diags.Error(), "gc_frequency must be greater than 0") {
		t.Errorf("gc_frequency 0: %v", diags)
	}
}

// TestRealConfigsValidate: the configs the k8s-monitoring chart writes,
// whose destinations are otelcol.exporter.prometheus, validate whole.
func TestRealConfigsValidate(t *testing.T) {
	files, _ := filepath.Glob("testdata/real/*.alloy")
	if len(files) == 0 {
		t.Fatal("no real configs in testdata/real")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(src), "otelcol.exporter.prometheus") {
			t.Errorf("%s does not use otelcol.exporter.prometheus", f)
		}
		rt := runtime.New(runtime.Options{Registry: all.Registry()})
		if diags := rt.Validate(f, src); len(diags) > 0 {
			t.Errorf("%s: %v", f, diags)
		}
	}
}

// TestForwardsOneBatchPerRequest: the input converts and forwards each
// request's metrics as one batch to every receiver.
func TestForwardsOneBatchPerRequest(t *testing.T) {
	var mu sync.Mutex
	var got []string
	rcv := sample.ReceiverFunc(func(_ context.Context, b *sample.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range b.Samples {
			got = append(got, s.Labels.String())
		}
		return nil
	})
	var a prometheus.Arguments
	if err := discoverytest.Decode(t, `otelcol.exporter.prometheus "x" { forward_to = [r, r] }`, "otelcol.exporter.prometheus", map[string]any{"r": sample.Receiver(rcv)}, &a); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "otelcol.exporter.prometheus.x")
	c, err := prometheus.New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	in := rec.Last().(otelcol.ConsumerExports).Input
	if err := in.ConsumeMetrics(context.Background(), otelcoltest.Gauges("g", 2)); err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := []string{
		`{__name__="g", i="0", job="svc"}`, `{__name__="g", i="0", job="svc"}`,
		`{__name__="g", i="1", job="svc"}`, `{__name__="g", i="1", job="svc"}`,
		`{__name__="target_info", job="svc"}`, `{__name__="target_info", job="svc"}`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("forwarded %v, want %v", got, want)
	}
}

// TestPipelineToRemoteWrite runs Alloy's OTLP pipeline in the runtime:
// otelcol.receiver.otlp into otelcol.processor.batch into
// otelcol.exporter.prometheus into prometheus.remote_write, and reads the
// series back from the remote write request.
func TestPipelineToRemoteWrite(t *testing.T) {
	var mu sync.Mutex
	series := map[string]float64{}
	histograms := map[string]prompb.Histogram{}
	exemplars := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, body)
		var req prompb.WriteRequest
		if err == nil {
			err = req.Unmarshal(raw)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ts := range req.Timeseries {
			var parts []string
			for _, l := range ts.Labels {
				parts = append(parts, l.Name+"="+l.Value)
			}
			key := strings.Join(parts, ",")
			for _, s := range ts.Samples {
				series[key] = s.Value
			}
			for _, h := range ts.Histograms {
				histograms[key] = h
			}
			for _, e := range ts.Exemplars {
				exemplars[key] = fmt.Sprintf("%v %v", e.Labels, e.Value)
			}
		}
	}))
	defer srv.Close()

	src := `
otelcol.receiver.otlp "in" {
	http { endpoint = "127.0.0.1:0" }
	output { metrics = [otelcol.processor.batch.b.input] }
}
otelcol.processor.batch "b" {
	timeout = "20ms"
	output { metrics = [otelcol.exporter.prometheus.p.input] }
}
otelcol.exporter.prometheus "p" {
	keep_identifying_resource_attributes = true
	forward_to = [prometheus.remote_write.rw.receiver]
}
prometheus.remote_write "rw" {
	endpoint {
		url = "` + srv.URL + `/api/v1/write"
		send_native_histograms = true
		send_exemplars = true
		queue_config { batch_send_deadline = "20ms" }
	}
}
`
	rt := runtime.New(runtime.Options{Registry: all.Registry(), DataPath: t.TempDir()})
	if err := rt.Load("otlp.alloy", []byte(src)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var addr string
	discoverytest.Eventually(t, 20*time.Second, func() bool {
		info, ok := rt.Component("otelcol.receiver.otlp.in")
		if !ok || info.DebugInfo == nil {
			return false
		}
		addr = info.DebugInfo.(otlp.Addresses).HTTP
		return addr != ""
	}, "the OTLP receiver did not start")

	body := fmt.Sprintf(`{"resourceMetrics": [{"resource": {"attributes": [
		{"key": "service.name", "value": {"stringValue": "checkout"}},
		{"key": "service.namespace", "value": {"stringValue": "shop"}},
		{"key": "service.instance.id", "value": {"stringValue": "pod-1"}},
		{"key": "k8s.pod.name", "value": {"stringValue": "pod-1"}}]},
		"scopeMetrics": [{"metrics": [
			{"name": "http.server.request.duration", "unit": "s", "sum": {"aggregationTemporality": 2, "isMonotonic": true,
				"dataPoints": [{"timeUnixNano": "%[1]d", "asDouble": 2.5, "attributes": [{"key": "http.route", "value": {"stringValue": "/pay"}}],
					"exemplars": [{"timeUnixNano": "%[1]d", "asDouble": 0.7, "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}]}]}},
			{"name": "rpc.latency", "unit": "s", "exponentialHistogram": {"aggregationTemporality": 2,
				"dataPoints": [{"timeUnixNano": "%[1]d", "scale": 1, "count": "6", "sum": 9.5, "zeroCount": "1",
					"positive": {"offset": 2, "bucketCounts": ["2", "0", "3"]}}]}}]}]}]}`,
		time.Now().UnixNano())
	resp, err := http.Post("http://"+addr+"/v1/metrics", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %s", resp.Status)
	}
	want := map[string]float64{
		"__name__=http_server_request_duration_seconds_total,http_route=/pay,instance=pod-1,job=shop/checkout":                                            2.5,
		"__name__=target_info,instance=pod-1,job=shop/checkout,k8s_pod_name=pod-1,service_instance_id=pod-1,service_name=checkout,service_namespace=shop": 1,
	}
	discoverytest.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for k, v := range want {
			if got, ok := series[k]; !ok || got != v {
				return false
			}
		}
		return true
	}, "remote write did not receive %v", want)
	discoverytest.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		_, ok := histograms["__name__=rpc_latency_seconds,instance=pod-1,job=shop/checkout"]
		return ok
	}, "remote write did not receive the native histogram")
	mu.Lock()
	h := histograms["__name__=rpc_latency_seconds,instance=pod-1,job=shop/checkout"]
	ex := exemplars["__name__=http_server_request_duration_seconds_total,http_route=/pay,instance=pod-1,job=shop/checkout"]
	mu.Unlock()
	// OTLP buckets 2 and 4 of scale 1 are Prometheus' 3 and 5.
	if h.Schema != 1 || h.GetCountInt() != 6 || h.Sum != 9.5 || h.GetZeroCountInt() != 1 ||
		fmt.Sprint(h.PositiveSpans, h.PositiveDeltas) != fmt.Sprint([]prompb.BucketSpan{{Offset: 3, Length: 3}}, []int64{2, -2, 3}) {
		t.Errorf("native histogram %+v", h)
	}
	if !strings.Contains(ex, "5b8efff798038103d269b633813fc60c") || !strings.Contains(ex, "0.7") {
		t.Errorf("exemplar %q", ex)
	}
	for _, id := range []string{"otelcol.receiver.otlp.in", "otelcol.processor.batch.b", "otelcol.exporter.prometheus.p", "prometheus.remote_write.rw"} {
		if info, _ := rt.Component(id); info.Health.State != component.HealthHealthy {
			t.Errorf("%s: %+v", id, info.Health)
		}
	}
}
