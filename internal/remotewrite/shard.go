package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/shoal-dev/shoal/internal/sample"
)

// A shard reads the series whose hash modulo the shard count is its index,
// in log order, so the samples of one series leave in the order they came.
// It reads, batches and sends in one goroutine: while it retries, it
// holds its own place in the log and nobody else's.

// seriesInfo is what a shard knows of a series in the current segment: its
// labels after external labels and write relabelling. Without those, they
// are the very labels the scrape cache holds: a series' labels are kept
// once in the process, and encoded into each request that carries it.
//
// It is 48 bytes, one per series of the segment in some shard: the fields
// are ordered, and target and mdGen truncated to 32 bits, to that end.
type seriesInfo struct {
	ls labels.Labels
	// md is the series' metric metadata as of the store's generation
	// mdGen (its low 32 bits), for remote write 2.0.
	md *sample.Metadata
	// gen and group place the series in the request being encoded: its
	// group is valid while gen equals the shard's encode generation.
	gen   uint64
	group int32
	// target hashes the series' job and instance (32 bits of it): the
	// samples of one scrape share it and their timestamp, which makes
	// them one tick group. A collision only merges two groups for
	// bisection.
	target uint32
	mdGen  uint32
	// up marks the `up` series of a scrape: each scrape writes exactly one
	// sample of it, so a rejected duplicate of it is one doubled tick.
	up      bool
	dropped bool
}

// item is one pending sample or exemplar; raw (a histogram or exemplar
// body) lives in the shard's arena.
type item struct {
	s      *seriesInfo
	kind   byte
	t      int64
	st     int64 // start timestamp, 0 unknown
	v      float64
	rawOff int
	rawLen int
	pos    Position
}

type shard struct {
	e      *endpoint
	idx, n int
	rd     segReader
	skip   Position // items before it were acknowledged before a restart
	// refs are the shard's own refs of the segment, ascending (a segment
	// defines its series in ref order), and alloc.at(i) is the series of
	// refs[i]. Not a slice indexed by ref (refs are dense in a segment),
	// which would cost every shard 8 bytes for each series of the
	// segment, its own or not (250 MB for 16 shards reading a segment of
	// a million series), nor a map (about 20 bytes a series): 4 bytes a
	// series, found by trying the one after the last found (entries come
	// in the order of the definitions, scrape after scrape) and else by
	// binary search.
	refs    []uint32
	cursor  int
	alloc   seriesAlloc
	items   []item
	arena   []byte
	lb      *labels.Builder
	sb      labels.ScratchBuilder
	firstAt time.Time // when the oldest pending item was read
	flushed uint64
	stopAt  uint64
	paused  bool // reported its position for the pause in progress
	wake    chan struct{}
	// ownBytes and ownItems are the log bytes read and the shard's items
	// in them, to tell how much log fills a batch.
	ownBytes, ownItems uint64
	lastSent           int64

	// send scratch
	encV2 bool // the last encode was remote write 2.0
	comp  []byte
	gen   uint64 // encode generation, see seriesInfo.gen
}

// encodeScratch is what encoding a request needs besides its compressed
// form: the uncompressed request (hundreds of KiB at
// max_samples_per_send 2,000) and the grouping of its items. A shard
// borrows one from its endpoint for each encode, so an endpoint holds as
// many as shards encode at once (about the number of cores) rather than
// one per shard: 50 shards kept 20 MB of them.
type encodeScratch struct {
	rw     RequestWriter
	rw2    RequestWriterV2
	gser   []*seriesInfo
	fill   []int
	counts []int
	points []Point
	exs    [][]byte
	order  []int
}

// scratchPool lends encodeScratch; unlike a sync.Pool it keeps them
// across garbage collections, so the buffers are not grown again.
type scratchPool struct {
	mu   sync.Mutex
	free []*encodeScratch
}

func (p *scratchPool) get() *encodeScratch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		sc := p.free[n-1]
		p.free = p.free[:n-1]
		return sc
	}
	return &encodeScratch{}
}

// put returns sc, dropping what it refers to in the shard's state.
func (p *scratchPool) put(sc *encodeScratch) {
	clear(sc.gser)
	clear(sc.points)
	clear(sc.exs)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, sc)
}

func newShard(e *endpoint, idx, n int, start Position) *shard {
	s := &shard{
		e: e, idx: idx, n: n, skip: start,
		rd:     segReader{q: e.q, onDamage: func(kind string) { e.m.damaged.WithLabelValues(kind).Inc() }},
		lb:     labels.NewBuilder(labels.EmptyLabels()),
		stopAt: math.MaxUint64,
		wake:   make(chan struct{}, 1),
	}
	s.skip.Off = s.rd.seek(start.Off)
	if s.skip.Off != start.Off {
		s.skip.Idx = 0
	}
	return s
}

// pos is the shard's acknowledged position: its oldest pending item, or
// everything it has read.
func (s *shard) pos() Position {
	if len(s.items) > 0 {
		return s.items[0].pos
	}
	if p := (Position{Off: s.rd.pos}); s.skip.less(p) {
		return p
	}
	return s.skip
}

// run reads and sends until the log is drained to the stop offset set by
// the endpoint, or ctx ends. It returns ctx's error or nil.
func (s *shard) run(ctx context.Context) error {
	defer s.rd.close()
	defer s.e.q.cancelNotify(s.wake)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	readBackoff := time.Duration(0)
	for {
		sig := s.e.signal()
		s.stopAt = s.e.stopAt.Load()
		if pause := s.e.pause.Load(); pause && !s.paused {
			// Reading has stopped (read checks pause): publish where,
			// so that the endpoint picks a stop offset no shard passed.
			s.e.readPos[s.idx].Store(s.readOff())
			s.paused = true
			s.e.pausedCh <- struct{}{}
		} else if !pause {
			s.paused = false
		}
		if err := s.read(); err != nil {
			// The log could not be read: send what was read, wait and
			// read again (the reader skips data that stays unreadable).
			// The shard stays alive so that pauses, drains and
			// shutdown find it.
			readBackoff = min(max(2*readBackoff, 10*time.Millisecond), time.Second)
			s.e.logger.Warn("reading the queue failed; retrying", "shard", s.idx, "err", err, "backoff", readBackoff)
			if len(s.items) > 0 {
				if err := s.sendPrefix(ctx); err != nil {
					return err
				}
			}
			timer.Reset(readBackoff)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-sig:
			case <-timer.C:
			}
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			continue
		}
		readBackoff = 0
		full := len(s.items) >= s.e.cfg.Queue.MaxSamplesPerSend
		flushTo := s.e.flushTo.Load()
		flush := flushTo > s.flushed && s.readOff() >= flushTo
		stopping := s.readOff() >= s.stopAt
		due := len(s.items) > 0 && time.Since(s.firstAt) >= s.e.cfg.Queue.BatchSendDeadline
		if len(s.items) > 0 && (full || flush || stopping || due) {
			if err := s.sendPrefix(ctx); err != nil {
				return err
			}
			if flush && len(s.items) == 0 {
				s.flushed = flushTo
			}
			continue
		}
		if flush {
			s.flushed = flushTo
		}
		s.e.q.ack(s.e.c, s.idx, s.pos())
		if stopping && len(s.items) == 0 {
			return nil
		}
		// Wait for data, the batch deadline, a flush, a stop or the end.
		// An empty shard wakes at the next append, which starts the
		// batch deadline; one holding items only when enough has been
		// appended to fill the batch (or at the deadline, when it reads
		// whatever came), so that it does not wake for every scrape.
		var wait <-chan struct{}
		ready := s.rd.available()
		if len(s.items) == 0 {
			wait = s.e.q.waitCh()
		} else {
			want := s.rd.pos + s.fillBytes()
			select {
			case <-s.wake:
			default:
			}
			s.e.q.notifyAt(s.wake, want)
			wait = s.wake
			ready = ready && s.e.q.end.Load() >= want
		}
		if ready && s.rd.pos < s.stopAt && !s.e.pause.Load() && len(s.items) < s.e.cfg.Queue.MaxSamplesPerSend {
			continue
		}
		d := time.Hour
		if len(s.items) > 0 {
			d = max(s.e.cfg.Queue.BatchSendDeadline-time.Since(s.firstAt), time.Millisecond)
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wait:
		case <-sig:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// read decodes records until a batch is full, the data ends or the stop
// offset is reached.
func (s *shard) read() error {
	// pause is loaded before stopAt: the endpoint sets stopAt before it
	// lifts a pause, so a shard that sees no pause sees the new stopAt.
	for len(s.items) < s.e.cfg.Queue.MaxSamplesPerSend && !s.e.pause.Load() && s.rd.pos < s.e.stopAt.Load() {
		rec, err := s.rd.next()
		if errors.Is(err, errNoData) {
			break
		}
		if err != nil {
			return err
		}
		s.consume(rec)
		s.e.readPos[s.idx].Store(s.readOff())
	}
	return nil
}

// fillBytes estimates how much more log holds enough of the shard's items
// to fill its batch, from what it has read so far; 0 while it has read
// none.
func (s *shard) fillBytes() uint64 {
	if s.ownItems == 0 {
		return 0
	}
	missing := uint64(max(s.e.cfg.Queue.MaxSamplesPerSend-len(s.items), 0))
	return missing * s.ownBytes / s.ownItems
}

// readOff is how far the shard has read: after a restart the reader starts
// at the segment's beginning to learn its series, but everything before
// skip was done before.
func (s *shard) readOff() uint64 { return max(s.rd.pos, s.skip.Off) }

// consume takes the shard's items from one record.
func (s *shard) consume(rec record) {
	if rec.newSegment {
		s.refs, s.cursor = s.refs[:0], 0
		s.alloc.reset()
	}
	defsOnly := rec.off < s.skip.Off
	var own uint32
	er := newEntryReader(rec.payload)
	now := time.Now()
	for {
		hash, body, ok := er.next()
		if !ok {
			break
		}
		if hash%uint64(s.n) != uint64(s.idx) {
			continue
		}
		ent, err := parseEntry(body)
		if err != nil {
			s.e.m.damaged.WithLabelValues("record").Inc()
			s.e.logger.Error("skipping damaged queue entry", "offset", rec.off, "err", err)
			break
		}
		if ent.def {
			// While the record's segment is the one being written (or
			// the one before, until every shard is past it), the
			// encoder still holds the labels it was given: take them
			// instead of a decoded copy.
			ls, ok := s.e.q.segmentLabels(rec.segStart, ent.ref)
			var err error
			if !ok {
				ls, err = decodeLabels(&s.sb, ent)
			}
			if err == nil && (ent.ref > (rec.end-rec.segStart)/minEntryBytes || ent.ref >= math.MaxUint32) {
				// Refs count the segment's entries, each of which takes
				// bytes before this one's end.
				err = fmt.Errorf("%w: ref %d beyond its segment", errCorrupt, ent.ref)
			}
			var si *seriesInfo
			if err == nil {
				if si = s.define(uint32(ent.ref)); si == nil {
					err = fmt.Errorf("%w: ref %d defined after a higher one", errCorrupt, ent.ref)
				}
			}
			if err != nil {
				s.e.m.damaged.WithLabelValues("record").Inc()
				s.e.logger.Error("skipping damaged queue entry", "offset", rec.off, "err", err)
				break
			}
			s.e.processSeries(s.lb, si, ls)
		}
		if defsOnly {
			continue
		}
		si := s.lookup(uint32(ent.ref))
		ir := itemReader{b: ent.items, left: ent.count}
		for {
			it, ok := ir.next()
			if !ok {
				break
			}
			idx := own
			own++
			if rec.off == s.skip.Off && idx < s.skip.Idx {
				continue
			}
			if !s.keep(si, it, now) {
				continue
			}
			if len(s.items) == 0 {
				s.firstAt = now
			}
			x := item{s: si, kind: it.kind, t: it.t, st: it.st, v: it.v, pos: Position{Off: rec.off, Idx: idx}}
			if it.raw != nil {
				x.rawOff, x.rawLen = len(s.arena), len(it.raw)
				s.arena = append(s.arena, it.raw...)
			}
			s.items = append(s.items, x)
		}
		if ir.err != nil {
			s.e.m.damaged.WithLabelValues("record").Inc()
			s.e.logger.Error("skipping damaged queue entry", "offset", rec.off, "err", ir.err)
		}
	}
	if er.err != nil {
		s.e.m.damaged.WithLabelValues("record").Inc()
		s.e.logger.Error("skipping damaged queue record", "offset", rec.off, "err", er.err)
	}
	if !defsOnly {
		if s.ownItems > 1<<20 {
			// Forget the distant past, to follow a change of load.
			s.ownBytes, s.ownItems = s.ownBytes/2, s.ownItems/2
		}
		s.ownBytes += rec.end - rec.off
		s.ownItems += uint64(own)
	}
}

// define returns a new seriesInfo for ref, or its own if ref was defined
// before (emptied); nil when ref is lower than a ref defined before and
// not one of them, which a segment written by the encoder never holds.
func (s *shard) define(ref uint32) *seriesInfo {
	if n := len(s.refs); n == 0 || s.refs[n-1] < ref {
		s.refs = append(s.refs, ref)
		_, si := s.alloc.info()
		return si
	}
	i, ok := slices.BinarySearch(s.refs, ref)
	if !ok {
		return nil
	}
	si := s.alloc.at(uint32(i))
	*si = seriesInfo{}
	return si
}

// lookup returns the series of ref, or nil if the shard has no such ref.
func (s *shard) lookup(ref uint32) *seriesInfo {
	if c := s.cursor; c < len(s.refs) && s.refs[c] == ref {
		s.cursor = c + 1
		return s.alloc.at(uint32(c))
	}
	i, ok := slices.BinarySearch(s.refs, ref)
	if !ok {
		return nil
	}
	s.cursor = i + 1
	return s.alloc.at(uint32(i))
}

// keep applies the endpoint's filters to one item, counting what it drops.
func (s *shard) keep(si *seriesInfo, it recItem, now time.Time) bool {
	m := s.e.m
	switch {
	case si == nil:
		m.dropped.WithLabelValues("unintentionally_dropped_series").Inc()
		return false
	case it.kind == kindExemplar:
		return s.e.cfg.SendExemplars && !si.dropped
	case si.dropped:
		m.dropped.WithLabelValues("dropped_series").Inc()
		return false
	case it.kind == kindHist && !s.e.cfg.SendNativeHistograms:
		m.dropped.WithLabelValues("native_histograms_disabled").Inc()
		return false
	case s.e.cfg.Queue.SampleAgeLimit > 0 && it.t < now.Add(-s.e.cfg.Queue.SampleAgeLimit).UnixMilli():
		m.dropped.WithLabelValues("too_old").Inc()
		return false
	}
	return true
}

// processSeries applies external labels (only where the series lacks the
// name, as Prometheus does) and then write_relabel_config.
func (e *endpoint) processSeries(lb *labels.Builder, si *seriesInfo, ls labels.Labels) {
	out := ls
	if !e.ext.IsEmpty() || len(e.cfg.WriteRelabel) > 0 {
		lb.Reset(ls)
		e.ext.Range(func(l labels.Label) {
			if !ls.Has(l.Name) {
				lb.Set(l.Name, l.Value)
			}
		})
		if len(e.cfg.WriteRelabel) > 0 && !relabel.ProcessBuilder(lb, e.cfg.WriteRelabel...) {
			si.dropped = true
			return
		}
		out = lb.Labels()
	}
	if out.IsEmpty() {
		si.dropped = true
		return
	}
	si.ls = out
	si.up = out.Get(labels.MetricName) == "up"
	var buf [256]byte
	t := append(append(append(buf[:0], out.Get("job")...), 0xff), out.Get("instance")...)
	si.target = uint32(xxhash.Sum64(t))
}

// seriesAlloc hands out the seriesInfo of a segment from chunks, so that
// the thousands of series of a segment cost a few allocations and keep
// their addresses (pending items point to them); a chunk is freed when no
// series in it is referred to any more.
type seriesAlloc struct {
	chunks [][]seriesInfo
	n      uint32
}

const seriesChunk = 256

// info returns a new seriesInfo and its index.
func (a *seriesAlloc) info() (uint32, *seriesInfo) {
	i := a.n
	if i%seriesChunk == 0 {
		a.chunks = append(a.chunks, make([]seriesInfo, seriesChunk))
	}
	a.n++
	return i, &a.chunks[i/seriesChunk][i%seriesChunk]
}

// at returns the seriesInfo of index i.
func (a *seriesAlloc) at(i uint32) *seriesInfo { return &a.chunks[i/seriesChunk][i%seriesChunk] }

// reset forgets every series (at a new segment); pending items keep their
// chunks alive.
func (a *seriesAlloc) reset() {
	clear(a.chunks)
	a.chunks, a.n = a.chunks[:0], 0
}

// sendPrefix sends up to max_samples_per_send of the oldest items and
// acknowledges them.
func (s *shard) sendPrefix(ctx context.Context) error {
	n := min(len(s.items), s.e.cfg.Queue.MaxSamplesPerSend)
	if err := s.send(ctx, s.items[:n]); err != nil {
		return err
	}
	rest := copy(s.items, s.items[n:])
	clear(s.items[rest:])
	s.items = s.items[:rest]
	// Compact the arena behind the items that are left.
	if len(s.items) == 0 {
		s.arena = s.arena[:0]
	} else if s.items[0].rawLen > 0 || len(s.arena) > 1<<20 {
		base := -1
		for _, it := range s.items {
			if it.rawLen > 0 {
				base = it.rawOff
				break
			}
		}
		if base > 0 {
			m := copy(s.arena, s.arena[base:])
			s.arena = s.arena[:m]
			for i := range s.items {
				if s.items[i].rawLen > 0 {
					s.items[i].rawOff -= base
				}
			}
		}
	}
	s.firstAt = time.Now()
	s.e.q.ack(s.e.c, s.idx, s.pos())
	return nil
}

// send delivers items, retrying what can succeed later. A request the
// receiver rejects with 400 (or 413) is not sent again (remote write 1.0:
// a 4xx other than 429 is not retried): its samples are dropped and
// counted by the reason in the receiver's message. With
// retry_on_http_400_by_bisection, it is split instead, so that every
// sample a receiver that rejects requests whole would accept arrives, at
// a bounded cost in requests (see bisect). It returns only ctx's error.
func (s *shard) send(ctx context.Context, items []item) error {
	res, kept, reason, err := s.deliver(ctx, items)
	if res != sendBisect {
		return err
	}
	if !s.e.cfg.BisectOn400 {
		s.dropRejected(kept, reason, err, true)
		return nil
	}
	level := slog.LevelDebug
	now := time.Now().UnixNano()
	if last := s.e.bisectWarned.Load(); now-last >= int64(bisectWarnEvery) && s.e.bisectWarned.CompareAndSwap(last, now) {
		level = slog.LevelWarn
	}
	s.e.logger.Log(ctx, level, "receiver rejected a request; bisecting it to deliver the rest", "err", err, "samples", len(kept))
	b := &bisection{budget: bisectBudget(len(kept)), refund: 2 * bits.Len(uint(len(kept)))}
	return s.bisect(ctx, kept, reason, err, b)
}

// bisectBudget is how many requests the bisection of a rejected batch of
// n items may spend on splitting: enough to find about four rejected
// samples exactly (each costs about 2·log2(n)).
func bisectBudget(n int) int {
	return 8 * bits.Len(uint(n))
}

// bisection is the request budget of one rejected batch. Each scrape found
// rejected whole (a duplicate tick, or too old) gives back refund, the cost
// of finding it: during a partition half the scrapes of a batch are
// copies the receiver holds already, and each must be found exactly
// without running the budget dry for the good ones. A batch thus costs at
// most 1 + bisectBudget(n) + log2(n) + 2·log2(n) per scrape rejected whole.
type bisection struct {
	budget, refund int
}

// bisect splits items, which the receiver rejected for reason, and sends
// each half in order, splitting a rejected half again. A single item is
// dropped, and so is a single scrape (one target, one timestamp) rejected
// as a duplicate (another writer holds the tick, whole) or as too old (all
// its samples share the timestamp). Once the budget is spent, a rejected
// half is dropped without splitting it further: a batch costs at most
// 1 + budget + log2(n) requests whatever the receiver says, where
// splitting to single samples would cost about 2 per rejected sample.
func (s *shard) bisect(ctx context.Context, items []item, reason string, rerr error, b *bisection) error {
	cut := tickCut(items)
	if len(items) > 1 && cut == 0 && (reason == "duplicate" || reason == "too_old") {
		s.dropRejected(items, reason, rerr, false)
		b.budget += b.refund
		return nil
	}
	if len(items) == 1 || b.budget <= 0 {
		s.dropRejected(items, reason, rerr, false)
		return nil
	}
	if cut == 0 {
		cut = len(items) / 2
	}
	for _, half := range [2][]item{items[:cut], items[cut:]} {
		b.budget--
		res, kept, r, err := s.deliver(ctx, half)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if res == sendBisect {
			if err := s.bisect(ctx, kept, r, err, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliver sends items until the receiver answers for good: sendOK
// (counted), sendBisect (a rejection: the caller decides; reason and the
// receiver's error are returned with the items sent, which exclude what
// aged past sample_age_limit while retrying) or sendDrop (counted). Its
// error is ctx's, except for sendBisect.
func (s *shard) deliver(ctx context.Context, items []item) (sendResult, []item, string, error) {
	if len(items) == 0 {
		return sendOK, items, "", nil
	}
	body := s.encode(items)
	backoff := s.e.cfg.Queue.MinBackoff
	for {
		start := time.Now()
		pr, after, err := s.e.client.post(ctx, body, s.encV2)
		s.e.m.sendDuration.Observe(time.Since(start).Seconds())
		switch res := pr.result; {
		case res == sendFallback:
			// The receiver speaks 1.0 only and wrote nothing: send the
			// same items again as 1.0.
			s.e.fallBack(err)
			body = s.encode(items)
		case res == sendOK:
			if pr.written.known {
				s.countWritten(items, pr.written, "other", err)
			} else {
				s.count(items)
			}
			return sendOK, items, "", nil
		case res == sendRetry:
			if ctx.Err() != nil {
				return sendRetry, items, "", ctx.Err()
			}
			s.e.m.retried.Add(float64(len(items)))
			wait := backoff
			if after > 0 {
				wait = min(after, time.Minute)
			}
			s.e.logger.Warn("remote write failed, retrying", "err", err, "samples", len(items), "backoff", wait)
			s.e.retrying.Add(1)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				s.e.retrying.Add(-1)
				return sendRetry, items, "", ctx.Err()
			case <-t.C:
			}
			s.e.retrying.Add(-1)
			backoff = min(backoff*2, s.e.cfg.Queue.MaxBackoff)
			// sample_age_limit holds for a retry too: what aged past
			// it while the receiver failed is dropped as too_old.
			if kept := s.dropAged(items); len(kept) != len(items) {
				if len(kept) == 0 {
					return sendOK, kept, "", nil
				}
				items = kept
				body = s.encode(items)
			}
		case pr.written.known:
			// A 2.0 receiver that rejected part of the request says
			// what it wrote: count it exactly, send nothing again.
			s.countWritten(items, pr.written, rejectReason(err.Error()), err)
			return sendOK, items, "", nil
		case res == sendBisect:
			return sendBisect, items, rejectReason(err.Error()), err
		default:
			s.e.m.failed.Add(float64(len(items)))
			s.e.logger.Error("remote write failed; dropping the request", "err", err, "samples", len(items))
			return sendDrop, items, "", nil
		}
	}
}

// countWritten counts a 2.0 request that the receiver answered with the
// ...-Written headers: what it wrote as sent, the rest of the samples and
// histograms as rejected for reason and failed (remote write 2.0: a
// partial write is not sent again).
func (s *shard) countWritten(items []item, w written, reason string, err error) {
	var f, h, x int
	for _, it := range items {
		switch it.kind {
		case kindFloat:
			f++
		case kindHist:
			h++
		default:
			x++
		}
		if it.kind != kindExemplar {
			s.lastSent = max(s.lastSent, it.t)
		}
	}
	ws, wh, wx := min(w.samples, f), min(w.histograms, h), min(w.exemplars, x)
	s.e.m.samples.Add(float64(ws + wh))
	s.e.m.histograms.Add(float64(wh))
	s.e.m.exemplars.Add(float64(wx))
	if lost := f - ws + h - wh; lost > 0 {
		s.e.m.rejected.WithLabelValues(reason).Add(float64(lost))
		s.e.m.failed.Add(float64(lost))
		level := slog.LevelDebug
		now := time.Now().UnixNano()
		if last := s.e.bisectWarned.Load(); now-last >= int64(bisectWarnEvery) && s.e.bisectWarned.CompareAndSwap(last, now) {
			level = slog.LevelWarn
		}
		s.e.logger.Log(context.Background(), level, "receiver wrote part of a request; the rest is not sent again", "reason", reason, "written", ws+wh, "rejected", lost, "err", err)
	}
	s.e.noteSent(s.lastSent)
}

// dropAged returns items without the samples older than sample_age_limit
// (a copy when any is dropped), counting them as dropped for too_old.
// Exemplars go with their age unknown and are kept.
func (s *shard) dropAged(items []item) []item {
	limit := s.e.cfg.Queue.SampleAgeLimit
	if limit <= 0 {
		return items
	}
	cut := time.Now().Add(-limit).UnixMilli()
	old := 0
	for _, it := range items {
		if it.kind != kindExemplar && it.t < cut {
			old++
		}
	}
	if old == 0 {
		return items
	}
	kept := make([]item, 0, len(items)-old)
	for _, it := range items {
		if it.kind == kindExemplar || it.t >= cut {
			kept = append(kept, it)
		}
	}
	s.e.m.dropped.WithLabelValues("too_old").Add(float64(old))
	return kept
}

// bisectWarnEvery bounds the warnings about rejected (dropped or bisected)
// requests to one a minute per endpoint;
// shoal_remote_write_rejected_samples_total counts every rejected sample.
const bisectWarnEvery = time.Minute

// tickCut returns the boundary between tick groups (runs of items of one
// target at one timestamp: one scrape's samples) nearest the middle of
// items, or 0 when items are a single group. Bisecting along groups
// finds a rejected scrape in about 2·log2(groups) requests instead of
// 2·log2(samples) for each of its samples.
func tickCut(items []item) int {
	mid := len(items) / 2
	best := 0
	for i := 1; i < len(items); i++ {
		a, b := &items[i-1], &items[i]
		if a.t == b.t && a.s.target == b.s.target {
			continue
		}
		if best == 0 || abs(i-mid) < abs(best-mid) {
			best = i
		}
		if i >= mid {
			break
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dropRejected gives up on items the receiver rejected for reason: a whole
// request (whole), or what bisection isolated: a single item or one
// scrape's samples. They count as rejected and failed (exemplars do not,
// except a single one isolated by bisection), and each rejected duplicate
// of a scrape's `up` sample as a doubled tick: another node (or an earlier
// life of this one) wrote the tick already.
func (s *shard) dropRejected(items []item, reason string, err error, whole bool) {
	n, ups := 0, 0
	for _, it := range items {
		if it.kind != kindExemplar || len(items) == 1 {
			n++
		}
		if it.s.up && it.kind != kindExemplar {
			ups++
		}
	}
	s.e.m.rejected.WithLabelValues(reason).Add(float64(n))
	s.e.m.failed.Add(float64(n))
	if reason == "duplicate" {
		s.e.m.ticksDoubled.Add(float64(ups))
	}
	if whole {
		level := slog.LevelDebug
		now := time.Now().UnixNano()
		if last := s.e.bisectWarned.Load(); now-last >= int64(bisectWarnEvery) && s.e.bisectWarned.CompareAndSwap(last, now) {
			level = slog.LevelWarn
		}
		s.e.logger.Log(context.Background(), level, "receiver rejected a request; dropping it (remote write does not retry a 4xx)", "reason", reason, "samples", n, "err", err)
		return
	}
	s.e.logger.Debug("receiver rejected samples", "reason", reason, "samples", n, "err", err)
}

func (s *shard) count(items []item) {
	var f, h, x int
	for _, it := range items {
		switch it.kind {
		case kindFloat:
			f++
		case kindHist:
			h++
		default:
			x++
		}
		if it.kind != kindExemplar {
			s.lastSent = max(s.lastSent, it.t)
		}
	}
	s.e.m.samples.Add(float64(f + h))
	s.e.m.histograms.Add(float64(h))
	s.e.m.exemplars.Add(float64(x))
	s.e.noteSent(s.lastSent)
}

// encode builds the snappy-compressed WriteRequest for items, one
// TimeSeries per series, keeping each series' order.
func (s *shard) encode(items []item) []byte {
	sc := s.e.scratch.get()
	defer s.e.scratch.put(sc)
	s.gen++
	sc.counts = sc.counts[:0]
	sc.order = sc.order[:0]
	sc.gser = sc.gser[:0]
	for _, it := range items {
		if it.s.gen != s.gen {
			it.s.gen, it.s.group = s.gen, int32(len(sc.gser))
			sc.counts = append(sc.counts, 0, 0)
			sc.gser = append(sc.gser, it.s)
		}
		g := int(it.s.group)
		if it.kind == kindExemplar {
			sc.counts[2*g+1]++
		} else {
			sc.counts[2*g]++
		}
		sc.order = append(sc.order, g)
	}
	// Offsets of each group's points and exemplars in flat slices.
	np, nx := 0, 0
	for g := 0; g < len(sc.counts); g += 2 {
		p, x := sc.counts[g], sc.counts[g+1]
		sc.counts[g], sc.counts[g+1] = np, nx
		np += p
		nx += x
	}
	sc.points = slices.Grow(sc.points[:0], np)[:np]
	sc.exs = slices.Grow(sc.exs[:0], nx)[:nx]
	sc.fill = append(sc.fill[:0], sc.counts...) // next free slot per group
	fill := sc.fill
	for i, it := range items {
		g := sc.order[i]
		if it.kind == kindExemplar {
			sc.exs[fill[2*g+1]] = s.arena[it.rawOff : it.rawOff+it.rawLen]
			fill[2*g+1]++
			continue
		}
		p := Point{T: it.t, V: it.v, ST: it.st}
		if it.kind == kindHist {
			p.Hist = s.arena[it.rawOff : it.rawOff+it.rawLen]
		}
		sc.points[fill[2*g]] = p
		fill[2*g]++
	}
	s.encV2 = s.e.v2()
	if s.encV2 {
		sc.rw2.Reset()
	} else {
		sc.rw.Reset()
	}
	for g := 0; g < len(sc.counts); g += 2 {
		pEnd, xEnd := np, nx
		if g+2 < len(sc.counts) {
			pEnd, xEnd = sc.counts[g+2], sc.counts[g+3]
		}
		si := sc.gser[g/2]
		if s.encV2 {
			sc.rw2.AddSeries(si.ls, sc.points[sc.counts[g]:pEnd], sc.exs[sc.counts[g+1]:xEnd], s.seriesMeta(si))
			continue
		}
		sc.rw.AddSeriesLabels(si.ls, sc.points[sc.counts[g]:pEnd], sc.exs[sc.counts[g+1]:xEnd])
	}
	if s.encV2 {
		s.comp = snappy.Encode(s.comp[:cap(s.comp)], sc.rw2.Bytes())
	} else {
		s.comp = snappy.Encode(s.comp[:cap(s.comp)], sc.rw.Bytes())
	}
	return s.comp
}

// seriesMeta is si's metric metadata for a 2.0 request, looked up again
// only when the metadata store changed; nil without metadata_config send.
func (s *shard) seriesMeta(si *seriesInfo) *sample.Metadata {
	if !s.e.cfg.MetadataSend || s.e.meta == nil {
		return nil
	}
	if g := uint32(s.e.meta.gen.Load()); si.mdGen != g {
		si.md = s.e.meta.lookup(si.ls.Get(labels.MetricName))
		si.mdGen = g
	}
	return si.md
}
