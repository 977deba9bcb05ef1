package remotewrite

import (
	"fmt"
	"math/bits"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/sample"
)

// TestRejectedRequestIsDroppedNotRetriedByDefault: remote write 1.0 says a
// 4xx other than 429 is not retried, in whole or in part. The request is
// sent once, dropped, and its samples counted by the receiver's reason.
func TestRejectedRequestIsDroppedNotRetriedByDefault(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(_ int, req *prompb.WriteRequest) (int, string) {
		for _, ts := range req.Timeseries {
			for _, s := range ts.Samples {
				if s.Timestamp == 1_003_000 {
					return http.StatusBadRequest, "out of order sample"
				}
			}
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Queue.MaxSamplesPerSend = 500
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	// One request of 500 samples holds the bad one.
	r.receive(t, makeBatches(10, 50, 1_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "the request counted as failed", func() bool {
		return counter(t, r.reg, "prometheus_remote_storage_samples_failed_total") >= 500
	})
	// Then a good batch, to know the shard went on.
	r.receive(t, makeBatches(1, 50, 2_000_000))
	r.w.Flush()
	waitTotal(t, rcv, 50)
	rcv.mu.Lock()
	answered := rcv.answered
	rcv.mu.Unlock()
	if answered != 2 {
		t.Errorf("the receiver answered %d requests, want 2 (the rejected one once, the good one)", answered)
	}
	if got := counter(t, r.reg, "shoal_remote_write_rejected_samples_total", "reason", "out_of_order"); got != 500 {
		t.Errorf("rejected out_of_order = %v, want 500", got)
	}
	if got := counter(t, r.reg, "prometheus_remote_storage_samples_failed_total"); got != 500 {
		t.Errorf("failed = %v, want 500", got)
	}
}

// TestBisectionCostIsBounded rejects every sample of a batch of 2000 (20
// scrapes of 100 series) with bisection on: whatever the reason, the batch
// costs at most 1 + bisectBudget(n) + log2(n) requests, and every sample
// is counted as failed once.
func TestBisectionCostIsBounded(t *testing.T) {
	for _, msg := range []string{"out of bounds", "out of order sample", "something else"} {
		t.Run(msg, func(t *testing.T) {
			rcv := newReceiver(t)
			rcv.setVerdict(func(int, *prompb.WriteRequest) (int, string) { return http.StatusBadRequest, msg })
			ep := endpointFor(rcv)
			ep.BisectOn400 = true
			ep.Queue.BatchSendDeadline = time.Second
			r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
			b := &sample.Batch{}
			for target := range 20 {
				for s := range 100 {
					b.Samples = append(b.Samples, sample.Sample{
						Labels: labels.FromStrings("__name__", "m", "job", "j", "instance", fmt.Sprint("t", target), "s", fmt.Sprint(s)),
						T:      1000, V: 1,
					})
				}
			}
			r.receive(t, []*sample.Batch{b})
			r.w.Flush()
			eventually(t, 30*time.Second, "2000 samples failed", func() bool {
				return counter(t, r.reg, "prometheus_remote_storage_samples_failed_total") >= 2000
			})
			rcv.mu.Lock()
			answered := rcv.answered
			rcv.mu.Unlock()
			bound := 1 + bisectBudget(2000) + bits.Len(2000)
			t.Logf("%q: %d requests for an all-rejected batch of 2000 (bound %d)", msg, answered, bound)
			if answered > bound {
				t.Errorf("%d requests, want at most %d", answered, bound)
			}
			if got := counter(t, r.reg, "prometheus_remote_storage_samples_failed_total"); got != 2000 {
				t.Errorf("failed = %v, want 2000", got)
			}
		})
	}
}

// TestManyDuplicateScrapesAreFoundExactly rejects half the scrapes of a
// batch as duplicates (a partition, where another writer holds every other
// tick), at a receiver that rejects requests whole: with bisection, every
// good scrape still arrives, because each scrape found rejected whole gives
// its cost back to the budget.
func TestManyDuplicateScrapesAreFoundExactly(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(_ int, req *prompb.WriteRequest) (int, string) {
		for _, ts := range req.Timeseries {
			for _, l := range ts.Labels {
				if l.Name == "instance" && l.Value[len(l.Value)-1]%2 == 0 {
					return http.StatusBadRequest, "duplicate sample for timestamp"
				}
			}
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.BisectOn400 = true
	ep.Queue.BatchSendDeadline = time.Second
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	b := &sample.Batch{}
	for target := range 100 {
		for s := range 20 {
			b.Samples = append(b.Samples, sample.Sample{
				Labels: labels.FromStrings("__name__", "m", "job", "j", "instance", fmt.Sprint("t", target), "s", fmt.Sprint(s)),
				T:      1000, V: 1,
			})
		}
	}
	r.receive(t, []*sample.Batch{b})
	r.w.Flush()
	waitTotal(t, rcv, 1000)
	eventually(t, 20*time.Second, "the duplicates counted", func() bool {
		return counter(t, r.reg, "shoal_remote_write_rejected_samples_total", "reason", "duplicate") >= 1000
	})
	if got := rcv.total(); got != 1000 {
		t.Errorf("the receiver holds %d samples, want the 1000 of the 50 good scrapes", got)
	}
	rcv.mu.Lock()
	answered := rcv.answered
	rcv.mu.Unlock()
	t.Logf("%d requests for 50 duplicate scrapes among 100", answered)
}
