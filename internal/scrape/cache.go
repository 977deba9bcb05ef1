package scrape

import "github.com/prometheus/prometheus/model/labels"

// seriesCache maps a target's raw series bytes, as the parser returns them,
// to the final labels of the series, so that a series seen before costs a
// map lookup instead of label parsing, relabeling and validation. It also
// remembers which series were sent in the last scrape, which is what
// staleness needs. It belongs to one target's loop and is not safe for
// concurrent use.
type seriesCache struct {
	entries map[string]*cacheEntry
	// iter counts scrape attempts; 0 means never.
	iter uint64
	// cur are the entries sent in the scrape in progress whose staleness is
	// tracked (not those with their own timestamps, unless asked).
	cur []*cacheEntry
	// comments are the hashes of the text-format comment lines textparse
	// accepted, with the last iteration they were seen in (see text.go).
	comments map[uint64]uint64
}

type cacheEntry struct {
	// lset is the series' final labels; empty when relabeling dropped it.
	lset labels.Labels
	// seen is the last iteration the raw series appeared in a body.
	seen uint64
	// sent is the last iteration a tracked sample of it was sent.
	sent uint64
}

func newSeriesCache() *seriesCache {
	return &seriesCache{entries: map[string]*cacheEntry{}}
}

// begin starts a scrape attempt.
func (c *seriesCache) begin() {
	c.iter++
	c.cur = c.cur[:0]
}

// get returns the entry of a raw series, or nil. It does not allocate.
func (c *seriesCache) get(raw []byte) *cacheEntry { return c.entries[string(raw)] }

// add remembers a new raw series with its final labels (empty: dropped).
func (c *seriesCache) add(raw []byte, lset labels.Labels) *cacheEntry {
	e := &cacheEntry{lset: lset}
	c.entries[string(raw)] = e
	return e
}

// track records that e was sent in this scrape and must get a staleness
// marker when it disappears.
func (c *seriesCache) track(e *cacheEntry) { c.cur = append(c.cur, e) }

// commit ends a successful scrape: every series sent in the previous scrape
// and not in this one is passed to stale, and series absent from this body
// are forgotten, so the cache holds exactly the current series.
func (c *seriesCache) commit(stale func(labels.Labels)) {
	for _, e := range c.cur {
		e.sent = c.iter
	}
	for raw, e := range c.entries {
		if e.sent == c.iter-1 && c.iter > 1 {
			stale(e.lset)
		}
		if e.seen != c.iter {
			delete(c.entries, raw)
		}
	}
	for h, seen := range c.comments {
		if seen != c.iter {
			delete(c.comments, h)
		}
	}
	c.cur = c.cur[:0]
}

// abort ends a failed scrape: nothing of it was sent, and every series sent
// in the previous scrape is passed to stale. The labels stay cached.
func (c *seriesCache) abort(stale func(labels.Labels)) {
	c.cur = c.cur[:0]
	if c.iter <= 1 {
		return
	}
	for _, e := range c.entries {
		if e.sent == c.iter-1 {
			stale(e.lset)
		}
	}
}

// live passes every series sent in the last scrape, for end-of-run markers.
func (c *seriesCache) live(f func(labels.Labels)) {
	if c.iter == 0 {
		return
	}
	for _, e := range c.entries {
		if e.sent == c.iter {
			f(e.lset)
		}
	}
}

// sentHashes returns the label hashes of the series sent in the last
// scrape; it is used once after a reconfiguration.
func (c *seriesCache) sentHashes() map[uint64]struct{} {
	m := make(map[uint64]struct{}, len(c.entries))
	for _, e := range c.entries {
		if e.sent == c.iter && c.iter > 0 {
			m[e.lset.Hash()] = struct{}{}
		}
	}
	return m
}

// len is the number of cached series.
func (c *seriesCache) len() int { return len(c.entries) }

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
		c.comments = map[uint64]uint64{}
	}
	c.comments[h] = c.iter
}
