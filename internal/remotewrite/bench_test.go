package remotewrite

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/shoal-dev/shoal/internal/sample"
)

// benchBatch is a scrape-sized batch: 1000 series of 6 labels, one sample each.
func benchBatch(i int) *sample.Batch {
	return makeBatches(1, 1000, int64(i)*15000)[0]
}

func BenchmarkQueueAppend(b *testing.B) {
	q, err := openQueue(queueOptions{dir: b.TempDir(), segmentBytes: 64 << 20, maxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer q.close()
	batches := []*sample.Batch{benchBatch(0), benchBatch(1)}
	start := q.end.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := q.append(batches[i%2]); err != nil {
			b.Fatal(err)
		}
	}
	samples := float64(b.N) * 1000
	b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(q.end.Load()-start)/samples, "bytes/sample")
}

func BenchmarkQueueReplay(b *testing.B) {
	dir := b.TempDir()
	q, err := openQueue(queueOptions{dir: dir, segmentBytes: 16 << 20, maxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	const batches = 200
	for i := range batches {
		if err := q.append(benchBatch(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := q.close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// Reopen (replaying the unsealed tail) and read everything as one
		// shard of one endpoint would, decoding labels and items.
		q, err := openQueue(queueOptions{dir: dir, segmentBytes: 16 << 20, maxBytes: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		e := &endpoint{q: q, cfg: EndpointConfig{Queue: DefaultQueueConfig}, m: newMetrics(nil).forEndpoint("b", "u")}
		e.cfg.Queue.MaxSamplesPerSend = 1 << 30
		e.readPos = make([]atomic.Uint64, 1)
		s := newShard(e, 0, 1, Position{Off: q.first.Load()})
		e.stopAt.Store(q.end.Load())
		if err := s.read(); err != nil {
			b.Fatal(err)
		}
		if len(s.items) != batches*1000 {
			b.Fatalf("read %d items", len(s.items))
		}
		s.rd.close()
		q.close()
	}
	b.ReportMetric(float64(b.N)*batches*1000/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkEncode(b *testing.B) {
	// A full batch of 2000 samples of 2000 series, encoded and compressed
	// as a shard sends it.
	e := &endpoint{cfg: EndpointConfig{Queue: DefaultQueueConfig}, m: newMetrics(nil).forEndpoint("b", "u")}
	s := &shard{e: e}
	bb := makeBatches(1, 2000, time.Now().UnixMilli())[0]
	for i, smp := range bb.Samples {
		si := &seriesInfo{ls: smp.Labels}
		s.items = append(s.items, item{s: si, kind: kindFloat, t: smp.T, v: float64(i)})
	}
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		size = len(s.encode(s.items))
	}
	b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(size)/2000, "wire-bytes/sample")
}

// BenchmarkEncodeV2 is BenchmarkEncode as remote write 2.0: "hand" is
// the sender's encoder, "writev2" builds the same request with prompb's
// writev2 types and their Marshal, for comparison.
func BenchmarkEncodeV2(b *testing.B) {
	bb := makeBatches(1, 2000, time.Now().UnixMilli())[0]
	b.Run("hand", func(b *testing.B) {
		e := &endpoint{cfg: EndpointConfig{Queue: DefaultQueueConfig, ProtobufMessage: ProtoV2}, m: newMetrics(nil).forEndpoint("b", "u")}
		s := &shard{e: e}
		for i, smp := range bb.Samples {
			si := &seriesInfo{ls: smp.Labels}
			s.items = append(s.items, item{s: si, kind: kindFloat, t: smp.T, v: float64(i)})
		}
		var size int
		b.ReportAllocs()
		for b.Loop() {
			size = len(s.encode(s.items))
		}
		b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(float64(size)/2000, "wire-bytes/sample")
	})
	b.Run("writev2", func(b *testing.B) {
		st := writev2.NewSymbolTable()
		req := &writev2.Request{Timeseries: make([]writev2.TimeSeries, len(bb.Samples))}
		var buf, comp []byte
		var size int
		b.ReportAllocs()
		for b.Loop() {
			st.Reset()
			var refs []uint32
			for i, smp := range bb.Samples {
				ts := &req.Timeseries[i]
				refs = st.SymbolizeLabels(smp.Labels, refs[:0])
				ts.LabelsRefs = append(ts.LabelsRefs[:0], refs...)
				ts.Samples = append(ts.Samples[:0], writev2.Sample{Value: float64(i), Timestamp: smp.T})
			}
			req.Symbols = st.Symbols()
			n := req.Size()
			if cap(buf) < n {
				buf = make([]byte, n)
			}
			m, err := req.MarshalToSizedBuffer(buf[:n])
			if err != nil {
				b.Fatal(err)
			}
			comp = snappy.Encode(comp[:cap(comp)], buf[n-m:n])
			size = len(comp)
		}
		b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(float64(size)/2000, "wire-bytes/sample")
	})
}

// BenchmarkReceiveToSend runs the whole path as the pipeline benchmark
// does: 300 targets of 100 series each Receive one batch per round, and
// the round ends when the receiver has acknowledged all of it. 30000
// series do not fit in a core's cache, as in production; the figures are
// per round of 30000 samples.
func BenchmarkReceiveToSend(b *testing.B) { benchReceiveToSend(b, ProtoV1) }

// BenchmarkReceiveToSendV2 is BenchmarkReceiveToSend with remote write 2.0
// (the receiver answers with the ...-Written headers, without decoding).
func BenchmarkReceiveToSendV2(b *testing.B) { benchReceiveToSend(b, ProtoV2) }

func benchReceiveToSend(b *testing.B, proto string) {
	const targets, perTarget = 300, 100
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set(headerSamplesWritten, "1000000") // as many as sent
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ep := EndpointConfig{Name: "bench", URL: srv.URL, RemoteTimeout: 10 * time.Second, Queue: DefaultQueueConfig, ProtobufMessage: proto}
	w, err := Open(Options{Dir: b.TempDir()}, Config{Endpoints: []EndpointConfig{ep}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	batches := make([]*sample.Batch, targets)
	for t := range batches {
		batches[t] = &sample.Batch{}
		for s := range perTarget {
			ls := labels.FromStrings("__name__", fmt.Sprintf("lab_metric_%d", s%20), "instance", fmt.Sprintf("127.0.0.1:%d", 20000+t), "job", "lab", "series", strconv.Itoa(s))
			batches[t].Samples = append(batches[t].Samples, sample.Sample{Labels: ls})
		}
	}
	acked := func() bool {
		w.q.mu.Lock()
		defer w.q.mu.Unlock()
		return w.q.lowLocked() >= w.q.end.Load()
	}
	ts := time.Now().UnixMilli()
	b.ReportAllocs()
	for b.Loop() {
		ts += 2000
		for _, bt := range batches {
			for i := range bt.Samples {
				bt.Samples[i].T, bt.Samples[i].V = ts, float64(ts)
			}
			if err := w.Receive(ctx, bt); err != nil {
				b.Fatal(err)
			}
		}
		w.Flush()
		for deadline := time.Now().Add(30 * time.Second); !acked(); {
			if time.Now().After(deadline) {
				b.Fatal("the round was not acknowledged within 30s")
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.N)*targets*perTarget/b.Elapsed().Seconds(), "samples/s")
}
