package remotewrite

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/sample"
)

// A receiver that already holds a tick rejects our copy as a duplicate.
// Each rejected `up` sample is one doubled tick; duplicates of other series
// count as rejections only.
func TestRejectedDuplicateUpCountsOneDoubledTick(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(_ int, req *prompb.WriteRequest) (int, string) {
		for _, ts := range req.Timeseries {
			for _, s := range ts.Samples {
				if s.Timestamp == 5_000 {
					return http.StatusBadRequest, "duplicate sample for timestamp"
				}
			}
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.BisectOn400 = true
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	up := labels.FromStrings("__name__", "up", "instance", "a:1", "job", "j")
	other := labels.FromStrings("__name__", "scrape_duration_seconds", "instance", "a:1", "job", "j")
	var bs []*sample.Batch
	for _, ts := range []int64{3_000, 5_000, 7_000} {
		bs = append(bs, &sample.Batch{Samples: []sample.Sample{{Labels: up, T: ts, V: 1}, {Labels: other, T: ts, V: 0.1}}})
	}
	r.receive(t, bs)
	r.w.Flush()
	eventually(t, 20*time.Second, "4 samples delivered", func() bool { return rcv.total() >= 4 })
	eventually(t, 5*time.Second, "both rejections counted", func() bool {
		return counter(t, r.reg, "shoal_remote_write_rejected_samples_total", "reason", "duplicate") == 2
	})
	if got := counter(t, r.reg, "shoal_ticks_doubled_total"); got != 1 {
		t.Fatalf("shoal_ticks_doubled_total = %v, want 1 (one doubled tick)", got)
	}
}
