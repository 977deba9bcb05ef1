package scrape

import (
	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// seriesCache maps a target's raw series bytes, as the parser returns them,
// to the final labels of the series, so that a series seen before costs a
// table lookup instead of label parsing, relabeling and validation. It also
// remembers which series were sent in the last scrape, which is what
// staleness needs. It belongs to one target's loop and is not safe for
// concurrent use.
//
// Memory per series matters here (a million series per node): the entries
// live in one dense slice rather than one allocation each behind a
// pointer, and they are found through an open-addressing table of 32-bit
// entry indexes (linear probing, at most 3/4 full) keyed by the xxhash64
// of the raw series, which the entry keeps with the raw series' length,
// rather than through a Go map keyed by a copy of the raw bytes. That is
// the final labels plus 48 to 56 bytes per series, where the map of raw
// series cost about 150. A *cacheEntry from get or add is valid until the
// next add.
//
// Two raw series of different lengths whose hashes collide are told apart;
// two of the same length and the same 64-bit hash would share an entry,
// which for a target of n series happens with a probability of about
// n²/2⁶⁵ (3·10⁻¹⁴ for 1,000 series).
type seriesCache struct {
	// slots holds 1 + an entries index, 0 when empty; its length is 0 or
	// a power of two.
	slots   []uint32
	entries []cacheEntry
	free    []uint32 // indexes of forgotten entries, reused by add
	n       int      // live entries
	// hash is xxhash.Sum64; tests make it collide.
	hash func([]byte) uint64
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
	// hash is the raw series' hash.
	hash uint64
	// seen is the last iteration the raw series appeared in a body.
	seen uint32
	// sent is the last committed iteration a tracked sample of it was
	// sent in.
	sent uint32
	// tracked is the iteration in progress when a tracked sample of it
	// was sent: it becomes sent on commit.
	tracked uint32
	// rawLen is 1 + the length of the raw series, which tells apart two
	// series whose hashes collide; 0 marks a forgotten entry.
	rawLen uint32
}

func newSeriesCache() *seriesCache {
	return &seriesCache{hash: xxhash.Sum64}
}

// begin starts a scrape attempt.
func (c *seriesCache) begin() {
	c.iter++
}

// get returns the entry of a raw series, or nil. It does not allocate.
func (c *seriesCache) get(raw []byte) *cacheEntry {
	if len(c.slots) == 0 {
		return nil
	}
	h, want := c.hash(raw), uint32(len(raw))+1
	mask := uint64(len(c.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := c.slots[i]
		if s == 0 {
			return nil
		}
		if e := &c.entries[s-1]; e.hash == h && e.rawLen == want {
			return e
		}
	}
}

// add remembers a new raw series with its final labels (empty: dropped).
// The caller has found no entry for it with get.
func (c *seriesCache) add(raw []byte, lset labels.Labels) *cacheEntry {
	e := cacheEntry{lset: lset, hash: c.hash(raw), rawLen: uint32(len(raw)) + 1}
	var i uint32
	if n := len(c.free); n > 0 {
		i = c.free[n-1]
		c.free = c.free[:n-1]
		c.entries[i] = e
	} else {
		i = uint32(len(c.entries))
		c.entries = append(c.entries, e)
	}
	c.n++
	if c.n*4 > len(c.slots)*3 {
		c.rebuild() // inserts i with the others
	} else {
		c.insert(i)
	}
	return &c.entries[i]
}

// insert puts entry i in the table, which has a free slot.
func (c *seriesCache) insert(i uint32) {
	mask := uint64(len(c.slots) - 1)
	j := c.entries[i].hash & mask
	for c.slots[j] != 0 {
		j = (j + 1) & mask
	}
	c.slots[j] = i + 1
}

// rebuild sizes the table for the live entries (at most 3/4 full, at least
// 16 slots) and fills it again.
func (c *seriesCache) rebuild() {
	size := 16
	for c.n*4 > size*3 {
		size *= 2
	}
	if size == len(c.slots) {
		clear(c.slots)
	} else {
		c.slots = make([]uint32, size)
	}
	for i := range c.entries {
		if c.entries[i].rawLen != 0 {
			c.insert(uint32(i))
		}
	}
}

// track records that e was sent in this scrape and must get a staleness
// marker when it disappears.
func (c *seriesCache) track(e *cacheEntry) { e.tracked = c.iter }

// commit ends a successful scrape: every series sent in the previous scrape
// and not in this one is passed to stale, and series absent from this body
// are forgotten, so the cache holds exactly the current series.
func (c *seriesCache) commit(stale func(labels.Labels)) {
	forgot := false
	for i := range c.entries {
		e := &c.entries[i]
		if e.rawLen == 0 {
			continue
		}
		if e.tracked == c.iter {
			e.sent = c.iter
		} else if e.sent == c.iter-1 && c.iter > 1 {
			stale(e.lset)
		}
		if e.seen != c.iter {
			*e = cacheEntry{}
			c.free = append(c.free, uint32(i))
			c.n--
			forgot = true
		}
	}
	for h, seen := range c.comments {
		if seen != c.iter {
			delete(c.comments, h)
		}
	}
	if forgot {
		// Linear probing cannot simply empty a slot: the table is
		// filled again without the forgotten entries.
		c.shrink()
		c.rebuild()
	}
}

// shrink gives back the entries slice when most of it is free (a target
// whose series count fell).
func (c *seriesCache) shrink() {
	if len(c.free) < 1024 || len(c.free) < len(c.entries)/2 {
		return
	}
	entries := make([]cacheEntry, 0, c.n)
	for _, e := range c.entries {
		if e.rawLen != 0 {
			entries = append(entries, e)
		}
	}
	c.entries, c.free = entries, nil
}

// each calls f with every cached series.
func (c *seriesCache) each(f func(e *cacheEntry)) {
	for i := range c.entries {
		if e := &c.entries[i]; e.rawLen != 0 {
			f(e)
		}
	}
}

// abort ends a failed scrape: nothing of it was sent, and every series sent
// in the previous scrape is passed to stale. The labels stay cached.
func (c *seriesCache) abort(stale func(labels.Labels)) {
	if c.iter <= 1 {
		return
	}
	c.each(func(e *cacheEntry) {
		if e.sent == c.iter-1 {
			stale(e.lset)
		}
	})
}

// live passes every series sent in the last scrape, for end-of-run markers.
func (c *seriesCache) live(f func(labels.Labels)) {
	if c.iter == 0 {
		return
	}
	c.each(func(e *cacheEntry) {
		if e.sent == c.iter {
			f(e.lset)
		}
	})
}

// sentHashes returns the label hashes of the series sent in the last
// scrape; it is used once after a reconfiguration.
func (c *seriesCache) sentHashes() map[uint64]struct{} {
	m := make(map[uint64]struct{}, c.n)
	c.each(func(e *cacheEntry) {
		if e.sent == c.iter && c.iter > 0 {
			m[e.lset.Hash()] = struct{}{}
		}
	})
	return m
}

// len is the number of cached series.
func (c *seriesCache) len() int { return c.n }

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
