package remotewrite

import (
	"sync/atomic"
	"testing"
	"time"

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
	s := &shard{e: e, groups: make(map[*seriesInfo]int)}
	bb := makeBatches(1, 2000, time.Now().UnixMilli())[0]
	for i, smp := range bb.Samples {
		si := &seriesInfo{proto: AppendLabels(nil, smp.Labels)}
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
