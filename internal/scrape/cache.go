package scrape

import (
	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// seriesCache maps a target's raw series bytes, as the parser returns them,
// to the final labels of the series, so that a series seen before costs a
// map lookup instead of label parsing, relabeling and validation. It also
// remembers which series were sent in the last scrape, which is what
// staleness needs. It belongs to one target's loop and is not safe for
// concurrent use.
//
// The entries live in one dense slice, indexed from the map, rather than
// one allocation each behind a pointer: with a million series per node the
// pointers, the allocations' rounding and a per-scrape list of the entries
// sent cost about 40 bytes per series. A *cacheEntry from get or add is
// valid until the next add.
//
// The map is keyed by the xxhash64 of the raw series and the entry keeps
// the raw series' length, rather than keying by the raw bytes: a copy of
// every raw series as a map key cost about 90 bytes per series (a million
// series per node). Two raw series of one target of different lengths
// with the same hash are told apart (the later one goes to the small
// overflow map, keyed by its bytes); two of the same length and the same
// 64-bit hash would share an entry, which for a target of n series
// happens with a probability of about n²/2⁶⁵ (3·10⁻¹⁴ for 1,000 series).
type seriesCache struct {
	index map[uint64]uint32 // hash of the raw series → entries index
	// overflow holds the raw series whose hash an entry of another
	// length already has: nil but for such a collision.
	overflow map[string]uint32
	// hash is xxhash.Sum64; tests make it collide.
	hash    func([]byte) uint64
	entries []cacheEntry
	free    []uint32 // indexes of forgotten entries, reused by add
	// iter counts scrape attempts; 0 means never. 32 bits last 136 years
	// at one scrape a second.
	iter uint32
	// comments are the hashes of the text-format comment lines textparse
	// accepted, with the last iteration they were seen in (see text.go).
	comments map[uint64]uint32
}

type cacheEntry struct {
	// lset is the series' final labels; empty when relabeling dropped it.
	lset labels.Labels
	// seen is the last iteration the raw series appeared in a body.
	seen uint32
	// sent is the last committed iteration a tracked sample of it was
	// sent in.
	sent uint32
	// tracked is the iteration in progress when a tracked sample of it
	// was sent: it becomes sent on commit.
	tracked uint32
	// rawLen is the length of the raw series, which tells apart two of
	// different lengths whose hashes collide.
	rawLen uint32
}

func newSeriesCache() *seriesCache {
	return &seriesCache{index: map[uint64]uint32{}, hash: xxhash.Sum64}
}

// begin starts a scrape attempt.
func (c *seriesCache) begin() {
	c.iter++
}

// get returns the entry of a raw series, or nil. It does not allocate.
func (c *seriesCache) get(raw []byte) *cacheEntry {
	if i, ok := c.index[c.hash(raw)]; ok && c.entries[i].rawLen == uint32(len(raw)) {
		return &c.entries[i]
	}
	if c.overflow != nil {
		if i, ok := c.overflow[string(raw)]; ok {
			return &c.entries[i]
		}
	}
	return nil
}

// add remembers a new raw series with its final labels (empty: dropped).
func (c *seriesCache) add(raw []byte, lset labels.Labels) *cacheEntry {
	var i uint32
	if n := len(c.free); n > 0 {
		i = c.free[n-1]
		c.free = c.free[:n-1]
		c.entries[i] = cacheEntry{lset: lset, rawLen: uint32(len(raw))}
	} else {
		i = uint32(len(c.entries))
		c.entries = append(c.entries, cacheEntry{lset: lset, rawLen: uint32(len(raw))})
	}
	h := c.hash(raw)
	if j, taken := c.index[h]; taken && c.entries[j].rawLen != uint32(len(raw)) {
		// Another series of another length has this hash (get found
		// neither).
		if c.overflow == nil {
			c.overflow = map[string]uint32{}
		}
		c.overflow[string(raw)] = i
	} else {
		c.index[h] = i
	}
	return &c.entries[i]
}

// track records that e was sent in this scrape and must get a staleness
// marker when it disappears.
func (c *seriesCache) track(e *cacheEntry) { e.tracked = c.iter }

// commit ends a successful scrape: every series sent in the previous scrape
// and not in this one is passed to stale, and series absent from this body
// are forgotten, so the cache holds exactly the current series.
func (c *seriesCache) commit(stale func(labels.Labels)) {
	for h, i := range c.index {
		if c.commitEntry(i, stale) {
			delete(c.index, h)
		}
	}
	for raw, i := range c.overflow {
		if c.commitEntry(i, stale) {
			delete(c.overflow, raw)
		}
	}
	if len(c.overflow) == 0 {
		c.overflow = nil
	}
	for h, seen := range c.comments {
		if seen != c.iter {
			delete(c.comments, h)
		}
	}
	c.shrink()
}

// commitEntry commits entry i and reports whether it was forgotten.
func (c *seriesCache) commitEntry(i uint32, stale func(labels.Labels)) bool {
	e := &c.entries[i]
	if e.tracked == c.iter {
		e.sent = c.iter
	} else if e.sent == c.iter-1 && c.iter > 1 {
		stale(e.lset)
	}
	if e.seen != c.iter {
		*e = cacheEntry{}
		c.free = append(c.free, i)
		return true
	}
	return false
}

// each calls f with the index of every cached series.
func (c *seriesCache) each(f func(i uint32)) {
	for _, i := range c.index {
		f(i)
	}
	for _, i := range c.overflow {
		f(i)
	}
}

// shrink gives back the entries slice when most of it is free (a target
// whose series count fell).
func (c *seriesCache) shrink() {
	if len(c.free) < 1024 || len(c.free) < len(c.entries)/2 {
		return
	}
	entries := make([]cacheEntry, 0, c.len())
	for h, i := range c.index {
		c.index[h] = uint32(len(entries))
		entries = append(entries, c.entries[i])
	}
	for raw, i := range c.overflow {
		c.overflow[raw] = uint32(len(entries))
		entries = append(entries, c.entries[i])
	}
	c.entries, c.free = entries, nil
}

// abort ends a failed scrape: nothing of it was sent, and every series sent
// in the previous scrape is passed to stale. The labels stay cached.
func (c *seriesCache) abort(stale func(labels.Labels)) {
	if c.iter <= 1 {
		return
	}
	c.each(func(i uint32) {
		if e := &c.entries[i]; e.sent == c.iter-1 {
			stale(e.lset)
		}
	})
}

// live passes every series sent in the last scrape, for end-of-run markers.
func (c *seriesCache) live(f func(labels.Labels)) {
	if c.iter == 0 {
		return
	}
	c.each(func(i uint32) {
		if e := &c.entries[i]; e.sent == c.iter {
			f(e.lset)
		}
	})
}

// sentHashes returns the label hashes of the series sent in the last
// scrape; it is used once after a reconfiguration.
func (c *seriesCache) sentHashes() map[uint64]struct{} {
	m := make(map[uint64]struct{}, c.len())
	c.each(func(i uint32) {
		if e := &c.entries[i]; e.sent == c.iter && c.iter > 0 {
			m[e.lset.Hash()] = struct{}{}
		}
	})
	return m
}

// len is the number of cached series.
func (c *seriesCache) len() int { return len(c.index) + len(c.overflow) }

// knownComment reports whether a comment line with hash h was accepted by
// textparse in this or the previous scrape, and marks it seen.
func (c *seriesCache) knownComment(h uint64) bool {
	if _, ok := c.comments[h]; !ok {
		return false
	}
	c.comments[h] = c.iter
	return true
}

// addComment remembers a comment line textparse accepted.
func (c *seriesCache) addComment(h uint64) {
	if c.comments == nil {
		c.comments = map[uint64]uint32{}
	}
	c.comments[h] = c.iter
}
