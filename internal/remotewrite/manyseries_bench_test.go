package remotewrite

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// BenchmarkQueueManySeries appends scrapes of 100k and 1M series (1000
// series per target, labels like the lab's targets: __name__, series,
// instance, job) to a queue with the default segment policy (grow) and
// with fixed 64 MiB segments, and reports the queue's bytes per sample.
// It then reopens the queue and reads all of it back as one shard would,
// reporting the replay's time and the peak of the heap meanwhile (and, on
// Linux, the process's peak RSS over the replay: VmHWM after resetting it
// through /proc/self/clear_refs, so it includes the test binary). The queue
// has the default bound (1 GiB), so fixed segments at 1M series drop the
// oldest before the end.
// (sampled every 10 ms, after a GC that leaves only the reader's state).
//
//	go test -run '^$' -bench QueueManySeries -benchtime 1x ./internal/remotewrite
func BenchmarkQueueManySeries(b *testing.B) {
	for _, series := range []int{100_000, 1_000_000} {
		for _, grow := range []bool{true, false} {
			name := fmt.Sprintf("series=%dk/segments=fixed64MiB", series/1000)
			if grow {
				name = fmt.Sprintf("series=%dk/segments=default", series/1000)
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					benchManySeries(b, series, grow)
				}
			})
		}
	}
}

func benchManySeries(b *testing.B, series int, grow bool) {
	const scrapes = 20
	dir := b.TempDir()
	opts := queueOptions{dir: dir, segmentBytes: 64 << 20, growSegments: grow, maxBytes: DefaultMaxBytes}
	q, err := openQueue(opts)
	if err != nil {
		b.Fatal(err)
	}
	targets := series / 1000
	lbls := make([]labels.Labels, series)
	for i := range lbls {
		t, s := i/1000, i%1000
		name := "lab_requests_total"
		if s%2 == 1 {
			name = "lab_temperature_celsius"
		}
		lbls[i] = labels.FromStrings("__name__", name, "instance", fmt.Sprintf("127.0.0.1:%d", 30000+t), "job", "lab", "series", fmt.Sprint(s))
	}
	batch := &sample.Batch{Samples: make([]sample.Sample, 1000)}
	for sc := range scrapes {
		for t := range targets {
			for s := range 1000 {
				batch.Samples[s] = sample.Sample{Labels: lbls[t*1000+s], T: 1_700_000_000_000 + int64(sc)*10_000, V: float64(sc*s + t)}
			}
			if err := q.append(batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	total := scrapes * series
	// The queue starts at offset 0: its end is every byte written, even
	// where the bound dropped the oldest segments.
	b.ReportMetric(float64(q.end.Load())/float64(total), "bytes/sample")
	b.ReportMetric(float64(len(q.segs)), "segments")
	if err := q.close(); err != nil {
		b.Fatal(err)
	}
	lbls, batch, q = nil, nil, nil

	runtime.GC()
	debug.FreeOSMemory()
	// Reset the process's peak RSS (Linux), so that VmHWM after the
	// replay is the replay's own peak.
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()
	start := time.Now()
	rq, err := openQueue(opts)
	if err != nil {
		b.Fatal(err)
	}
	var queued int64
	for _, sg := range rq.segs {
		queued += sg.info.samples
	}
	e := &endpoint{q: rq, cfg: EndpointConfig{Queue: DefaultQueueConfig}, m: newMetrics(nil).forEndpoint("b", "u")}
	e.cfg.Queue.MaxSamplesPerSend = 100_000
	e.readPos = make([]atomic.Uint64, 1)
	s := newShard(e, 0, 1, Position{Off: rq.first.Load()})
	e.stopAt.Store(rq.end.Load())
	read := 0
	for {
		if err := s.read(); err != nil {
			b.Fatal(err)
		}
		if len(s.items) == 0 {
			break
		}
		// Stand in for sending: drop what was read, as an acknowledged
		// request would.
		read += len(s.items)
		clear(s.items)
		s.items = s.items[:0]
		s.arena = s.arena[:0]
	}
	elapsed := time.Since(start)
	close(done)
	wg.Wait()
	s.rd.close()
	rq.close()
	if int64(read) != queued {
		b.Fatalf("replay read %d samples, want the %d queued", read, queued)
	}
	b.ReportMetric(float64(queued), "replayed-samples")
	b.ReportMetric(elapsed.Seconds(), "replay-s")
	b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "replay-peak-heap-MiB")
	if hwm, ok := vmHWM(); ok && hwmReset {
		b.ReportMetric(float64(hwm)/(1<<20), "replay-peak-RSS-MiB")
	}
}

// vmHWM is the process's peak resident set size, from /proc/self/status.
func vmHWM() (int64, bool) {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
