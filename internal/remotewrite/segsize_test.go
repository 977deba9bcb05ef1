package remotewrite

import (
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// queueBytesPerSample appends nb scrapes of series series to a queue whose
// segments are sealed at segBytes (growing past it when grow is set), and
// returns the queue's bytes per sample and its number of segments. It then
// reopens the queue and reads it back as one shard would, checking that
// replay returns every sample.
func queueBytesPerSample(t *testing.T, grow bool, nb, series int, segBytes int64) (float64, int) {
	t.Helper()
	dir := t.TempDir()
	opts := queueOptions{dir: dir, segmentBytes: segBytes, growSegments: grow, maxBytes: 1 << 30}
	q, err := openQueue(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range makeBatches(nb, series, 1_700_000_000_000, "pod", "a-pod-name-long-enough-to-matter-0123456789") {
		if err := q.append(b); err != nil {
			t.Fatal(err)
		}
	}
	perSample := float64(q.end.Load()-q.first.Load()) / float64(nb*series)
	segs := len(q.segs)
	if err := q.close(); err != nil {
		t.Fatal(err)
	}
	q, err = openQueue(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	e := &endpoint{q: q, cfg: EndpointConfig{Queue: DefaultQueueConfig}, m: newMetrics(nil).forEndpoint("t", "u")}
	e.cfg.Queue.MaxSamplesPerSend = 1 << 30
	e.readPos = make([]atomic.Uint64, 1)
	s := newShard(e, 0, 1, Position{Off: q.first.Load()})
	e.stopAt.Store(q.end.Load())
	if err := s.read(); err != nil {
		t.Fatal(err)
	}
	defer s.rd.close()
	if len(s.items) != nb*series {
		t.Fatalf("replay read %d samples, want %d", len(s.items), nb*series)
	}
	return perSample, segs
}

// TestSegmentsGrowWhileDefinitionsDominate: with more series than a
// segment holds definitions for, fixed segments spend most of their bytes
// redefining series; segments that grow until the definitions are an
// eighth of them keep the bytes per sample near the cost of a sample, and
// replay still reads every sample.
func TestSegmentsGrowWhileDefinitionsDominate(t *testing.T) {
	const nb, series, segBytes = 40, 2000, 64 << 10
	fixed, fixedSegs := queueBytesPerSample(t, false, nb, series, segBytes)
	grown, grownSegs := queueBytesPerSample(t, true, nb, series, segBytes)
	t.Logf("fixed segments: %.1f bytes/sample in %d segments; growing: %.1f in %d", fixed, fixedSegs, grown, grownSegs)
	if grown*2 > fixed {
		t.Errorf("growing segments take %.1f bytes/sample, fixed ones %.1f: want less than half", grown, fixed)
	}
	if grownSegs < 2 {
		t.Errorf("growing segments: %d segments, want rotation still to happen", grownSegs)
	}
}

// TestPreviousSegmentLabelsKeptUntilRead: after a rotation, a shard still
// reading the sealed segment gets each series' labels from the encoder's
// table of that segment instead of decoding its own copy, and the table is
// released once every consumer has acknowledged past the segment.
func TestPreviousSegmentLabelsKeptUntilRead(t *testing.T) {
	q, err := openQueue(queueOptions{dir: t.TempDir(), segmentBytes: 4 << 10, maxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	c, err := q.addConsumer("lagging", 1)
	if err != nil {
		t.Fatal(err)
	}
	bs := makeBatches(20, 50, 1_700_000_000_000)
	want := bs[0].Samples[7].Labels
	first := q.activeStart.Load()
	for _, b := range bs {
		if err := q.append(b); err != nil {
			t.Fatal(err)
		}
		if q.activeStart.Load() != first {
			break
		}
	}
	if q.activeStart.Load() == first {
		t.Fatal("the first segment was never sealed")
	}
	got, ok := q.segmentLabels(first, 7)
	if !ok || !labels.Equal(got, want) {
		t.Fatalf("labels of ref 7 in the sealed segment: %v (kept %v), want %v", got, ok, want)
	}
	if _, ok := q.segmentLabels(first, 50); ok {
		t.Fatal("a ref the sealed segment never defined has labels")
	}
	// The consumer acknowledges past the sealed segment: the next append
	// releases its table, and a reader would decode.
	q.ack(c, 0, Position{Off: q.activeStart.Load()})
	if err := q.append(bs[len(bs)-1]); err != nil {
		t.Fatal(err)
	}
	if _, ok := q.segmentLabels(first, 7); ok || q.prevSeries != nil && q.prevStart == first {
		t.Fatal("the sealed segment's table is still kept after every consumer passed it")
	}
}

// TestPerSeriesStructsStaySmall: a shard keeps a seriesInfo, and the
// encoder an internedSeries, for each of up to millions of series of a
// segment; a field added carelessly costs megabytes.
func TestPerSeriesStructsStaySmall(t *testing.T) {
	if n := unsafe.Sizeof(seriesInfo{}); n > 48 {
		t.Errorf("seriesInfo is %d bytes, want at most 48", n)
	}
	if n := unsafe.Sizeof(internedSeries{}); n > 32 {
		t.Errorf("internedSeries is %d bytes, want at most 32", n)
	}
}

// TestScratchPoolReusesAndForgetsSeries: a returned scratch is lent again
// with its buffers, and keeps no pointer to the series of the request it
// encoded (which would keep a shard's old segment alive).
func TestScratchPoolReusesAndForgetsSeries(t *testing.T) {
	var p scratchPool
	sc := p.get()
	sc.gser = append(sc.gser, &seriesInfo{})
	sc.points = append(sc.points, Point{Hist: []byte{1}})
	sc.rw.buf = append(sc.rw.buf, make([]byte, 1000)...)
	p.put(sc)
	again := p.get()
	if again != sc {
		t.Fatal("the pool lent a new scratch while one was free")
	}
	if sc.gser[:1][0] != nil || sc.points[:1][0].Hist != nil {
		t.Error("a returned scratch still refers to the series or items it encoded")
	}
	if cap(again.rw.buf) < 1000 {
		t.Error("the request buffer was not kept")
	}
	if other := p.get(); other == sc {
		t.Error("one scratch lent twice")
	}
}

// TestShardSeriesByAscendingRefs: a shard finds its series by ref in
// order, out of order and not at all; a ref defined again keeps its place;
// a ref lower than those defined before and new to the shard is refused
// (the encoder never writes one).
func TestShardSeriesByAscendingRefs(t *testing.T) {
	s := &shard{}
	for _, ref := range []uint32{3, 7, 8, 20} {
		si := s.define(ref)
		if si == nil {
			t.Fatalf("ref %d refused", ref)
		}
		si.target = ref
	}
	for _, ref := range []uint32{3, 7, 8, 20, 8, 3, 20, 7} {
		if si := s.lookup(ref); si == nil || si.target != ref {
			t.Fatalf("ref %d: found %v", ref, si)
		}
	}
	for _, ref := range []uint32{0, 4, 21} {
		if si := s.lookup(ref); si != nil {
			t.Fatalf("ref %d, never defined, found %v", ref, si)
		}
	}
	if si := s.define(7); si == nil || si.target != 0 || s.lookup(7) != si {
		t.Fatalf("ref 7 defined again: %v", si)
	}
	if si := s.define(5); si != nil {
		t.Fatalf("ref 5, lower than refs defined before, was accepted")
	}
	s.refs, s.cursor = s.refs[:0], 0
	s.alloc.reset()
	if s.lookup(3) != nil || s.define(1) == nil || s.lookup(1) == nil {
		t.Fatal("after a new segment the shard does not start over")
	}
}
