package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/cespare/xxhash/v2"
)

// record is a node's state as it travels in memberlist's node metadata
// (Delegate.NodeMeta, at most 512 bytes). Memberlist orders records by
// incarnation: every change is an UpdateNode, which bumps it, so a newer
// record always wins over an older one of the same node.
type record struct {
	State State
	// Since is when the node entered State, in Unix ms of its own clock.
	Since int64
	// Joined is, for a terminating node, when it had entered participant
	// (0 if it never had): its eligibility ends at Since+Δ and began at
	// Joined+Δ.
	Joined int64
	// Prev is, for a participant that re-entered after learning it had
	// been declared dead, the since it had before (0 otherwise). Between
	// Prev+Δ and Since+Δ it is eligible only as a fallback, when no other
	// node is (see buildView).
	Prev int64
	// Watermark is the Unix ms time at or before which every sample the
	// node stamped has been acknowledged by its receivers.
	Watermark int64
	// Fingerprint is the loaded configuration's fingerprint, cut to
	// maxFingerprint bytes.
	Fingerprint string
	// ExternalLabels is a hash of the node's remote-write external labels
	// (0 when unknown), so that differing labels across nodes are noticed.
	ExternalLabels uint64
	// Targets has one digest per clustered component, sorted by ID hash.
	Targets []targetDigest
	// HandoffDelay is the node's Δ in ms (0 when unknown: a node of an
	// older version), compared like the fingerprint (drift.go).
	HandoffDelay int64
}

// targetDigest summarises one component's target set.
type targetDigest struct {
	// ID is the xxhash64 of the component ID, cut to 32 bits: the name
	// itself would not fit many components into 512 bytes.
	ID     uint32
	Digest uint64
	Count  uint64
}

// The encoding of a record, version 1:
//
//	byte     version (1)
//	byte     state (0 viewer, 1 participant, 2 terminating)
//	varint   since
//	varint   joined
//	varint   prev
//	varint   watermark
//	uvarint  len(fingerprint), then its bytes
//	8 bytes  external-labels hash, little endian
//	uvarint  number of target digests, then for each:
//	         4 bytes ID, 8 bytes digest (little endian), uvarint count
//	uvarint  handoff delay in ms (added later; absent = unknown)
//
// A decoder accepts a newer version and ignores bytes it does not know,
// so a field may be appended without breaking older nodes. The high bit
// of the version byte marks a signed record, whose last 72 bytes are a
// key ID and a signature (see identity.go); older decoders take it for a
// newer version and ignore the trailer.
const (
	metaVersion    = 1
	maxMetaSize    = 512
	maxFingerprint = 64
)

// encode appends the record's encoding to b, dropping target digests
// that would not fit into limit bytes; dropped reports how many.
func (r *record) encode(b []byte, limit int) (out []byte, dropped int) {
	b = append(b, metaVersion, byte(r.State))
	b = binary.AppendVarint(b, r.Since)
	b = binary.AppendVarint(b, r.Joined)
	b = binary.AppendVarint(b, r.Prev)
	b = binary.AppendVarint(b, r.Watermark)
	fp := r.Fingerprint
	if len(fp) > maxFingerprint {
		fp = fp[:maxFingerprint]
	}
	b = binary.AppendUvarint(b, uint64(len(fp)))
	b = append(b, fp...)
	b = binary.LittleEndian.AppendUint64(b, r.ExternalLabels)
	// Each digest costs at most 4+8+10 bytes, the count at most 10.
	// The count and the handoff delay after the digests cost at most
	// 10 bytes each.
	room := (limit - len(b) - 2*binary.MaxVarintLen64) / (12 + binary.MaxVarintLen64)
	n := min(len(r.Targets), max(room, 0))
	b = binary.AppendUvarint(b, uint64(n))
	for _, t := range r.Targets[:n] {
		b = binary.LittleEndian.AppendUint32(b, t.ID)
		b = binary.LittleEndian.AppendUint64(b, t.Digest)
		b = binary.AppendUvarint(b, t.Count)
	}
	b = binary.AppendUvarint(b, uint64(max(r.HandoffDelay, 0)))
	return b, len(r.Targets) - n
}

var errShortMeta = errors.New("node meta: truncated")

// decodeRecord parses a record. An empty buffer is a node that has not
// published one (it counts as a viewer).
func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) == 0 {
		return r, nil
	}
	if len(b) < 2 {
		return r, errShortMeta
	}
	if b[0]&signedFlag != 0 {
		// A signed record: the key ID and signature end it (identity.go).
		if len(b) < 2+sigTrailer {
			return r, errShortMeta
		}
		b = b[:len(b)-sigTrailer]
	}
	if b[0]&^signedFlag < 1 {
		return r, fmt.Errorf("node meta: unknown version %d", b[0])
	}
	if b[1] > byte(Terminating) {
		return r, fmt.Errorf("node meta: unknown state %d", b[1])
	}
	r.State = State(b[1])
	b = b[2:]
	var err error
	if r.Since, b, err = readVarint(b); err != nil {
		return r, err
	}
	if r.Joined, b, err = readVarint(b); err != nil {
		return r, err
	}
	if r.Prev, b, err = readVarint(b); err != nil {
		return r, err
	}
	if r.Watermark, b, err = readVarint(b); err != nil {
		return r, err
	}
	n, b, err := readUvarint(b)
	if err != nil {
		return r, err
	}
	if n > maxFingerprint || uint64(len(b)) < n {
		return r, errShortMeta
	}
	r.Fingerprint = string(b[:n])
	b = b[n:]
	if len(b) < 8 {
		return r, errShortMeta
	}
	r.ExternalLabels = binary.LittleEndian.Uint64(b)
	b = b[8:]
	if n, b, err = readUvarint(b); err != nil {
		return r, err
	}
	if n > maxMetaSize/12 {
		return r, fmt.Errorf("node meta: %d target digests", n)
	}
	r.Targets = make([]targetDigest, 0, n)
	for range n {
		if len(b) < 12 {
			return r, errShortMeta
		}
		t := targetDigest{ID: binary.LittleEndian.Uint32(b), Digest: binary.LittleEndian.Uint64(b[4:])}
		if t.Count, b, err = readUvarint(b[12:]); err != nil {
			return r, err
		}
		r.Targets = append(r.Targets, t)
	}
	// Fields added later: absent in older records.
	if d, k := binary.Uvarint(b); k > 0 && d <= math.MaxInt64 {
		r.HandoffDelay = int64(d)
	}
	return r, nil
}

func readVarint(b []byte) (int64, []byte, error) {
	v, n := binary.Varint(b)
	if n <= 0 {
		return 0, nil, errShortMeta
	}
	return v, b[n:], nil
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, errShortMeta
	}
	return v, b[n:], nil
}

// componentHash is the 32-bit ID under which a component's digest travels.
func componentHash(id string) uint32 { return uint32(xxhash.Sum64String(id)) }

// digestKeys summarises a set of target keys independently of their order:
// the sum of their mixed values, so that it costs one pass and no sort.
func digestKeys(keys []uint64) uint64 {
	var d uint64
	for _, k := range keys {
		d += mix64(k ^ 0x9e3779b97f4a7c15)
	}
	return d
}

// setTargetDigest replaces (or with count < 0 removes) one component's
// digest, keeping the list sorted by ID.
func setTargetDigest(list []targetDigest, t targetDigest, remove bool) []targetDigest {
	i := sort.Search(len(list), func(i int) bool { return list[i].ID >= t.ID })
	found := i < len(list) && list[i].ID == t.ID
	switch {
	case remove && found:
		return append(list[:i:i], list[i+1:]...)
	case remove:
		return list
	case found:
		out := append([]targetDigest(nil), list...)
		out[i] = t
		return out
	default:
		out := make([]targetDigest, 0, len(list)+1)
		out = append(out, list[:i]...)
		out = append(out, t)
		return append(out, list[i:]...)
	}
}
