package pipeline

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otelmetric "go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/shoal-dev/shoal/internal/lab"
)

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestOTLPMetricsReachPrometheus has the OpenTelemetry Go SDK push metrics
// over OTLP/gRPC and OTLP/HTTP to a running shoal, whose
// otelcol.receiver.otlp → otelcol.processor.batch →
// otelcol.exporter.prometheus pipeline converts them and remote-writes
// them through the disk queue to Debian's Prometheus. PromQL must find
// them under the names and labels Alloy gives them.
func TestOTLPMetricsReachPrometheus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prom := lab.StartPrometheus(t)
	grpcAddr, httpAddr := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`otelcol.receiver.otlp "in" {
  grpc {
    endpoint = %q
  }
  http {
    endpoint = %q
  }
  output {
    metrics = [otelcol.processor.batch.b.input]
  }
}

otelcol.processor.batch "b" {
  timeout = "100ms"
  output {
    metrics = [otelcol.exporter.prometheus.p.input]
  }
}

otelcol.exporter.prometheus "p" {
  add_metric_suffixes                  = true
  resource_to_telemetry_conversion     = false
  keep_identifying_resource_attributes = true
  forward_to                           = [prometheus.remote_write.rx.receiver]
}

prometheus.remote_write "rx" {
  endpoint {
    url = %q
    queue_config {
      batch_send_deadline = "100ms"
    }
  }
}
`, grpcAddr, httpAddr, prom.RemoteWriteURL())
	startNode(ctx, t, func() string { return cfg })

	res := resource.NewWithAttributes("",
		attribute.String("service.name", "checkout"),
		attribute.String("service.namespace", "shop"),
		attribute.String("service.instance.id", "pod-1"),
		attribute.String("k8s.namespace.name", "prod"),
	)
	grpcExp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(grpcAddr), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(httpAddr), otlpmetrichttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	for transport, exp := range map[string]sdkmetric.Exporter{"grpc": grpcExp, "http": httpExp} {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewManualReader()),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
		m := mp.Meter("shop/orders", otelmetric.WithInstrumentationVersion("1.2.3"))
		orders, _ := m.Int64Counter("shop.orders", otelmetric.WithUnit("{order}"))
		latency, _ := m.Float64Histogram("http.server.duration", otelmetric.WithUnit("ms"),
			otelmetric.WithExplicitBucketBoundaries(10, 100, 1000))
		inflight, _ := m.Int64UpDownCounter("shop.inflight")
		temp, _ := m.Float64Gauge("room.temperature", otelmetric.WithUnit("Cel"))
		attrs := otelmetric.WithAttributes(attribute.String("transport", transport))
		orders.Add(ctx, 7, attrs)
		for _, v := range []float64{5, 50, 500, 5000} {
			latency.Record(ctx, v, attrs)
		}
		inflight.Add(ctx, 3, attrs)
		inflight.Add(ctx, -1, attrs)
		temp.Record(ctx, 21.5, attrs)
		// The SDK retries a refused export for a while; the receiver starts
		// with the node, so a flush that races it is retried, not lost.
		if err := lab.WaitFor(ctx, func() bool { return mp.ForceFlush(ctx) == nil }); err != nil {
			t.Fatalf("%s: flushing the SDK: %v", transport, err)
		}
		if err := mp.Shutdown(ctx); err != nil {
			t.Logf("%s: shutdown: %v", transport, err)
		}
	}

	sel := func(name, transport string) string {
		return fmt.Sprintf(`%s{job="shop/checkout",instance="pod-1",transport=%q}`, name, transport)
	}
	for _, transport := range []string{"grpc", "http"} {
		for promql, want := range map[string]float64{
			sel("shop_orders_total", transport):                       7,
			sel("shop_inflight", transport):                           2,
			sel("room_temperature_celsius", transport):                21.5,
			sel("http_server_duration_milliseconds_count", transport): 4,
			sel("http_server_duration_milliseconds_sum", transport):   5555,
		} {
			checkValue(ctx, t, prom, promql, want)
		}
		for le, want := range map[string]float64{"10": 1, "100": 2, "1000": 3, "+Inf": 4} {
			checkValue(ctx, t, prom, fmt.Sprintf(`http_server_duration_milliseconds_bucket{job="shop/checkout",transport=%q,le=%q}`, transport, le), want)
		}
	}
	checkValue(ctx, t, prom, `target_info{job="shop/checkout",instance="pod-1",k8s_namespace_name="prod",service_name="checkout",service_namespace="shop",service_instance_id="pod-1"}`, 1)
	// As in Alloy, whose component never passes include_scope_labels on,
	// no series carries the scope's labels.
	checkValue(ctx, t, prom, `shop_orders_total{otel_scope_name!=""}`, -1)
}

// checkValue waits until promql gives one sample of value want (want -1:
// until it gives nothing, checked once the rest has arrived).
func checkValue(ctx context.Context, t *testing.T, prom *lab.Prometheus, promql string, want float64) {
	t.Helper()
	var last string
	err := lab.WaitFor(ctx, func() bool {
		v, err := prom.Query(ctx, promql, time.Time{})
		if err != nil {
			last = err.Error()
			return false
		}
		last = v.String()
		if want == -1 {
			return len(v) == 0
		}
		return len(v) == 1 && float64(v[0].Value) == want
	})
	if err != nil {
		t.Errorf("%s: got %s, want %v", promql, last, want)
	}
}
