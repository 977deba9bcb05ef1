package relabel

import (
	"sync"

	"github.com/prometheus/prometheus/model/labels"
)

// shards splits the cache so that concurrent scrapes rarely wait on the
// same lock.
const shards = 16

// cache remembers the result of relabelling a label set, keyed by the
// labels' hash. Entries keep their input labels so that two label sets
// sharing a hash never get each other's result. It is bounded by size
// (least recently used entries go first), by idle time, or both.
type cache struct {
	perShard int   // max entries per shard; 0 = unbounded
	ttl      int64 // ns an entry may stay unused; 0 = forever
	shards   [shards]cacheShard
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[uint64]*entry
	// head is the sentinel of a ring ordered by use: head.next is the most
	// recently used entry, head.prev the least.
	head entry
}

type entry struct {
	hash       uint64
	in, out    labels.Labels
	keep       bool
	used       int64 // unix ns of the last use
	prev, next *entry
}

func newCache(maxSize int, ttlNanos int64) *cache {
	c := &cache{ttl: ttlNanos}
	if maxSize > 0 {
		c.perShard = (maxSize + shards - 1) / shards
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.entries = make(map[uint64]*entry)
		s.head.next, s.head.prev = &s.head, &s.head
	}
	return c
}

func (c *cache) shard(h uint64) *cacheShard { return &c.shards[h%shards] }

// get returns the cached result for ls, whose hash is h, at time now.
func (c *cache) get(h uint64, ls labels.Labels, now int64) (out labels.Labels, keep, ok bool) {
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[h]
	if e == nil || !labels.Equal(e.in, ls) {
		return labels.EmptyLabels(), false, false
	}
	if c.ttl > 0 && now-e.used > c.ttl {
		s.remove(e)
		return labels.EmptyLabels(), false, false
	}
	e.used = now
	s.unlink(e)
	s.pushFront(e)
	return e.out, e.keep, true
}

// put stores a result, evicting the least recently used entry of the
// shard when it is full.
func (c *cache) put(h uint64, in, out labels.Labels, keep bool, now int64) {
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[h]; e != nil {
		e.in, e.out, e.keep, e.used = in, out, keep, now
		s.unlink(e)
		s.pushFront(e)
		return
	}
	if c.perShard > 0 && len(s.entries) >= c.perShard {
		s.remove(s.head.prev)
	}
	e := &entry{hash: h, in: in, out: out, keep: keep, used: now}
	s.entries[h] = e
	s.pushFront(e)
}

// sweep drops the entries unused for longer than the TTL.
func (c *cache) sweep(now int64) {
	if c.ttl <= 0 {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for e := s.head.prev; e != &s.head && now-e.used > c.ttl; e = s.head.prev {
			s.remove(e)
		}
		s.mu.Unlock()
	}
}

// len is the number of entries.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

func (s *cacheShard) pushFront(e *entry) {
	e.prev, e.next = &s.head, s.head.next
	s.head.next.prev = e
	s.head.next = e
}

func (s *cacheShard) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (s *cacheShard) remove(e *entry) {
	s.unlink(e)
	delete(s.entries, e.hash)
}
