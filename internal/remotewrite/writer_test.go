package remotewrite

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/sample"
)

func TestEverySampleArrivesInOrderAcrossShards(t *testing.T) {
	rcv := newReceiver(t)
	ep := endpointFor(rcv)
	ep.Queue.MinShards, ep.Queue.MaxShards = 4, 4
	ep.Queue.MaxSamplesPerSend = 70
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(50, 40, 1_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "2000 samples at the receiver", func() bool { return rcv.total() >= 2000 })
	checkExactlyOnce(t, rcv.snapshot(), 40, 50)
	// The receiver stores a request before it answers, and the shard
	// counts it once the answer is in: wait for the last count.
	eventually(t, 5*time.Second, "samples_total to reach 2000", func() bool {
		return counter(t, r.reg, "prometheus_remote_storage_samples_total") >= 2000
	})
	if got := counter(t, r.reg, "prometheus_remote_storage_samples_total"); got != 2000 {
		t.Errorf("samples_total = %v, want 2000", got)
	}
	if got := counter(t, r.reg, "prometheus_remote_storage_shards"); got != 4 {
		t.Errorf("shards = %v, want 4", got)
	}
}

func TestKillResendsUnacknowledgedAndNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	// The receiver takes the first 5 requests, then fails until the restart.
	rcv.setVerdict(func(n int, _ *prompb.WriteRequest) (int, string) {
		if n > 5 {
			return http.StatusServiceUnavailable, "down"
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Queue.MaxSamplesPerSend = 100
	cfg := Config{Endpoints: []EndpointConfig{ep}}
	r := start(t, dir, Options{}, cfg)
	r.receive(t, makeBatches(20, 50, 5_000_000)) // 1000 samples
	r.w.Flush()
	eventually(t, 20*time.Second, "a failed request after five accepted", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.answered > 6
	})
	// Persist the acknowledgements as the once-a-second sync would, then
	// die without flushing or syncing again.
	r.w.tick(time.Now())
	r.w.kill()
	r.stop(t)
	if got := rcv.total(); got != 500 {
		t.Fatalf("before the kill the receiver accepted %d samples, want 500", got)
	}

	rcv.setVerdict(nil)
	r2 := start(t, dir, Options{}, cfg)
	r2.receive(t, makeBatches(10, 50, 5_020_000)) // 500 more, after the others
	r2.w.Flush()
	eventually(t, 20*time.Second, "1500 samples", func() bool { return rcv.total() >= 1500 })
	r2.stop(t)
	checkExactlyOnce(t, rcv.snapshot(), 50, 30)
}

func TestTornTailIsTruncatedOnReplay(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	cfg := Config{Endpoints: []EndpointConfig{endpointFor(rcv)}}
	w, err := Open(Options{Dir: dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range makeBatches(10, 20, 7_000_000) {
		if err := w.Receive(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	w.q.abort() // killed mid-write: no seal
	// Half of a frame at the tail, as a write cut short by the kill.
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	last := segs[len(segs)-1]
	var torn []byte
	torn, _ = (&recordEncoder{}).encodeBatch(nil, makeBatches(1, 20, 9_000_000)[0], nil)
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(torn[:len(torn)/2]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := start(t, dir, Options{}, cfg)
	r.w.Flush()
	eventually(t, 20*time.Second, "200 samples", func() bool { return rcv.total() >= 200 })
	r.receive(t, makeBatches(1, 20, 7_010_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "220 samples", func() bool { return rcv.total() >= 220 })
	r.stop(t)
	checkExactlyOnce(t, rcv.snapshot(), 20, 11)
}

func TestUnavailableReceiverIsRetriedUntilItRecovers(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(n int, _ *prompb.WriteRequest) (int, string) {
		switch {
		case n <= 4:
			return http.StatusServiceUnavailable, "starting"
		case n <= 6:
			return http.StatusTooManyRequests, "slow down"
		}
		return 0, ""
	})
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{endpointFor(rcv)}})
	r.receive(t, makeBatches(5, 30, 1_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "150 samples", func() bool { return rcv.total() >= 150 })
	checkExactlyOnce(t, rcv.snapshot(), 30, 5)
	if got := counter(t, r.reg, "prometheus_remote_storage_samples_retried_total"); got == 0 {
		t.Error("no retried samples counted")
	}
	if got := counter(t, r.reg, "prometheus_remote_storage_samples_failed_total"); got != 0 {
		t.Errorf("failed samples = %v, want 0", got)
	}
}

func TestBadRequestIsBisectedSoOnlyThePoisonedSampleIsLost(t *testing.T) {
	rcv := newReceiver(t)
	// Like Prometheus: one out-of-order sample fails the whole request.
	rcv.setVerdict(func(_ int, req *prompb.WriteRequest) (int, string) {
		for _, ts := range req.Timeseries {
			if labelsKey(ts.Labels) == "__name__=test_metric,instance=host-0123:9100,job=bench,series=7," {
				for _, s := range ts.Samples {
					if s.Timestamp == 1_003_000 {
						return http.StatusBadRequest, "out of order sample"
					}
				}
			}
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Queue.MaxSamplesPerSend = 500
	ep.BisectOn400 = true
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(10, 50, 1_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "499 samples", func() bool { return rcv.total() >= 499 })
	got := rcv.snapshot()
	for k, ts := range got {
		want := 10
		if strings.Contains(k, "series=7,") {
			want = 9
		}
		if len(ts) != want {
			t.Errorf("series %s: %d samples, want %d", k, len(ts), want)
		}
	}
	eventually(t, 5*time.Second, "the rejection counted", func() bool {
		return counter(t, r.reg, "shoal_remote_write_rejected_samples_total", "reason", "out_of_order") == 1
	})
	if f := counter(t, r.reg, "prometheus_remote_storage_samples_failed_total"); f != 1 {
		t.Errorf("failed = %v, want 1", f)
	}
}

func TestDuplicateTicksAreDroppedWholeAndTheRestDelivered(t *testing.T) {
	rcv := newReceiver(t)
	// Like Prometheus during a partition: another writer holds ticks 3 and
	// 6 of this target already, and one conflicting sample fails the
	// whole request.
	doubled := map[int64]bool{1_003_000: true, 1_006_000: true}
	rcv.setVerdict(func(_ int, req *prompb.WriteRequest) (int, string) {
		for _, ts := range req.Timeseries {
			for _, s := range ts.Samples {
				if doubled[s.Timestamp] {
					return http.StatusBadRequest, "duplicate sample for timestamp"
				}
			}
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Queue.MaxSamplesPerSend = 2000
	ep.Queue.BatchSendDeadline = time.Second
	ep.BisectOn400 = true
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	// Ten scrapes of one target: 50 series and `up` each.
	bs := makeBatches(10, 50, 1_000_000)
	up := labels.FromStrings("__name__", "up", "job", "bench", "instance", "host-0123:9100")
	for i, b := range bs {
		b.Samples = append(b.Samples, sample.Sample{Labels: up, T: 1_000_000 + int64(i)*1000, V: 1})
	}
	r.receive(t, bs)
	r.w.Flush()
	eventually(t, 20*time.Second, "the eight other ticks", func() bool { return rcv.total() >= 8*51 })
	for k, ts := range rcv.snapshot() {
		if len(ts) != 8 {
			t.Errorf("series %s: %d samples, want 8", k, len(ts))
		}
		for _, tm := range ts {
			if doubled[tm] {
				t.Errorf("series %s: the doubled tick %d was delivered", k, tm)
			}
		}
	}
	eventually(t, 5*time.Second, "the doubled ticks counted", func() bool {
		return counter(t, r.reg, "shoal_ticks_doubled_total") == 2
	})
	if got := counter(t, r.reg, "shoal_remote_write_rejected_samples_total", "reason", "duplicate"); got != 2*51 {
		t.Errorf("rejected duplicates = %v, want %d", got, 2*51)
	}
	// Split along scrapes, two bad ticks among ten take a handful of
	// requests; split sample by sample they would take hundreds.
	rcv.mu.Lock()
	answered := rcv.answered
	rcv.mu.Unlock()
	if answered > 20 {
		t.Errorf("the receiver answered %d requests, want at most 20", answered)
	}
}

func TestFullQueueDropsOldestWithFlatMemory(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(int, *prompb.WriteRequest) (int, string) { return http.StatusServiceUnavailable, "down" })
	ep := endpointFor(rcv)
	ep.Queue.MaxBackoff = 5 * time.Millisecond
	opts := Options{MaxBytes: 1 << 20, SegmentBytes: 64 << 10}
	r := start(t, t.TempDir(), opts, Config{Endpoints: []EndpointConfig{ep}})
	var heap []uint64
	var ms runtime.MemStats
	const rounds = 40
	total := 0
	for i := range rounds {
		bs := makeBatches(25, 200, int64(i)*100_000_000)
		r.receive(t, bs)
		total += 25 * 200
		if r.w.q.size() > uint64(opts.MaxBytes+opts.SegmentBytes) {
			t.Fatalf("queue holds %d bytes, bound %d", r.w.q.size(), opts.MaxBytes)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapInuse)
	}
	dropped := counter(t, r.reg, "prometheus_remote_storage_samples_dropped_total", "reason", "queue_full")
	if dropped < float64(total)/2 {
		t.Errorf("dropped %v of %d samples, want most of them", dropped, total)
	}
	// The backlog written is ~10× the bound; memory must not follow it.
	early, late := heap[rounds/4], heap[rounds-1]
	if late > early+16<<20 {
		t.Errorf("heap in use grew from %d to %d bytes while the queue was full", early, late)
	}
	// Once the receiver is back, what the bound kept is delivered.
	rcv.setVerdict(nil)
	r.w.Flush()
	eventually(t, 30*time.Second, "the kept samples", func() bool {
		return float64(rcv.total())+dropped >= float64(total)
	})
}

func TestWatermarkFollowsAcknowledgements(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(int, *prompb.WriteRequest) (int, string) { return http.StatusServiceUnavailable, "down" })
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{endpointFor(rcv)}})
	base := time.Now().Add(-time.Minute).UnixMilli()
	r.receive(t, makeBatches(3, 5, base))
	if w := r.w.Watermark(); w != base-1 {
		t.Fatalf("watermark with samples pending = %d, want %d", w, base-1)
	}
	rcv.setVerdict(nil)
	r.w.Flush()
	eventually(t, 20*time.Second, "the samples delivered", func() bool { return rcv.total() == 15 })
	eventually(t, 5*time.Second, "the watermark past the samples", func() bool {
		return r.w.Watermark() >= time.Now().Add(-time.Second).UnixMilli()
	})
}

func TestUpdateKeepsQueuedData(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(int, *prompb.WriteRequest) (int, string) { return http.StatusServiceUnavailable, "down" })
	ep := endpointFor(rcv)
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(4, 10, 1_000_000))
	same := r.w.eps["test"]
	if err := r.w.Update(Config{Endpoints: []EndpointConfig{ep}}); err != nil {
		t.Fatal(err)
	}
	if r.w.eps["test"] != same {
		t.Fatal("an unchanged endpoint was restarted")
	}
	ep.Queue.MaxSamplesPerSend = 7
	ep.Headers = map[string]string{"X-Scope-OrgID": "a"}
	if err := r.w.Update(Config{Endpoints: []EndpointConfig{ep}, ExternalLabels: labels.FromStrings("cluster", "c1")}); err != nil {
		t.Fatal(err)
	}
	rcv.setVerdict(nil)
	r.w.Flush()
	eventually(t, 20*time.Second, "40 samples", func() bool { return rcv.total() >= 40 })
	got := rcv.snapshot()
	for k := range got {
		if !strings.HasPrefix(k, "__name__=test_metric,cluster=c1,") {
			t.Fatalf("series %s lacks the external label", k)
		}
	}
	checkExactlyOnce(t, got, 10, 4)
}

func TestHistogramsAndExemplars(t *testing.T) {
	rcv := newReceiver(t)
	ep := endpointFor(rcv)
	on := ep
	on.Name = "on"
	on.SendNativeHistograms = true
	off := ep
	off.Name, off.URL = "off", rcv.srv.URL+"/off"
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{on, off}})
	ls := labels.FromStrings("__name__", "h")
	b := &sample.Batch{
		Samples: []sample.Sample{
			{Labels: ls, T: 1000, H: &histogram.Histogram{Count: 3, Sum: 2, Schema: 1, PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []int64{1, 1}}},
			{Labels: ls, T: 2000, FH: &histogram.FloatHistogram{Count: 3, Sum: 2, Schema: 1, PositiveSpans: []histogram.Span{{Offset: 0, Length: 2}}, PositiveBuckets: []float64{1, 2}}},
		},
		Exemplars: []sample.Exemplar{{Labels: ls, Exemplar: exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "abc"), Value: 1, Ts: 1000, HasTs: true}}},
	}
	r.receive(t, []*sample.Batch{b})
	r.w.Flush()
	eventually(t, 20*time.Second, "two histograms and two exemplars", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.hists == 2 && rcv.exs == 2
	})
	eventually(t, 5*time.Second, "the disabled endpoint counting its dropped histograms", func() bool {
		return counter(t, r.reg, "prometheus_remote_storage_samples_dropped_total", "remote_name", "off", "reason", "native_histograms_disabled") == 2
	})
}

func TestBacklogAddsShardsWithoutLosingOrder(t *testing.T) {
	rcv := newReceiver(t)
	rcv.setVerdict(func(int, *prompb.WriteRequest) (int, string) {
		time.Sleep(2 * time.Millisecond) // a receiver slower than the queue
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Queue.MinShards, ep.Queue.MaxShards = 1, 8
	ep.Queue.MaxSamplesPerSend = 500
	r := start(t, t.TempDir(), Options{ReshardInterval: 30 * time.Millisecond}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(300, 1000, 1_000_000)) // ~7 MiB of backlog
	eventually(t, 50*time.Second, "300000 samples", func() bool { return rcv.total() >= 300_000 })
	checkExactlyOnce(t, rcv.snapshot(), 1000, 300)
	if got := counter(t, r.reg, "prometheus_remote_storage_shards"); got < 2 {
		eventually(t, 5*time.Second, "more than one shard", func() bool { return false })
	}
}
