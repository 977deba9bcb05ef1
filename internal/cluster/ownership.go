package cluster

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Ownership is rendezvous (highest-random-weight) hashing: a target key k
// belongs to the eligible node with the highest score(k, node), ties going
// to the smaller name. Adding a node moves only the keys the newcomer wins;
// removing one moves only its own keys, each to its runner-up.
//
// The score is frozen, because every node of a fleet, across versions,
// must compute the same owner:
//
//	score(k, node) = mix64(k XOR xxhash64(node name))
//
// where mix64 is MurmurHash3's 64-bit finaliser. DESIGN.md first proposed
// xxhash64(k as 8 bytes LE ‖ name); that is one full xxhash per (key, node)
// and cannot recompute 100k targets over 100 nodes in 50 ms. Hashing each
// name once and mixing it with the key keeps what rendezvous needs (a
// score that looks independent per node and per key) at a few cycles per
// pair. docs/clustering.md has the measurements.

const (
	minTime = math.MinInt64
	maxTime = math.MaxInt64
)

// mix64 is MurmurHash3's fmix64: a bijection in which every input bit
// affects every output bit.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// nameHash is the per-node half of the score.
func nameHash(name string) uint64 { return xxhash.Sum64String(name) }

// score is the rendezvous weight of key for the node whose name hashes to h.
func score(key, h uint64) uint64 { return mix64(key ^ h) }

// epoch is a stretch of tick time during which the eligible set is fixed.
type epoch struct {
	start  int64    // first tick of the epoch; the first epoch starts at minTime
	names  []string // eligible nodes, sorted
	hashes []uint64 // nameHash of each, same order
	self   int      // index of this node in names, -1 if it is not eligible
	// place is the placement plan governing the epoch (placement.go),
	// nil for plain rendezvous hashing.
	place *placement
}

// owner returns the index of key's owner in e.names, or -1 if no node is
// eligible.
func (e *epoch) owner(key uint64) int {
	if len(e.hashes) == 0 {
		return -1
	}
	if e.place != nil {
		return e.place.owner(e.hashes, key)
	}
	return ownerIndex(e.hashes, key)
}

// ownerName returns the name of key's owner, or "".
func (e *epoch) ownerName(key uint64) string {
	if i := e.owner(key); i >= 0 {
		return e.names[i]
	}
	return ""
}

func (e *epoch) has(name string) bool {
	_, ok := slices.BinarySearch(e.names, name)
	return ok
}

// view is an immutable picture of who is eligible when, as computed from
// the records of the live nodes. Owns reads it through an atomic pointer,
// so the hot path takes no lock.
type view struct {
	self   string
	epochs []epoch // sorted by start; epochs[0].start == minTime
}

// candidate is a live node with the interval in which it is eligible,
// and the interval in which it is eligible when no other node is
// (fbFrom == fbUntil when none).
type candidate struct {
	name            string
	from, until     int64
	fbFrom, fbUntil int64
}

// buildView computes the eligibility epochs: the sorted times at which a
// node becomes or stops being eligible split tick time into epochs, each
// with its own eligible set.
func buildView(self string, cands []candidate, plans ...*plan) *view {
	sort.Slice(cands, func(i, j int) bool { return cands[i].name < cands[j].name })
	hashes := make([]uint64, len(cands))
	var bounds []int64
	for i, c := range cands {
		hashes[i] = nameHash(c.name)
		if c.from != minTime && c.from != maxTime {
			bounds = append(bounds, c.from)
		}
		if c.until != maxTime {
			bounds = append(bounds, c.until)
		}
		if c.fbFrom < c.fbUntil {
			bounds = append(bounds, c.fbFrom, c.fbUntil)
		}
	}
	for _, p := range plans {
		bounds = append(bounds, p.at)
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	starts := append([]int64{minTime}, bounds...)
	v := &view{self: self, epochs: make([]epoch, 0, len(starts))}
	for _, s := range starts {
		e := epoch{start: s, self: -1}
		add := func(i int) {
			if cands[i].name == self {
				e.self = len(e.names)
			}
			e.names = append(e.names, cands[i].name)
			e.hashes = append(e.hashes, hashes[i])
		}
		for i, c := range cands {
			if c.from <= s && s < c.until {
				add(i)
			}
		}
		if len(e.names) == 0 {
			for i, c := range cands {
				if c.fbFrom <= s && s < c.fbUntil {
					add(i)
				}
			}
		}
		if p := governing(plans, s); p != nil {
			e.place = newPlacement(p, e.names)
		}
		v.epochs = append(v.epochs, e)
	}
	return v
}

// governing returns the newest plan with at ≤ t, nil for none.
func governing(plans []*plan, t int64) *plan {
	var out *plan
	for _, p := range plans {
		if p.at <= t && p.newer(out) {
			out = p
		}
	}
	return out
}

// planOf is the plan governing the epoch, nil for none.
func (e *epoch) planOf() *plan {
	if e.place == nil {
		return nil
	}
	return e.place.plan
}

// index returns the index of the epoch containing tick t.
func (v *view) index(t int64) int {
	// The first epoch starts at minTime, so the result is at least 0.
	return sort.Search(len(v.epochs), func(i int) bool { return v.epochs[i].start > t }) - 1
}

func (v *view) at(t int64) *epoch { return &v.epochs[v.index(t)] }

// nextBoundary returns the start of the first epoch after t, or maxTime.
func (v *view) nextBoundary(t int64) int64 {
	if i := v.index(t) + 1; i < len(v.epochs) {
		return v.epochs[i].start
	}
	return maxTime
}

// losesAt reports whether this node may own fewer keys in epoch i than in
// epoch i-1: it stops being eligible, or a node it did not compete with
// becomes eligible.
func (v *view) losesAt(i int) bool {
	if i <= 0 || i >= len(v.epochs) {
		return false
	}
	prev, cur := &v.epochs[i-1], &v.epochs[i]
	if prev.self < 0 {
		return false
	}
	if cur.self < 0 || prev.planOf() != cur.planOf() {
		return true
	}
	for _, n := range cur.names {
		if !prev.has(n) {
			return true
		}
	}
	return false
}

// Ownership is the owner of every known target key of one component, for
// the epoch containing the moment it was computed. It is immutable.
type Ownership struct {
	// Start is the first tick of the epoch it describes.
	Start  int64
	names  []string
	keys   []uint64 // sorted
	owners []int32  // index into names, -1 when no node is eligible
	counts []int
}

// computeOwnership assigns each key (sorted) to its owner in e. The keys
// are split among GOMAXPROCS workers; the inner loop scores four nodes at
// a time so that their multiplications overlap.
func computeOwnership(e *epoch, keys []uint64) *Ownership {
	o := &Ownership{
		Start:  e.start,
		names:  e.names,
		keys:   keys,
		owners: make([]int32, len(keys)),
		counts: make([]int, len(e.names)),
	}
	if len(e.hashes) == 0 {
		for i := range o.owners {
			o.owners[i] = -1
		}
		return o
	}
	workers := 1
	if len(keys)*len(e.hashes) >= 1<<20 {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	chunk := (len(keys) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(keys))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.place != nil {
				for i, k := range keys[lo:hi] {
					o.owners[lo+i] = int32(e.place.owner(e.hashes, k))
				}
				return
			}
			assignOwners(e.hashes, keys[lo:hi], o.owners[lo:hi])
		}()
	}
	wg.Wait()
	for _, ow := range o.owners {
		o.counts[ow]++
	}
	return o
}

// assignOwners writes the index of each key's owner among hs.
func assignOwners(hs []uint64, keys []uint64, owners []int32) {
	for i, k := range keys {
		owners[i] = int32(ownerIndex(hs, k))
	}
}

// ownerIndex returns the index of the highest score(key, hs[i]); ties go
// to the smaller index, the smaller name. hs must not be empty. It scores
// four nodes at a time so that their multiplications overlap.
func ownerIndex(hs []uint64, k uint64) int {
	n := len(hs)
	best, bestScore := 0, mix64(k^hs[0])
	j := 1
	for ; j+4 <= n; j += 4 {
		s0, s1, s2, s3 := mix64(k^hs[j]), mix64(k^hs[j+1]), mix64(k^hs[j+2]), mix64(k^hs[j+3])
		if s0 > bestScore {
			best, bestScore = j, s0
		}
		if s1 > bestScore {
			best, bestScore = j+1, s1
		}
		if s2 > bestScore {
			best, bestScore = j+2, s2
		}
		if s3 > bestScore {
			best, bestScore = j+3, s3
		}
	}
	for ; j < n; j++ {
		if s := mix64(k ^ hs[j]); s > bestScore {
			best, bestScore = j, s
		}
	}
	return best
}

// Len is the number of keys.
func (o *Ownership) Len() int {
	if o == nil {
		return 0
	}
	return len(o.keys)
}

// Owner names the owner of key, or "" if the key is unknown or no node is
// eligible.
func (o *Ownership) Owner(key uint64) string {
	if o == nil {
		return ""
	}
	i, ok := slices.BinarySearch(o.keys, key)
	if !ok || o.owners[i] < 0 {
		return ""
	}
	return o.names[o.owners[i]]
}

// Counts returns the number of keys each eligible node owns.
func (o *Ownership) Counts() map[string]int {
	m := make(map[string]int)
	if o == nil {
		return m
	}
	for i, n := range o.names {
		m[n] = o.counts[i]
	}
	return m
}

// Count returns the number of keys owned by name.
func (o *Ownership) Count(name string) int {
	if o == nil {
		return 0
	}
	if i, ok := slices.BinarySearch(o.names, name); ok {
		return o.counts[i]
	}
	return 0
}

// Map returns a fresh map from key to owner name, for pages such as
// /targets.
func (o *Ownership) Map() map[uint64]string {
	m := make(map[uint64]string, o.Len())
	if o == nil {
		return m
	}
	for i, k := range o.keys {
		if o.owners[i] >= 0 {
			m[k] = o.names[o.owners[i]]
		}
	}
	return m
}
