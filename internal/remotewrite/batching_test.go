package remotewrite

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

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

// A shard takes a series' labels from the encoder while the segment is
// being written, and decodes them from the disk after a restart: the
// receiver must see the same series and samples either way.
func TestLabelsFromMemoryAndFromDiskAreTheSame(t *testing.T) {
	for name, ext := range map[string]labels.Labels{
		"no external labels": labels.EmptyLabels(),
		"external labels":    labels.FromStrings("cluster", "eu", "job", "ignored: the series have one"),
	} {
		t.Run(name, func(t *testing.T) { testLabelsFromMemoryAndDisk(t, ext) })
	}
}

func testLabelsFromMemoryAndDisk(t *testing.T, ext labels.Labels) {
	batches := makeBatches(4, 30, 3_000_000, "zone", "a")

	live := newReceiver(t)
	cfg := Config{ExternalLabels: ext, Endpoints: []EndpointConfig{endpointFor(live)}}
	r := start(t, t.TempDir(), Options{}, cfg)
	r.receive(t, batches)
	r.w.Flush()
	eventually(t, 20*time.Second, "the live samples", func() bool { return live.total() >= 120 })
	r.stop(t)

	// Queue the same batches without sending, then send them from the
	// disk after a restart.
	replayed := newReceiver(t)
	dir := t.TempDir()
	cfg.Endpoints = []EndpointConfig{endpointFor(replayed)}
	w, err := Open(Options{Dir: dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.Receive(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := start(t, dir, Options{}, cfg)
	r2.w.Flush()
	eventually(t, 20*time.Second, "the replayed samples", func() bool { return replayed.total() >= 120 })
	r2.stop(t)

	got, want := replayed.snapshot(), live.snapshot()
	checkExactlyOnce(t, want, 30, 4)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replayed from disk:\n%v\nsent from memory:\n%v", got, want)
	}
	for k := range want {
		if strings.Contains(k, "cluster=eu,") == ext.IsEmpty() || !strings.Contains(k, "job=bench,") {
			t.Fatalf("series %s: external labels %v misapplied", k, ext)
		}
	}
}

// The length of a TimeSeries takes one to four bytes; whichever it takes,
// and whatever room was reserved for it, encoding the labels on the fly
// writes what encoding them first does.
func TestAddSeriesLabelsWritesWhatAddSeriesWrites(t *testing.T) {
	var points []Point
	for i := range 3 {
		points = append(points, Point{T: 1700000000000 + int64(i)*2000, V: float64(i)})
	}
	for _, size := range []int{0, 90, 200, 20_000, 3 << 20} {
		for np := range len(points) + 1 {
			ls := labels.FromStrings("__name__", "m", "big", strings.Repeat("x", size))
			var a, b RequestWriter
			a.AddSeries(AppendLabels(nil, ls), points[:np], nil)
			a.AddSeries(AppendLabels(nil, ls), nil, nil)
			b.AddSeriesLabels(ls, points[:np], nil)
			b.AddSeriesLabels(ls, nil, nil)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("label value of %d bytes, %d points: the two encodings differ", size, np)
			}
		}
	}
}
