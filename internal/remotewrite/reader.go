package remotewrite

import (
	"errors"
	"fmt"
	"os"
)

// segReader reads records from the log for one shard. It reads with pread
// into its own buffer and never past the committed end, so a record being
// appended is never seen half-written.
type segReader struct {
	q          *queue
	f          queueFile
	start, end uint64 // the open segment; end is final once sealed
	sealed     bool
	pos        uint64 // offset of the next record
	buf        []byte // log bytes from bufOff
	bufOff     uint64
	newSeg     bool // a segment was opened since the last record returned
	// onDamage is told of every damaged stretch skipped ("record") and
	// every failed read ("read").
	onDamage  func(kind string)
	readFails int // consecutive failed reads at pos
}

// maxReadFails is how many times in a row a read at one offset may fail
// before the reader gives up on the data there and skips it.
const maxReadFails = 5

// resyncWindow bounds how far past a damaged record the reader looks for
// the next valid one; past it, it skips the window and looks again.
const resyncWindow = 4 << 20

// errRead is a failed read of the log: the caller waits and calls next
// again, which retries the read (or, after maxReadFails, skips the data).
var errRead = errors.New("reading the queue failed")

func (r *segReader) damaged(kind string) {
	if r.onDamage != nil {
		r.onDamage(kind)
	}
}

// record is one frame read from the log; payload is valid until the next
// call to next.
type record struct {
	payload    []byte
	off, end   uint64
	segStart   uint64 // the start of the record's segment
	newSegment bool
}

var errNoData = errors.New("no more data")

// readChunk is how much a reader asks for at once: a little more than a
// full batch of 2000 samples takes in the log, so that a shard woken to
// fill its batch reads once, and each shard's buffer stays small.
const readChunk = 64 << 10

// seek positions the reader at the start of the segment holding off and
// returns off, moved forward if its data was dropped.
func (r *segReader) seek(off uint64) uint64 {
	r.close()
	start, _, _, moved := r.q.locate(off)
	r.pos = start
	return moved
}

func (r *segReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.buf = r.buf[:0]
}

func (r *segReader) open() error {
	for tries := 0; ; tries++ {
		start, end, sealed, pos := r.q.locate(r.pos)
		f, err := r.q.opts.open(r.q.segPath(start), os.O_RDONLY, 0)
		if err != nil {
			// The segment was dropped between locate and open.
			if errors.Is(err, os.ErrNotExist) && tries < 3 {
				continue
			}
			return fmt.Errorf("opening queue segment: %w", err)
		}
		r.f, r.start, r.end, r.sealed, r.pos = f, start, end, sealed, pos
		r.buf, r.bufOff = r.buf[:0], pos
		r.newSeg = true
		return nil
	}
}

// available reports whether a record can be read without waiting.
func (r *segReader) available() bool {
	return r.pos < r.q.end.Load() || r.pos < r.q.first.Load()
}

// next returns the next record, or errNoData at the committed end.
func (r *segReader) next() (record, error) {
	for {
		if r.f == nil {
			if err := r.open(); err != nil {
				r.damaged("read")
				r.readFails++
				if r.readFails >= maxReadFails {
					// The segment cannot be opened: skip what it holds.
					r.readFails = 0
					if _, end, _, pos := r.q.locate(r.pos); end > pos {
						r.q.opts.logger.Error("skipping a queue segment that cannot be opened", "offset", pos, "skipped_bytes", end-pos, "err", err)
						r.pos = end
						continue
					}
				}
				return record{}, fmt.Errorf("%w: %v", errRead, err)
			}
		}
		if r.pos < r.q.first.Load() {
			// Dropped under us to keep the queue in its bounds.
			r.close()
			continue
		}
		limit := r.end
		if !r.sealed {
			var sealed bool
			limit, sealed = r.q.segmentEnd(r.start)
			if sealed {
				if limit == 0 {
					r.close()
					continue
				}
				r.end, r.sealed = limit, true
			}
		}
		if r.pos >= limit {
			if r.sealed {
				r.pos = r.end
				r.close()
				continue
			}
			return record{}, errNoData
		}
		payload, n, err := r.frame(limit)
		if err != nil && !errors.Is(err, errCorrupt) {
			// The read itself failed: retry a few times (the caller
			// waits between), then give up on the data there.
			r.readFails++
			r.damaged("read")
			if r.readFails < maxReadFails {
				r.close()
				return record{}, fmt.Errorf("%w: %v", errRead, err)
			}
			skipTo := limit
			r.q.opts.logger.Error("skipping unreadable queue data", "segment", segName(r.start), "offset", r.pos, "skipped_bytes", skipTo-r.pos, "err", err)
			r.readFails = 0
			r.pos = skipTo
			r.buf = r.buf[:0]
			continue
		}
		r.readFails = 0
		if err != nil {
			// Replay validated every segment, so this is damage done
			// since (or a torn write that was not undone): skip to the
			// next valid record and go on.
			r.damaged("record")
			next := r.resync(limit)
			r.q.opts.logger.Error("skipping damaged queue data", "segment", segName(r.start), "offset", r.pos, "skipped_bytes", next-r.pos, "err", err)
			r.pos = next
			r.buf = r.buf[:0]
			continue
		}
		rec := record{payload: payload, off: r.pos, end: r.pos + uint64(n), segStart: r.start, newSegment: r.newSeg}
		r.newSeg = false
		r.pos = rec.end
		return rec, nil
	}
}

// resync returns the offset of the first valid record after the damaged one
// at r.pos, looking at most resyncWindow bytes ahead, or the end of what
// it looked at. A record counts as valid when its checksum matches and it
// decodes; a false match in damaged bytes has odds of 2^-32 per offset.
func (r *segReader) resync(limit uint64) uint64 {
	from := r.pos + 1
	to := min(limit, from+resyncWindow)
	if to <= from {
		return limit
	}
	buf := make([]byte, to-from)
	n, _ := r.f.ReadAt(buf, int64(from-r.start))
	buf = buf[:n]
	for i := 0; i+frameHeader <= len(buf); i++ {
		l := int(uint32(buf[i]) | uint32(buf[i+1])<<8 | uint32(buf[i+2])<<16 | uint32(buf[i+3])<<24)
		if l == 0 || l > len(buf)-i-frameHeader {
			continue
		}
		if p, _, err := parseFrame(buf[i:]); err == nil && walkRecord(p, nil) == nil {
			return from + uint64(i)
		}
	}
	return from + uint64(len(buf))
}

// frame parses the frame at r.pos, reading more of the file as needed.
func (r *segReader) frame(limit uint64) ([]byte, int, error) {
	if err := r.fill(frameHeader, limit); err != nil {
		return nil, 0, err
	}
	b := r.buf[r.pos-r.bufOff:]
	l := uint64(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	if l == 0 || l > maxPayload {
		return nil, 0, fmt.Errorf("%w: payload length %d", errCorrupt, l)
	}
	if err := r.fill(frameHeader+l, limit); err != nil {
		return nil, 0, err
	}
	return parseFrame(r.buf[r.pos-r.bufOff:])
}

// fill makes buf hold [pos, pos+need).
func (r *segReader) fill(need, limit uint64) error {
	if r.pos >= r.bufOff && r.pos+need <= r.bufOff+uint64(len(r.buf)) {
		return nil
	}
	if r.pos+need > limit {
		return fmt.Errorf("%w: frame crosses the end of the data", errCorrupt)
	}
	want := min(max(need, readChunk), limit-r.pos)
	if uint64(cap(r.buf)) < want {
		r.buf = make([]byte, want)
	}
	r.buf = r.buf[:want]
	n, err := r.f.ReadAt(r.buf, int64(r.pos-r.start))
	r.bufOff = r.pos
	r.buf = r.buf[:n]
	if uint64(n) < need {
		return fmt.Errorf("reading queue segment %s at %d: %d of %d bytes: %v", segName(r.start), r.pos-r.start, n, need, err)
	}
	return nil
}
