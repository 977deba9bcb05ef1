package remotewrite

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/lab"
	"github.com/shoal-dev/shoal/internal/sample"
)

// TestV2FallbackAgainstPrometheus242 sends remote write 2.0 to Debian's
// Prometheus 2.42, which predates 2.0: it answers the 2.0 request with
// 204 and no ...-Written headers and stores nothing. The sender falls back
// to 1.0 and every sample is stored, once.
func TestV2FallbackAgainstPrometheus242(t *testing.T) {
	p := lab.StartPrometheus(t)
	ep := v2Endpoint(p.RemoteWriteURL())
	w := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	now := time.Now().Add(-time.Minute).Truncate(time.Second)
	b := &sample.Batch{}
	for i := range 10 {
		ls := labels.FromStrings("__name__", "v2_fallback", "series", string(rune('a'+i)), "job", "j", "instance", "i")
		b.Samples = append(b.Samples, sample.Sample{Labels: ls, T: now.UnixMilli(), V: float64(i)})
	}
	w.receive(t, []*sample.Batch{b})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got model.Vector
	eventually(t, 30*time.Second, "the samples stored in Prometheus 2.42", func() bool {
		v, err := p.Query(ctx, "v2_fallback", now)
		got = v
		return err == nil && len(v) == 10
	})
	if n := counter(t, w.reg, "prometheus_remote_storage_samples_total"); n != 10 {
		t.Fatalf("samples_total %v, want 10 (the 2.0 request was not counted)", n)
	}
	for _, s := range got {
		if want := float64(s.Metric["series"][0] - 'a'); float64(s.Value) != want {
			t.Fatalf("%v = %v, want %v", s.Metric, s.Value, want)
		}
	}
	if eps := w.w.endpointsSnapshot("v2"); len(eps) != 1 || !eps[0].fellBack.Load() {
		t.Fatal("endpoint did not fall back to 1.0")
	}
}
