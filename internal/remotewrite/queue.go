package remotewrite

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// The disk queue is one log of segments under a directory, shared by every
// endpoint. Offsets are logical byte positions that grow forever across
// segments; a segment file is named by the offset of its first byte.
// Appends go to the last (active) segment with one write(2) per batch.
// Readers (the sender shards) keep their own positions; a consumer (an
// endpoint) persists the positions of its shards so that acknowledged data is
// never sent again after a restart.

// Position is a reader's place in the log: the offset of a record, and how
// many of the reader's own items in that record are already behind it.
type Position struct {
	Off uint64
	Idx uint32
}

func (p Position) less(o Position) bool {
	return p.Off < o.Off || p.Off == o.Off && p.Idx < o.Idx
}

type segment struct {
	start, end uint64 // end is the end of its data; it grows while active
	info       sealInfo
	sealed     bool
	lastWrite  time.Time
}

// block summarises a stretch of the log for the watermark and the pending
// counts, so that neither needs to read the log.
type block struct {
	start, end uint64
	minT       int64
	samples    int64
}

// blockBytes is the granularity of blocks: a finer one makes the watermark
// follow acknowledgements more closely; each costs 32 bytes of memory, so a
// full queue of 1 GiB holds 16384 of them.
const blockBytes = 64 << 10

// queueFile is what the queue needs of a file; *os.File is one. Tests
// inject failures through queueOptions.open.
type queueFile interface {
	io.Writer
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
	Stat() (os.FileInfo, error)
}

func osOpen(name string, flag int, perm os.FileMode) (queueFile, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a typed nil
	}
	return f, nil
}

type queueOptions struct {
	// open opens the queue's segment files (default os.OpenFile).
	open         func(name string, flag int, perm os.FileMode) (queueFile, error)
	dir          string
	segmentBytes int64
	// growSegments lets a segment grow past segmentBytes while series
	// definitions dominate it (see segmentFull).
	growSegments bool
	maxBytes     int64
	maxAge       time.Duration
	logger       *slog.Logger
	// onDrop is told how many samples each consumer lost when a segment
	// was dropped to keep the queue in its bounds, and why: "queue_full"
	// (MaxBytes) or "too_old" (MaxAge).
	onDrop func(consumer, reason string, samples int64)
}

type queue struct {
	opts queueOptions

	end         atomic.Uint64 // committed end: every byte before it is written
	first       atomic.Uint64 // the first live offset
	activeStart atomic.Uint64

	mu   sync.Mutex
	segs []*segment // ascending; the last one is active unless f is nil
	// f is the active segment; nil when the last one was sealed (or given
	// up after a write that could not be undone) and the next could not
	// be created: the next append tries again.
	f   queueFile
	enc recordEncoder
	// prevSeries is the encoder's series table of the segment before the
	// active one, [prevStart, prevEnd), kept until every consumer has
	// acknowledged past it: a shard still reading that segment takes a
	// series' labels from it instead of decoding a copy of its own (with a
	// million series, a lagging shard's decoded copies were 90 MB). nil
	// once released.
	prevSeries         []internedSeries
	prevStart, prevEnd uint64
	buf                []byte
	stats              []recordStat
	blocks             []block
	dirty              bool // the active segment has unsynced writes
	wait               chan struct{}
	// notify holds readers waiting for the end to reach an offset (see
	// notifyAt); each channel has a buffer of one.
	notify    map[chan struct{}]uint64
	consumers map[string]*consumer
	highestT  int64
	closed    bool
}

func segName(start uint64) string { return fmt.Sprintf("%016x.seg", start) }

func (q *queue) segPath(start uint64) string { return filepath.Join(q.opts.dir, segName(start)) }

// openQueue opens or creates the queue in opts.dir, repairs a torn tail and
// starts a fresh active segment.
func openQueue(opts queueOptions) (*queue, error) {
	if opts.logger == nil {
		opts.logger = slog.New(slog.DiscardHandler)
	}
	if opts.open == nil {
		opts.open = osOpen
	}
	if err := os.MkdirAll(filepath.Join(opts.dir, "consumers"), 0o755); err != nil {
		return nil, fmt.Errorf("creating queue directory: %w", err)
	}
	q := &queue{opts: opts, consumers: make(map[string]*consumer), highestT: math.MinInt64}
	starts, err := listSegments(opts.dir)
	if err != nil {
		return nil, err
	}
	var next uint64
	for i, start := range starts {
		if start < next {
			return nil, fmt.Errorf("queue segment %s overlaps its predecessor", q.segPath(start))
		}
		seg, err := q.recoverSegment(start, i == len(starts)-1)
		if err != nil {
			return nil, err
		}
		if seg.end == seg.start {
			if err := os.Remove(q.segPath(start)); err != nil {
				return nil, fmt.Errorf("removing empty segment: %w", err)
			}
			next = max(next, start)
			continue
		}
		q.segs = append(q.segs, seg)
		q.blocks = append(q.blocks, block{start: seg.start, end: seg.end, minT: seg.info.minT, samples: seg.info.samples})
		if seg.info.samples > 0 {
			q.highestT = max(q.highestT, seg.info.maxT)
		}
		next = seg.end
	}
	// A consumer may have acknowledged past the data when the host lost
	// unsynced writes; start after the furthest acknowledgement then, so
	// offsets never go backwards.
	if max, ok, err := maxConsumerOffset(opts.dir); err != nil {
		return nil, err
	} else if ok && max > next {
		next = max
	}
	if len(q.segs) > 0 {
		q.first.Store(q.segs[0].start)
	} else {
		q.first.Store(next)
	}
	if err := q.startSegment(next); err != nil {
		return nil, err
	}
	return q, nil
}

func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing queue directory: %w", err)
	}
	var starts []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok || e.IsDir() {
			continue
		}
		start, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue
		}
		starts = append(starts, start)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	return starts, nil
}

// recoverSegment reads a segment's seal or, failing that, scans it, cuts a
// torn or corrupt tail and seals it.
func (q *queue) recoverSegment(start uint64, last bool) (*segment, error) {
	path := q.segPath(start)
	f, err := q.opts.open(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening queue segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("queue segment %s: %w", path, err)
	}
	size := st.Size()
	seg := &segment{start: start, lastWrite: st.ModTime(), sealed: true}
	if size >= sealFrame {
		tail := make([]byte, sealFrame)
		if _, err := f.ReadAt(tail, size-sealFrame); err == nil {
			if p, n, err := parseFrame(tail); err == nil && n == sealFrame {
				if info, ok := parseSeal(p); ok {
					seg.info = info
					seg.end = start + uint64(size)
					return seg, nil
				}
			}
		}
	}
	// No seal: the process stopped without closing the segment. Scan it.
	info := emptySeal()
	good, err := scanSegment(f, func(payload []byte) {
		_ = walkRecord(payload, func(_ uint64, _ entry, it recItem) {
			if it.kind != kindExemplar {
				info.samples++
				info.minT = min(info.minT, it.t)
				info.maxT = max(info.maxT, it.t)
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("scanning queue segment %s: %w", path, err)
	}
	if good < size {
		q.opts.logger.Warn("truncating torn tail of queue segment", "segment", path, "valid_bytes", good, "size", size)
		if err := f.Truncate(good); err != nil {
			return nil, fmt.Errorf("truncating queue segment %s: %w", path, err)
		}
	}
	seg.info = info
	if good > 0 {
		if _, err := f.WriteAt(appendSeal(nil, info), good); err != nil {
			return nil, fmt.Errorf("sealing queue segment %s: %w", path, err)
		}
		good += sealFrame
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("syncing queue segment %s: %w", path, err)
	}
	seg.end = start + uint64(good)
	return seg, nil
}

// scanSegment calls fn for every valid record from the start of f and
// returns the length of the valid prefix.
func scanSegment(f io.ReaderAt, fn func(payload []byte)) (int64, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, math.MaxInt64), 256<<10)
	var good int64
	hdr := make([]byte, frameHeader)
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return good, nil
		}
		l := int(uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16 | uint32(hdr[3])<<24)
		if l == 0 || l > maxPayload {
			return good, nil
		}
		buf = append(buf[:0], hdr...)
		buf = append(buf, make([]byte, l)...)
		if _, err := io.ReadFull(r, buf[frameHeader:]); err != nil {
			return good, nil
		}
		p, n, err := parseFrame(buf)
		if err != nil {
			return good, nil
		}
		if walkRecord(p, nil) != nil {
			return good, nil
		}
		fn(p)
		good += int64(n)
	}
}

// startSegment makes a new active segment beginning at start. q.mu is held
// or the queue is not yet shared.
func (q *queue) startSegment(start uint64) error {
	f, err := q.opts.open(q.segPath(start), os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating queue segment: %w", err)
	}
	if err := syncDir(q.opts.dir); err != nil {
		f.Close()
		os.Remove(q.segPath(start))
		return err
	}
	q.f = f
	q.segs = append(q.segs, &segment{start: start, end: start, info: emptySeal(), lastWrite: time.Now()})
	if prev := q.activeStart.Load(); len(q.enc.series) > 0 && prev < start {
		q.prevSeries, q.prevStart, q.prevEnd = q.enc.handOff(), prev, start
	} else {
		q.enc.reset()
	}
	q.end.Store(start)
	q.activeStart.Store(start)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening queue directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing queue directory: %w", err)
	}
	return nil
}

var errClosed = errors.New("queue closed")

// append writes b to the active segment. When it returns nil, the batch is
// in the operating system's hands and survives the death of the process.
func (q *queue) append(b *sample.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errClosed
	}
	if q.f == nil {
		// The last segment was sealed and the next could not be
		// created then (no space, no inode, no file descriptor): try
		// again now.
		if err := q.startSegment(q.end.Load()); err != nil {
			return err
		}
		q.opts.logger.Info("queue segment created after an earlier failure", "segment", segName(q.end.Load()))
	}
	// Series the encoder defines in this batch are only defined in the
	// segment if the write succeeds: on failure it forgets them, so that
	// the next batch defines them again instead of referring to
	// definitions that never reached the file.
	mark := q.enc.mark()
	q.buf, q.stats = q.enc.encodeBatch(q.buf[:0], b, q.stats[:0])
	if err := q.write(q.buf); err != nil {
		q.enc.rollback(mark)
		return err
	}
	active := q.segs[len(q.segs)-1]
	off := active.end
	for _, st := range q.stats {
		q.addBlock(off, st)
		active.info.add(st.sealInfo)
		if st.samples > 0 {
			q.highestT = max(q.highestT, st.maxT)
		}
		off += uint64(st.size)
	}
	active.end = off
	active.lastWrite = time.Now()
	q.end.Store(off)
	q.dirty = true
	if q.wait != nil {
		close(q.wait)
		q.wait = nil
	}
	for ch, at := range q.notify {
		if off >= at {
			signal(ch)
			delete(q.notify, ch)
		}
	}
	if q.segmentFull(int64(active.end - active.start)) {
		// The batch is written: a failure to rotate is not the batch's.
		// The segment stays active (or, sealed, the next append
		// creates its successor) and rotation is tried again.
		if err := q.rotate(); err != nil {
			q.opts.logger.Warn("rotating the queue segment failed; retrying at the next append", "err", err)
		}
	}
	q.enforceSize()
	if q.prevSeries != nil && q.lowLocked() >= q.prevEnd {
		q.prevSeries = nil
	}
	return nil
}

// defShare is the most of a segment that series definitions may take
// before the segment is sealed: 1/defShare.
const defShare = 8

// segmentFull tells whether the active segment, of size bytes, is to be
// sealed. A segment defines each series it refers to once, so with many
// series a segment of segmentBytes would hold little but definitions (a
// million series of 100 bytes of labels outweigh 64 MiB). It therefore
// grows past segmentBytes until its definitions are at most 1/defShare of
// it, but no further than a quarter of the queue's bound, so that the
// bound still drops the oldest data in steps of at most a quarter.
func (q *queue) segmentFull(size int64) bool {
	if size < q.opts.segmentBytes {
		return false
	}
	if !q.opts.growSegments || size >= max(q.opts.segmentBytes, q.opts.maxBytes/4) {
		return true
	}
	return q.enc.defBytes*defShare <= size
}

// write appends p to the active segment, undoing a partial write. When the
// partial write cannot be undone, the segment is closed at its last good
// record (reopening the queue cuts the rest) and the next append starts a
// new one.
func (q *queue) write(p []byte) error {
	if _, err := q.f.Write(p); err != nil {
		active := q.segs[len(q.segs)-1]
		if terr := q.f.Truncate(int64(active.end - active.start)); terr != nil {
			q.f.Close()
			q.f = nil
			q.dirty = false
			active.sealed = true
			return fmt.Errorf("appending to queue: %w (and undoing it: %v)", err, terr)
		}
		return fmt.Errorf("appending to queue: %w", err)
	}
	return nil
}

func (q *queue) addBlock(off uint64, st recordStat) {
	if n := len(q.blocks); n > 0 {
		b := &q.blocks[n-1]
		if b.end == off && b.end-b.start < blockBytes && b.start >= q.activeStart.Load() {
			b.end += uint64(st.size)
			b.minT = min(b.minT, st.minT)
			b.samples += st.samples
			return
		}
	}
	q.blocks = append(q.blocks, block{start: off, end: off + uint64(st.size), minT: st.minT, samples: st.samples})
}

// rotate seals the active segment, syncs it and starts the next one. If the
// seal cannot be written the segment stays active; if the next segment
// cannot be created, q.f is left nil and the next append creates it.
func (q *queue) rotate() error {
	if q.f == nil {
		return nil
	}
	active := q.segs[len(q.segs)-1]
	if active.end == active.start {
		return nil
	}
	seal := appendSeal(nil, active.info)
	if err := q.write(seal); err != nil {
		return err
	}
	active.end += uint64(len(seal))
	q.end.Store(active.end)
	var errs []error
	if err := q.f.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("syncing queue segment: %w", err))
	}
	if err := q.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing queue segment: %w", err))
	}
	q.f = nil
	q.dirty = false
	active.sealed = true
	if err := q.startSegment(active.end); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// enforceSize drops the oldest sealed segments while the queue is larger
// than its bound.
func (q *queue) enforceSize() {
	for len(q.segs) > 1 && int64(q.end.Load()-q.segs[0].start) > q.opts.maxBytes {
		q.dropOldest("queue_full")
	}
}

// dropOldest removes the oldest segment, telling each consumer roughly how
// many samples it had not yet sent from it. The estimate is exact for a
// shard that had read none or all of the segment, and proportional to the
// bytes left for one in the middle.
func (q *queue) dropOldest(reason string) {
	seg := q.segs[0]
	q.segs = q.segs[1:]
	q.first.Store(q.segs[0].start)
	for len(q.blocks) > 0 && q.blocks[0].end <= q.segs[0].start {
		q.blocks = q.blocks[1:]
	}
	if q.opts.onDrop != nil && seg.info.samples > 0 {
		size := float64(seg.end - seg.start)
		for name, c := range q.consumers {
			lost := 0.0
			for _, p := range c.pos {
				if p.Off >= seg.end {
					continue
				}
				left := float64(seg.end - max(p.Off, seg.start))
				lost += float64(seg.info.samples) * left / size / float64(len(c.pos))
			}
			if n := int64(math.Round(lost)); n > 0 {
				q.opts.onDrop(name, reason, n)
			}
		}
	}
	q.opts.logger.Warn("dropped queue segment", "reason", reason, "segment", segName(seg.start), "samples", seg.info.samples)
	if err := os.Remove(q.segPath(seg.start)); err != nil {
		q.opts.logger.Error("removing queue segment", "segment", segName(seg.start), "err", err)
	}
}

// sync is called every second: it fsyncs the active segment, then persists
// the consumers' positions (so that no persisted acknowledgement is ahead of
// synced data), deletes segments every consumer is done with, and applies
// the age bound.
func (q *queue) sync(now time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	var errs []error
	if q.dirty && q.f != nil {
		if err := q.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("syncing queue segment: %w", err))
		} else {
			q.dirty = false
		}
	}
	for _, c := range q.consumers {
		if err := c.persist(); err != nil {
			errs = append(errs, err)
		}
	}
	low := q.lowLocked()
	for len(q.segs) > 1 && q.segs[0].sealed && q.segs[0].end <= low {
		seg := q.segs[0]
		q.segs = q.segs[1:]
		q.first.Store(q.segs[0].start)
		if err := os.Remove(q.segPath(seg.start)); err != nil {
			errs = append(errs, fmt.Errorf("removing acknowledged queue segment: %w", err))
		}
	}
	i := 0
	for i < len(q.blocks) && q.blocks[i].end <= low {
		i++
	}
	q.blocks = q.blocks[i:]
	if q.opts.maxAge > 0 {
		cutoff := now.Add(-q.opts.maxAge)
		active := q.segs[len(q.segs)-1]
		if active.end > active.start && active.lastWrite.Before(cutoff) {
			if err := q.rotate(); err != nil {
				errs = append(errs, err)
			}
		}
		for len(q.segs) > 1 && q.segs[0].lastWrite.Before(cutoff) {
			q.dropOldest("too_old")
		}
	}
	return errors.Join(errs...)
}

// lowLocked is the offset before which every consumer has acknowledged
// everything.
func (q *queue) lowLocked() uint64 {
	low := q.end.Load()
	for _, c := range q.consumers {
		for _, p := range c.pos {
			low = min(low, p.Off)
		}
	}
	return max(low, q.first.Load())
}

// watermark is described on Writer.Watermark.
func (q *queue) watermark(now time.Time, lag time.Duration) int64 {
	w := now.UnixMilli() - 1 - lag.Milliseconds()
	q.mu.Lock()
	defer q.mu.Unlock()
	low := q.lowLocked()
	for _, b := range q.blocks {
		if b.end > low && b.samples > 0 {
			w = min(w, b.minT-1)
		}
	}
	return w
}

// pending estimates the samples consumer c has not acknowledged, counting
// whole blocks, and the bytes of log behind it.
func (q *queue) pending(c *consumer) (samples int64, bytes uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	low := q.end.Load()
	for _, p := range c.pos {
		low = min(low, p.Off)
	}
	low = max(low, q.first.Load())
	for _, b := range q.blocks {
		if b.end > low {
			samples += b.samples
		}
	}
	return samples, q.end.Load() - low
}

func (q *queue) setBounds(maxBytes int64, maxAge time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.opts.maxBytes, q.opts.maxAge = maxBytes, maxAge
}

// size is the bytes of the live log.
func (q *queue) size() uint64 { return q.end.Load() - q.first.Load() }

func (q *queue) highestTimestamp() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.highestT
}

// waitCh returns a channel closed by the next append.
func (q *queue) waitCh() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.wait == nil {
		q.wait = make(chan struct{})
	}
	return q.wait
}

// segmentLabels returns the labels that the encoder gave ref in the
// segment starting at segStart, if that segment is still being written or
// is the one before and still kept (false otherwise: the caller decodes
// them from the record).
func (q *queue) segmentLabels(segStart, ref uint64) (labels.Labels, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.activeStart.Load() == segStart && ref < uint64(len(q.enc.series)):
		return q.enc.series[ref].ls, true
	case q.prevSeries != nil && q.prevStart == segStart && ref < uint64(len(q.prevSeries)):
		return q.prevSeries[ref].ls, true
	}
	return labels.EmptyLabels(), false
}

// notifyAt signals ch (which has a buffer of one) once the committed end
// reaches off, replacing ch's previous request. A reader that only needs
// to know when a batch is full sleeps through the appends before it.
func (q *queue) notifyAt(ch chan struct{}, off uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.end.Load() >= off {
		delete(q.notify, ch)
		signal(ch)
		return
	}
	if q.notify == nil {
		q.notify = make(map[chan struct{}]uint64)
	}
	q.notify[ch] = off
}

// cancelNotify forgets ch's request.
func (q *queue) cancelNotify(ch chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.notify, ch)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// locate returns the live segment holding off. An offset before the first
// live segment (its data was dropped) moves to that segment's start; one
// beyond the end moves to the end.
func (q *queue) locate(off uint64) (start, end uint64, sealed bool, moved uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if off < q.segs[0].start {
		s := q.segs[0]
		return s.start, s.end, s.sealed, s.start
	}
	for _, s := range q.segs {
		if off < s.end || !s.sealed {
			if off < s.start {
				off = s.start
			}
			if off > s.end {
				off = s.end
			}
			return s.start, s.end, s.sealed, off
		}
	}
	s := q.segs[len(q.segs)-1]
	return s.start, s.end, s.sealed, s.end
}

// segmentEnd returns the end of the segment starting at start, and whether
// it is sealed (so that the end is final).
func (q *queue) segmentEnd(start uint64) (uint64, bool) {
	end := q.end.Load()
	if q.activeStart.Load() == start {
		return end, false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, s := range q.segs {
		if s.start == start {
			return s.end, s.sealed
		}
	}
	return 0, true // dropped
}

// close syncs and closes the queue, persisting every consumer.
func (q *queue) close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	var errs []error
	// Seal a non-empty active segment, so that the next open reads its
	// summary instead of scanning it.
	if active := q.segs[len(q.segs)-1]; q.f != nil && active.end > active.start {
		seal := appendSeal(nil, active.info)
		if err := q.write(seal); err != nil {
			errs = append(errs, err)
		} else {
			active.end += uint64(len(seal))
			active.sealed = true
			q.end.Store(active.end)
		}
	}
	if q.f != nil {
		if err := q.f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("syncing queue segment: %w", err))
		}
	}
	for _, c := range q.consumers {
		if err := c.persist(); err != nil {
			errs = append(errs, err)
		}
	}
	if q.f != nil {
		if err := q.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing queue segment: %w", err))
		}
	}
	return errors.Join(errs...)
}

// abort closes the queue the way kill -9 would: whatever was written stays,
// positions not yet persisted are lost.
func (q *queue) abort() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		if q.f != nil {
			q.f.Close()
		}
	}
}

// consumer is one endpoint's view of the queue: how many shards it reads
// with and where each stands. Shard s reads the series whose hash modulo n
// is s.
type consumer struct {
	name      string
	path      string
	n         int
	pos       []Position
	saved     []Position
	savedN    int
	persisted bool
}

func consumerPath(dir, name string) string {
	return filepath.Join(dir, "consumers", fmt.Sprintf("%016x.pos", xxhash.Sum64String(name)))
}

// addConsumer returns the consumer named name, loading its persisted
// positions. A consumer the queue has never seen starts at the end of the
// log (an endpoint added to a running config does not get the backlog); one
// whose file is unreadable starts at the beginning, to resend rather than
// lose.
func (q *queue) addConsumer(name string, shards int) (*consumer, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c, ok := q.consumers[name]; ok {
		return c, nil
	}
	c := &consumer{name: name, path: consumerPath(q.opts.dir, name)}
	n, pos, err := readPositions(c.path)
	switch {
	case err == nil && n > 0:
		c.n, c.pos = n, pos
		c.saved, c.savedN, c.persisted = append([]Position(nil), pos...), n, true
	case errors.Is(err, os.ErrNotExist):
		c.n = max(shards, 1)
		c.pos = make([]Position, c.n)
		for i := range c.pos {
			c.pos[i] = Position{Off: q.end.Load()}
		}
	default:
		q.opts.logger.Warn("unreadable queue positions; resending from the oldest data", "consumer", name, "err", err)
		c.n = max(shards, 1)
		c.pos = make([]Position, c.n)
		for i := range c.pos {
			c.pos[i] = Position{Off: q.first.Load()}
		}
	}
	if err := c.persist(); err != nil {
		return nil, err
	}
	q.consumers[name] = c
	return c, nil
}

// removeConsumer forgets a consumer and its positions.
func (q *queue) removeConsumer(name string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.consumers[name]
	if !ok {
		return nil
	}
	delete(q.consumers, name)
	if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing queue positions of %s: %w", name, err)
	}
	return nil
}

// ack records that shard s of c has everything before p behind it.
func (q *queue) ack(c *consumer, s int, p Position) {
	q.mu.Lock()
	if s < len(c.pos) && c.pos[s].less(p) {
		c.pos[s] = p
	}
	q.mu.Unlock()
}

// positions returns a copy of c's shard count and positions.
func (q *queue) positions(c *consumer) (int, []Position) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return c.n, append([]Position(nil), c.pos...)
}

// reshard sets c to n shards all standing at off. The caller has drained
// every shard to off first, so no data is skipped or repeated.
func (q *queue) reshard(c *consumer, n int, off uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	c.n = n
	c.pos = make([]Position, n)
	for i := range c.pos {
		c.pos[i] = Position{Off: off}
	}
	// Persist at once: a restart must not read with the old mapping from
	// the new positions.
	return c.persist()
}

// persist writes c's positions if they changed: a temporary file, fsync,
// rename.
func (c *consumer) persist() error {
	if c.persisted && c.savedN == c.n && equalPositions(c.saved, c.pos) {
		return nil
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "shoal-queue-positions 1\n%s\n%d\n", strconv.Quote(c.name), c.n)
	for _, p := range c.pos {
		fmt.Fprintf(&sb, "%d %d\n", p.Off, p.Idx)
	}
	tmp := c.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("saving queue positions: %w", err)
	}
	_, err = f.WriteString(sb.String())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(c.path))
	}
	if err != nil {
		return fmt.Errorf("saving queue positions of %s: %w", c.name, err)
	}
	c.saved = append(c.saved[:0], c.pos...)
	c.savedN = c.n
	c.persisted = true
	return nil
}

func equalPositions(a, b []Position) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func readPositions(path string) (int, []Position, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 3 || lines[0] != "shoal-queue-positions 1" {
		return 0, nil, fmt.Errorf("%s: not a positions file", path)
	}
	n, err := strconv.Atoi(lines[2])
	if err != nil || n <= 0 || len(lines) != 3+n {
		return 0, nil, fmt.Errorf("%s: bad shard count", path)
	}
	pos := make([]Position, n)
	for i := range pos {
		var idx uint32
		if _, err := fmt.Sscanf(lines[3+i], "%d %d", &pos[i].Off, &idx); err != nil {
			return 0, nil, fmt.Errorf("%s: line %d: %w", path, 4+i, err)
		}
		pos[i].Idx = idx
	}
	return n, pos, nil
}

func maxConsumerOffset(dir string) (uint64, bool, error) {
	ents, err := os.ReadDir(filepath.Join(dir, "consumers"))
	if err != nil {
		return 0, false, fmt.Errorf("listing queue positions: %w", err)
	}
	var m uint64
	found := false
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pos") {
			continue
		}
		_, pos, err := readPositions(filepath.Join(dir, "consumers", e.Name()))
		if err != nil {
			continue
		}
		for _, p := range pos {
			m, found = max(m, p.Off), true
		}
	}
	return m, found, nil
}
