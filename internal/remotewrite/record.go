package remotewrite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// The on-disk record format.
//
// A frame is a 4-byte little-endian payload length, a 4-byte CRC-32C
// (Castagnoli) of the payload, and the payload. The first payload byte is the
// record type.
//
// A samples record (type 1) is a run of entries, one per run of consecutive
// samples of one series:
//
//	hash     uint64 LE     series hash (labels.Labels.Hash of the series as received)
//	bodyLen  uvarint
//	body:
//	  uvarint  ref<<1 | def   ref names the series within its segment
//	  if def:  uvarint n, then n × (uvarint len, name, uvarint len, value)
//	  uvarint  count
//	  count × item:
//	    kind byte
//	    kindFloat:    zigzag-varint Δt (from the entry's previous timestamp, starting at 0), float64 LE
//	    kindHist:     zigzag-varint Δt, uvarint len, protobuf Histogram body without timestamp
//	    kindExemplar: uvarint len, protobuf Exemplar body
//	  a float or histogram item whose kind has the kindHasST bit set is
//	  followed by its start timestamp, zigzag-varint (absolute)
//
// The hash comes first and the body is length-prefixed so that a sender
// shard skips the series of other shards without decoding them. A series'
// labels are written once per segment (def) and referred to by ref after.
//
// A seal record (type 2) ends every segment that was closed cleanly and has
// a fixed size, so that opening a queue reads it from the segment's tail
// instead of scanning the segment: samples uint64, minT int64, maxT int64.

const (
	frameHeader = 8

	recSamples byte = 1
	recSeal    byte = 2

	kindFloat    byte = 0
	kindHist     byte = 1
	kindExemplar byte = 2
	// kindHasST marks a float or histogram item followed by its start
	// timestamp (sample.Sample.ST).
	kindHasST byte = 0x80

	sealPayload = 1 + 3*8
	sealFrame   = frameHeader + sealPayload

	// maxRecordItems bounds the items of one record, so that a reader's
	// buffer stays small whatever the size of the batches it is given.
	maxRecordItems = 2048
	// maxPayload is the largest payload a reader accepts; a larger length
	// field is corruption.
	maxPayload = 64 << 20
	// minEntryBytes is the least an entry takes in a record: hash,
	// length, ref and count.
	minEntryBytes = 8 + 1 + 1 + 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	errShort   = errors.New("record truncated")
	errCorrupt = errors.New("record corrupt")
)

// parseFrame checks the frame at the start of b. It returns the payload and
// the frame's total length, or errShort when b holds only part of the frame.
func parseFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < frameHeader {
		return nil, 0, errShort
	}
	l := binary.LittleEndian.Uint32(b)
	if l == 0 || l > maxPayload {
		return nil, 0, fmt.Errorf("%w: payload length %d", errCorrupt, l)
	}
	if len(b) < frameHeader+int(l) {
		return nil, 0, errShort
	}
	payload = b[frameHeader : frameHeader+int(l)]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return nil, 0, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	return payload, frameHeader + int(l), nil
}

// beginFrame reserves a frame header at the end of dst.
func beginFrame(dst []byte) ([]byte, int) {
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0), len(dst)
}

// endFrame fills in the header of the frame that starts at start.
func endFrame(dst []byte, start int) {
	p := dst[start+frameHeader:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(p, castagnoli))
}

// sealInfo is the summary of a segment.
type sealInfo struct {
	samples    int64
	minT, maxT int64
}

func emptySeal() sealInfo { return sealInfo{minT: math.MaxInt64, maxT: math.MinInt64} }

func (s *sealInfo) add(o sealInfo) {
	s.samples += o.samples
	s.minT = min(s.minT, o.minT)
	s.maxT = max(s.maxT, o.maxT)
}

func appendSeal(dst []byte, s sealInfo) []byte {
	dst, start := beginFrame(dst)
	dst = append(dst, recSeal)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.samples))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.minT))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(s.maxT))
	endFrame(dst, start)
	return dst
}

func parseSeal(payload []byte) (sealInfo, bool) {
	if len(payload) != sealPayload || payload[0] != recSeal {
		return sealInfo{}, false
	}
	return sealInfo{
		samples: int64(binary.LittleEndian.Uint64(payload[1:])),
		minT:    int64(binary.LittleEndian.Uint64(payload[9:])),
		maxT:    int64(binary.LittleEndian.Uint64(payload[17:])),
	}, true
}

// internedSeries is a series the encoder has defined in the current
// segment; its ref is its index in recordEncoder.series.
type internedSeries struct {
	ls   labels.Labels
	hash uint64
	// next is 1 + the ref of the series that followed this one in the
	// last batch (0: none). Scrapes list a target's series in the same
	// order every time, so following next finds almost every series
	// without hashing its labels or probing a map that does not fit in
	// the cache.
	next uint32
}

// recordEncoder turns batches into framed records. It interns series per
// segment: reset must be called when a segment begins.
type recordEncoder struct {
	// refs maps the low 32 bits of a series' labels hash to its ref, for
	// series not predicted by next. 32 bits rather than 64 halve the
	// map's slots (about 13 bytes per series); the rare series whose
	// truncated hash collides is defined again (see lookup).
	refs    map[uint32]uint32
	series  []internedSeries // by ref
	body    []byte
	scratch []byte
	// defBytes is the size of the series definitions written in the
	// current segment, so that the queue can make the segment long
	// enough for its samples to outweigh them.
	defBytes int64
}

// encoderMark is the encoder's state for rollback.
type encoderMark struct {
	series   int
	defBytes int64
}

func (e *recordEncoder) reset() {
	if e.refs == nil {
		e.refs = make(map[uint32]uint32)
	}
	clear(e.refs)
	clear(e.series)
	e.series = e.series[:0]
	e.defBytes = 0
}

// handOff ends the encoder's segment as reset does, but returns its series
// table instead of clearing it: the caller may keep it while the segment
// is read. The next table starts at the same capacity.
func (e *recordEncoder) handOff() []internedSeries {
	old := e.series
	e.series = make([]internedSeries, 0, len(old))
	e.reset()
	return old
}

// mark returns the encoder's state for rollback: the number of series it
// has defined, and the bytes of their definitions.
func (e *recordEncoder) mark() encoderMark {
	return encoderMark{series: len(e.series), defBytes: e.defBytes}
}

// rollback forgets the series defined since m, because the records that
// defined them were not written.
func (e *recordEncoder) rollback(m encoderMark) {
	e.defBytes = m.defBytes
	mark := m.series
	if mark >= len(e.series) {
		return
	}
	for _, s := range e.series[mark:] {
		if r, ok := e.refs[uint32(s.hash)]; ok && int(r) >= mark {
			delete(e.refs, uint32(s.hash))
		}
	}
	clear(e.series[mark:])
	e.series = e.series[:mark]
	for i := range e.series {
		if int(e.series[i].next) > mark {
			e.series[i].next = 0
		}
	}
}

// recordStat describes one encoded record.
type recordStat struct {
	size int
	sealInfo
}

// encodeBatch appends b to dst as one or more framed records and returns the
// stats of each record through stats.
func (e *recordEncoder) encodeBatch(dst []byte, b *sample.Batch, stats []recordStat) ([]byte, []recordStat) {
	if e.refs == nil {
		e.reset()
	}
	items := 0
	var start int
	var st recordStat
	open := false
	closeRec := func() {
		if !open {
			return
		}
		endFrame(dst, start)
		st.size = len(dst) - start
		stats = append(stats, st)
		open = false
	}
	openRec := func() {
		dst, start = beginFrame(dst)
		dst = append(dst, recSamples)
		st = recordStat{sealInfo: emptySeal()}
		items = 0
		open = true
	}
	ss := b.Samples
	prev := -1 // the ref of the entry before, to predict the next
	for i := 0; i < len(ss); {
		if !open || items >= maxRecordItems {
			closeRec()
			openRec()
		}
		// A run of consecutive samples of one series becomes one entry.
		j := i + 1
		for j < len(ss) && j-i < maxRecordItems-items && labels.Equal(ss[j].Labels, ss[i].Labels) {
			j++
		}
		var body []byte
		var hash uint64
		body, hash, prev = e.seriesHeader(e.body[:0], ss[i].Labels, prev)
		body = binary.AppendUvarint(body, uint64(j-i))
		var prevT int64
		for _, s := range ss[i:j] {
			var stBit byte
			if s.ST != 0 {
				stBit = kindHasST
			}
			switch {
			case s.H != nil:
				body = append(body, kindHist|stBit)
				body = binary.AppendVarint(body, s.T-prevT)
				e.scratch = AppendHistogram(e.scratch[:0], s.H)
				body = binary.AppendUvarint(body, uint64(len(e.scratch)))
				body = append(body, e.scratch...)
			case s.FH != nil:
				body = append(body, kindHist|stBit)
				body = binary.AppendVarint(body, s.T-prevT)
				e.scratch = AppendFloatHistogram(e.scratch[:0], s.FH)
				body = binary.AppendUvarint(body, uint64(len(e.scratch)))
				body = append(body, e.scratch...)
			default:
				body = append(body, kindFloat|stBit)
				body = binary.AppendVarint(body, s.T-prevT)
				body = binary.LittleEndian.AppendUint64(body, math.Float64bits(s.V))
			}
			if stBit != 0 {
				body = binary.AppendVarint(body, s.ST)
			}
			prevT = s.T
			st.samples++
			st.minT = min(st.minT, s.T)
			st.maxT = max(st.maxT, s.T)
		}
		e.body = body
		dst = appendEntry(dst, hash, body)
		items += j - i
		i = j
	}
	prev = -1
	for _, ex := range b.Exemplars {
		if !open || items >= maxRecordItems {
			closeRec()
			openRec()
		}
		var body []byte
		var hash uint64
		body, hash, prev = e.seriesHeader(e.body[:0], ex.Labels, prev)
		body = binary.AppendUvarint(body, 1)
		body = append(body, kindExemplar)
		e.scratch = AppendExemplar(e.scratch[:0], ex.Exemplar)
		body = binary.AppendUvarint(body, uint64(len(e.scratch)))
		body = append(body, e.scratch...)
		e.body = body
		dst = appendEntry(dst, hash, body)
		items++
	}
	closeRec()
	return dst, stats
}

func appendEntry(dst []byte, hash uint64, body []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, hash)
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// seriesHeader appends the ref of ls, defining it first if this segment has
// not seen it, and returns the series' hash and ref. prev is the ref of the
// entry before in the batch (-1 for none): the series that followed it last
// time is tried before the hash map.
func (e *recordEncoder) seriesHeader(dst []byte, ls labels.Labels, prev int) ([]byte, uint64, int) {
	ref, hash, ok := e.lookup(ls, prev)
	if prev >= 0 {
		e.series[prev].next = uint32(ref + 1)
	}
	if ok {
		return binary.AppendUvarint(dst, uint64(ref)<<1), hash, ref
	}
	dst = binary.AppendUvarint(dst, uint64(ref)<<1|1)
	n := len(dst)
	dst = binary.AppendUvarint(dst, uint64(ls.Len()))
	ls.Range(func(l labels.Label) {
		dst = binary.AppendUvarint(dst, uint64(len(l.Name)))
		dst = append(dst, l.Name...)
		dst = binary.AppendUvarint(dst, uint64(len(l.Value)))
		dst = append(dst, l.Value...)
	})
	e.defBytes += int64(len(dst) - n)
	return dst, hash, ref
}

// lookup finds the ref of ls, or gives it a new one (ok false: the caller
// must define it).
func (e *recordEncoder) lookup(ls labels.Labels, prev int) (ref int, hash uint64, ok bool) {
	if prev >= 0 {
		if n := int(e.series[prev].next) - 1; n >= 0 && labels.Equal(e.series[n].ls, ls) {
			return n, e.series[n].hash, true
		}
	}
	hash = ls.Hash()
	if r, found := e.refs[uint32(hash)]; found && labels.Equal(e.series[r].ls, ls) {
		return int(r), hash, true
	}
	// On a hash collision the newer series takes the slot; the older one
	// is simply defined again under a new ref if it comes back.
	ref = len(e.series)
	e.refs[uint32(hash)] = uint32(ref)
	e.series = append(e.series, internedSeries{ls: ls, hash: hash})
	return ref, hash, false
}

// entryReader walks the entries of a samples record payload.
type entryReader struct {
	p   []byte
	err error
}

func newEntryReader(payload []byte) entryReader {
	if len(payload) == 0 || payload[0] != recSamples {
		return entryReader{}
	}
	return entryReader{p: payload[1:]}
}

// next returns the next entry's hash and body.
func (r *entryReader) next() (hash uint64, body []byte, ok bool) {
	if len(r.p) == 0 || r.err != nil {
		return 0, nil, false
	}
	if len(r.p) < 8 {
		r.err = fmt.Errorf("%w: short entry", errCorrupt)
		return 0, nil, false
	}
	hash = binary.LittleEndian.Uint64(r.p)
	l, n := binary.Uvarint(r.p[8:])
	if n <= 0 || l > uint64(len(r.p)-8-n) {
		r.err = fmt.Errorf("%w: entry length", errCorrupt)
		return 0, nil, false
	}
	body = r.p[8+n : 8+n+int(l)]
	r.p = r.p[8+n+int(l):]
	return hash, body, true
}

// entry is a decoded entry header; items is the undecoded item list.
type entry struct {
	ref    uint64
	def    bool
	labels []byte // the label pairs of a def, still encoded
	nLabel int
	count  int
	items  []byte
}

func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: bad varint", errCorrupt)
	}
	return v, b[n:], nil
}

// bytesField reads a uvarint length and that many bytes.
func bytesField(b []byte) ([]byte, []byte, error) {
	l, b, err := uvarint(b)
	if err != nil {
		return nil, nil, err
	}
	if l > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: field length %d beyond %d", errCorrupt, l, len(b))
	}
	return b[:l], b[l:], nil
}

func parseEntry(body []byte) (entry, error) {
	var e entry
	rd, b, err := uvarint(body)
	if err != nil {
		return e, err
	}
	e.ref, e.def = rd>>1, rd&1 == 1
	if e.def {
		n, rest, err := uvarint(b)
		if err != nil {
			return e, err
		}
		if n > uint64(len(rest)) {
			return e, fmt.Errorf("%w: label count", errCorrupt)
		}
		e.nLabel = int(n)
		start := rest
		for i := 0; i < 2*int(n); i++ {
			if _, rest, err = bytesField(rest); err != nil {
				return e, err
			}
		}
		e.labels = start[:len(start)-len(rest)]
		b = rest
	}
	c, b, err := uvarint(b)
	if err != nil {
		return e, err
	}
	if c > uint64(len(b)) {
		return e, fmt.Errorf("%w: item count", errCorrupt)
	}
	e.count = int(c)
	e.items = b
	return e, nil
}

// decodeLabels turns the label pairs of a def into labels.
func decodeLabels(sb *labels.ScratchBuilder, e entry) (labels.Labels, error) {
	sb.Reset()
	b := e.labels
	for i := 0; i < e.nLabel; i++ {
		var n, v []byte
		var err error
		if n, b, err = bytesField(b); err != nil {
			return labels.EmptyLabels(), err
		}
		if v, b, err = bytesField(b); err != nil {
			return labels.EmptyLabels(), err
		}
		sb.Add(string(n), string(v))
	}
	sb.Sort()
	return sb.Labels(), nil
}

// item is one decoded item of an entry; raw aliases the record buffer.
type recItem struct {
	kind byte // without kindHasST
	t    int64
	st   int64 // start timestamp; 0 unknown
	v    float64
	raw  []byte
}

// itemReader walks the items of an entry.
type itemReader struct {
	b    []byte
	left int
	t    int64
	err  error
}

func (r *itemReader) next() (it recItem, ok bool) {
	if r.left == 0 || r.err != nil {
		return it, false
	}
	r.left--
	if len(r.b) == 0 {
		r.err = fmt.Errorf("%w: missing item", errCorrupt)
		return it, false
	}
	it.kind = r.b[0]
	b := r.b[1:]
	hasST := it.kind&kindHasST != 0 && it.kind&^kindHasST != kindExemplar
	if hasST {
		it.kind &^= kindHasST
	}
	switch it.kind {
	case kindFloat, kindHist:
		d, n := binary.Varint(b)
		if n <= 0 {
			r.err = fmt.Errorf("%w: bad timestamp", errCorrupt)
			return it, false
		}
		r.t += d
		it.t = r.t
		b = b[n:]
		if it.kind == kindFloat {
			if len(b) < 8 {
				r.err = fmt.Errorf("%w: short value", errCorrupt)
				return it, false
			}
			it.v = math.Float64frombits(binary.LittleEndian.Uint64(b))
			b = b[8:]
		} else if it.raw, b, r.err = bytesField(b); r.err != nil {
			return it, false
		}
		if hasST {
			st, n := binary.Varint(b)
			if n <= 0 {
				r.err = fmt.Errorf("%w: bad start timestamp", errCorrupt)
				return it, false
			}
			it.st = st
			b = b[n:]
		}
	case kindExemplar:
		if it.raw, b, r.err = bytesField(b); r.err != nil {
			return it, false
		}
	default:
		r.err = fmt.Errorf("%w: item kind %d", errCorrupt, it.kind)
		return it, false
	}
	r.b = b
	return it, true
}

// walkRecord decodes a whole payload, calling fn for every item. It is what
// a reader does with a record, minus the shard filter; the fuzz test and
// the replay scan use it.
func walkRecord(payload []byte, fn func(hash uint64, e entry, it recItem)) error {
	if len(payload) == 0 {
		return fmt.Errorf("%w: empty payload", errCorrupt)
	}
	switch payload[0] {
	case recSeal:
		if _, ok := parseSeal(payload); !ok {
			return fmt.Errorf("%w: seal size", errCorrupt)
		}
		return nil
	case recSamples:
	default:
		return fmt.Errorf("%w: record type %d", errCorrupt, payload[0])
	}
	er := newEntryReader(payload)
	for {
		hash, body, ok := er.next()
		if !ok {
			break
		}
		e, err := parseEntry(body)
		if err != nil {
			return err
		}
		ir := itemReader{b: e.items, left: e.count}
		for {
			it, ok := ir.next()
			if !ok {
				break
			}
			if fn != nil {
				fn(hash, e, it)
			}
		}
		if ir.err != nil {
			return ir.err
		}
	}
	return er.err
}
