package remotewrite

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/lab"
	"github.com/shoal-dev/shoal/internal/sample"
)

// TestPartialAcceptReceiverNeverGetsAStoredSampleAgain writes to the lab's
// receiver in Mimir's mode (it stores the good samples of a request and
// answers 400 for the rest). Five of twenty series already hold newer
// samples there, so every request is rejected in part. By default shoal
// sends each request once: no stored sample arrives twice. With bisection
// on, the halves that were already stored are sent again (what the
// argument's documentation warns of).
func TestPartialAcceptReceiverNeverGetsAStoredSampleAgain(t *testing.T) {
	for _, bisect := range []bool{false, true} {
		rcv, err := lab.StartReceiver(lab.WithRejectMode(lab.PartialAccept))
		if err != nil {
			t.Fatal(err)
		}
		defer rcv.Close()
		// Newer samples for series 0..4 (as seriesBatch names them).
		b := seriesBatch("s", 5, 10_000)
		wr := &prompb.WriteRequest{}
		for _, s := range b.Samples {
			ts := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: s.T, Value: s.V}}}
			s.Labels.Range(func(l labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: l.Name, Value: l.Value}) })
			wr.Timeseries = append(wr.Timeseries, ts)
		}
		if rejects, err := rcv.Apply(wr); err != nil || len(rejects) != 0 {
			t.Fatalf("preloading the receiver: %v %v", rejects, err)
		}
		ep := EndpointConfig{Name: "mimir", URL: rcv.URL(), RemoteTimeout: 5 * time.Second, Queue: DefaultQueueConfig, BisectOn400: bisect}
		ep.Queue.BatchSendDeadline = 20 * time.Millisecond
		ep.Queue.MinBackoff, ep.Queue.MaxBackoff = time.Millisecond, 20*time.Millisecond
		r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
		for i := range 3 {
			r.receive(t, []*sample.Batch{seriesBatch("s", 20, int64(1000*(i+1)))})
			r.w.Flush()
			// One request per batch, so each is rejected in part.
			want := float64(20 * (i + 1))
			eventually(t, 20*time.Second, "the batch answered", func() bool {
				return counter(t, r.reg, "prometheus_remote_storage_samples_failed_total")+counter(t, r.reg, "prometheus_remote_storage_samples_total") >= want
			})
		}
		r.stop(t)
		st := rcv.Stats()
		t.Logf("bisection=%v: %d requests, %d samples stored, %d out-of-order rejects, %d stored samples sent again",
			bisect, st.Requests, st.Accepted-5, st.OutOfOrder, st.IdenticalDuplicates)
		if st.Accepted-5 != 15*3 {
			t.Errorf("bisection=%v: %d samples stored, want 45 (the 15 good series × 3)", bisect, st.Accepted-5)
		}
		if !bisect && st.IdenticalDuplicates != 0 {
			t.Errorf("%d stored samples were sent again", st.IdenticalDuplicates)
		}
		if bisect && st.IdenticalDuplicates == 0 {
			t.Errorf("with bisection against a partial-accept receiver, no stored sample was sent again: the documented trade-off is not shown")
		}
		if !bisect && st.Requests != 3 {
			t.Errorf("%d requests, want 3 (one per batch)", st.Requests)
		}
	}
}
