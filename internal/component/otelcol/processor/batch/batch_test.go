package batch

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/component/otelcol/otelcoltest"
	"github.com/shoal-dev/shoal/internal/runtime"
)

func build(t *testing.T, body string, sink otelcol.Consumer) *Component {
	t.Helper()
	var a Arguments
	if err := discoverytest.Decode(t, "otelcol.processor.batch \"b\" {\n"+body+"\noutput { metrics = [sink] }\n}",
		"otelcol.processor.batch", map[string]any{"sink": sink}, &a); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "otelcol.processor.batch.b")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := rec.Last().(otelcol.ConsumerExports); !ok || e.Input != otelcol.Consumer(c) {
		t.Fatalf("exports %v", rec.Last())
	}
	return c
}

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `otelcol.processor.batch "b" {
		output { }
	}`, "otelcol.processor.batch", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.Timeout != 200*time.Millisecond || a.SendBatchSize != 2000 || a.SendBatchMaxSize != 3000 || a.MetadataCardinalityLimit != 1000 {
		t.Errorf("defaults %+v", a)
	}
	rt := runtime.New(runtime.Options{Registry: component.NewRegistry(Registration)})
	diags := rt.Validate("b.alloy", []byte("otelcol.processor.batch \"b\" {\n  send_batch_size = 10\n  send_batch_max_size = 5\n  output { }\n}"))
	if len(diags) == 0 || !strings.Contains(diags.Error(), "b.alloy:1:1") || !strings.Contains(diags.Error(), "send_batch_max_size") {
		t.Errorf("max below size: %v", diags)
	}
}

// TestFullBatchGoesAtOnce: the request that fills a batch sends
// send_batch_max_size pieces of it while send_batch_size points are left,
// before it returns; what is left goes later.
func TestFullBatchGoesAtOnce(t *testing.T) {
	sink := &otelcoltest.Sink{}
	c := build(t, `timeout = "1h"
		send_batch_size = 8
		send_batch_max_size = 8`, sink)
	ctx := context.Background()
	if err := c.ConsumeMetrics(ctx, otelcoltest.Gauges("g", 6)); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.All()); n != 0 {
		t.Fatalf("%d batches sent before the batch was full", n)
	}
	if err := c.ConsumeMetrics(ctx, otelcoltest.Gauges("g", 5)); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, m := range sink.All() {
		sizes = append(sizes, m.DataPointCount())
	}
	if len(sizes) != 1 || sizes[0] != 8 {
		t.Fatalf("batch sizes %v, want [8]: the 3 left wait for the timeout, as in the collector", sizes)
	}
	// The rest goes when the component stops (or its timeout passes).
	ctx2, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx2) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sizes = nil
	for _, m := range sink.All() {
		sizes = append(sizes, m.DataPointCount())
	}
	if len(sizes) != 2 || sizes[1] != 3 {
		t.Fatalf("batch sizes %v after stopping, want [8 3]", sizes)
	}
	// Order and content survive the split: values 0..5 then 0..4.
	var vals []int64
	for _, m := range sink.All() {
		rms := m.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			if v, _ := rms.At(i).Resource().Attributes().Get("service.name"); v.AsString() != "svc" {
				t.Errorf("resource lost in the split")
			}
			ms := rms.At(i).ScopeMetrics().At(0).Metrics()
			for j := 0; j < ms.Len(); j++ {
				vals = append(vals, ms.At(j).Gauge().DataPoints().At(0).IntValue())
			}
		}
	}
	want := []int64{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4}
	for i := range want {
		if i >= len(vals) || vals[i] != want[i] {
			t.Fatalf("values %v, want %v", vals, want)
		}
	}
}

// TestTimeoutSendsWhatArrived: a batch that does not fill goes after the
// timeout.
func TestTimeoutSendsWhatArrived(t *testing.T) {
	sink := &otelcoltest.Sink{}
	c := build(t, `timeout = "50ms"`, sink)
	discoverytest.Run(t, c)
	if err := c.ConsumeMetrics(context.Background(), otelcoltest.Gauges("g", 3)); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, 10*time.Second, func() bool { return sink.Points() == 3 }, "the batch was not sent on timeout")
}

// TestSplitKeepsEveryKind splits a batch of every kind of metric one
// point at a time.
func TestSplitKeepsEveryKind(t *testing.T) {
	md := pmetric.NewMetrics()
	sm := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("scope")
	m := sm.Metrics().AppendEmpty()
	m.SetName("sum")
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	s.DataPoints().AppendEmpty().SetIntValue(1)
	s.DataPoints().AppendEmpty().SetIntValue(2)
	m = sm.Metrics().AppendEmpty()
	m.SetName("hist")
	m.SetEmptyHistogram().DataPoints().AppendEmpty().SetCount(3)
	m = sm.Metrics().AppendEmpty()
	m.SetName("exp")
	m.SetEmptyExponentialHistogram().DataPoints().AppendEmpty().SetCount(4)
	m = sm.Metrics().AppendEmpty()
	m.SetName("sum2")
	m.SetEmptySummary().DataPoints().AppendEmpty().SetCount(5)
	var names []string
	for md.DataPointCount() > 0 {
		part := split(1, md)
		if part.DataPointCount() != 1 {
			t.Fatalf("a part of %d points", part.DataPointCount())
		}
		pm := part.ResourceMetrics().At(0).ScopeMetrics().At(0)
		if pm.Scope().Name() != "scope" {
			t.Error("scope lost")
		}
		x := pm.Metrics().At(0)
		if x.Name() == "sum" && (!x.Sum().IsMonotonic() || x.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative) {
			t.Error("sum lost its kind")
		}
		names = append(names, x.Name())
	}
	if strings.Join(names, ",") != "sum,sum,hist,exp,sum2" {
		t.Errorf("parts %v", names)
	}
}

// TestMetadataKeysBatchApart: with metadata_keys, requests of different
// values make different batches, each sent with its values; beyond
// metadata_cardinality_limit a request is refused.
func TestMetadataKeysBatchApart(t *testing.T) {
	sink := &metadataSink{}
	c := build(t, `timeout = "1h"
		send_batch_size = 2
		metadata_keys = ["X-Tenant"]
		metadata_cardinality_limit = 2`, sink)
	blue := otelcol.WithMetadata(context.Background(), map[string][]string{"x-tenant": {"blue"}})
	red := otelcol.WithMetadata(context.Background(), map[string][]string{"x-tenant": {"red"}})
	green := otelcol.WithMetadata(context.Background(), map[string][]string{"x-tenant": {"green"}})
	for _, ctx := range []context.Context{blue, red} {
		if err := c.ConsumeMetrics(ctx, otelcoltest.Gauges("g", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if len(sink.tenants) != 0 {
		t.Fatalf("sent %v before any batch was full", sink.tenants)
	}
	if err := c.ConsumeMetrics(green, otelcoltest.Gauges("g", 1)); err == nil {
		t.Error("a third tenant was accepted over a limit of 2")
	}
	if err := c.ConsumeMetrics(red, otelcoltest.Gauges("g", 1)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(sink.tenants, ",") != "red" {
		t.Errorf("sent batches of %v, want [red]", sink.tenants)
	}
}

type metadataSink struct{ tenants []string }

func (s *metadataSink) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	s.tenants = append(s.tenants, strings.Join(otelcol.Metadata(ctx)["x-tenant"], "+"))
	return nil
}
