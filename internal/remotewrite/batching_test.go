package remotewrite

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/sample"
)

// A shard holding part of a batch sleeps until enough has been appended to
// fill it: full batches must still leave at once, whatever the deadline,
// and a kill must still lose nothing held and resend nothing acknowledged.
func TestFullBatchesLeaveWithoutTheDeadlineAndAKillResendsOnlyTheHeldRest(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	ep := endpointFor(rcv)
	ep.Queue.BatchSendDeadline = time.Hour
	ep.Queue.MaxSamplesPerSend = 100
	cfg := Config{Endpoints: []EndpointConfig{ep}}
	r := start(t, dir, Options{}, cfg)
	bs := makeBatches(5, 50, 9_000_000)
	r.receive(t, bs[:1])
	// Let the shard read the first batch, so that it waits for the rest
	// to fill its batch rather than for the next append.
	eventually(t, 10*time.Second, "the shard to wait for a full batch", func() bool {
		r.w.q.mu.Lock()
		defer r.w.q.mu.Unlock()
		return len(r.w.q.notify) > 0
	})
	for _, b := range bs[1:] {
		r.receive(t, []*sample.Batch{b})
	}
	eventually(t, 20*time.Second, "two full batches at the receiver", func() bool { return rcv.total() >= 200 })
	rcv.mu.Lock()
	requests := rcv.accepted
	rcv.mu.Unlock()
	if got := rcv.total(); got != 200 || requests != 2 {
		t.Fatalf("the receiver has %d samples in %d requests, want 200 in 2 (the last 50 wait for the deadline)", got, requests)
	}

	// Persist the acknowledgements as the once-a-second sync would, then
	// die while the shard holds the last 50.
	r.w.tick(time.Now())
	r.w.kill()
	r.stop(t)
	r2 := start(t, dir, Options{}, cfg)
	r2.w.Flush()
	eventually(t, 20*time.Second, "the held samples after the restart", func() bool { return rcv.total() >= 250 })
	r2.stop(t)
	checkExactlyOnce(t, rcv.snapshot(), 50, 5)
}

// Samples that trickle in below a full batch are read when the deadline
// comes and leave together, none left behind.
func TestSamplesBelowABatchLeaveTogetherAtTheDeadline(t *testing.T) {
	rcv := newReceiver(t)
	ep := endpointFor(rcv)
	ep.Queue.BatchSendDeadline = time.Second
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(3, 10, 7_000_000))
	eventually(t, 20*time.Second, "30 samples at the receiver", func() bool { return rcv.total() >= 30 })
	checkExactlyOnce(t, rcv.snapshot(), 10, 3)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.accepted != 1 {
		t.Errorf("the samples came in %d requests, want 1", rcv.accepted)
	}
}
