package relabel

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func TestCacheEvictsTheLeastRecentlyUsedEntryOfAFullShard(t *testing.T) {
	c := newCache(shards, 0) // one entry per shard
	a, b := labels.FromStrings("a", "1"), labels.FromStrings("b", "1")
	// Same hash, so the same shard: b evicts a.
	c.put(1, a, a, true, 0)
	c.put(1+shards, b, b, true, 0)
	if _, _, ok := c.get(1, a, 0); ok {
		t.Fatal("a survived although its shard was full")
	}
	if _, _, ok := c.get(1+shards, b, 0); !ok {
		t.Fatal("b was not cached")
	}
	if n := c.len(); n != 1 {
		t.Fatalf("len = %d, want 1", n)
	}
}

func TestCacheNeverReturnsTheResultOfAnotherLabelSetWithTheSameHash(t *testing.T) {
	c := newCache(100, 0)
	a, b := labels.FromStrings("a", "1"), labels.FromStrings("b", "1")
	c.put(7, a, labels.FromStrings("x", "y"), true, 0)
	if _, _, ok := c.get(7, b, 0); ok {
		t.Fatal("a hash collision returned another label set's result")
	}
}

func TestCacheEntriesExpireAfterTheTTLUnused(t *testing.T) {
	c := newCache(0, 100)
	a := labels.FromStrings("a", "1")
	c.put(1, a, a, true, 0)
	if _, _, ok := c.get(1, a, 50); !ok {
		t.Fatal("entry expired early")
	}
	// Used at 50, so alive until 150.
	if _, _, ok := c.get(1, a, 140); !ok {
		t.Fatal("a use did not extend the entry's life")
	}
	c.put(2, labels.FromStrings("b", "1"), a, true, 140)
	c.sweep(260)
	if n := c.len(); n != 0 {
		t.Fatalf("len after sweep = %d, want 0", n)
	}
}
