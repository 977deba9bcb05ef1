package cluster

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"
)

// Placement by load (--cluster.placement=series, shoal's own). Targets
// differ by orders of magnitude in series, so an even split of targets is
// an uneven split of work. With it on:
//
//   - every node measures the series of each target it scrapes and
//     gossips a load report: its heaviest targets by key (at most
//     reportTop) and the count and sum of the rest;
//   - one node, the planner (the eligible reporter with the smallest
//     name), turns the reports into a plan: the heavy targets pinned to
//     nodes, and a weight per node for all the other targets;
//   - a plan takes effect at a tick time At, like any handoff: the view
//     splits its epochs at At, so the same exact handoff (flush, watermark,
//     hold) moves the targets, and every node computes the same owner from
//     the same plan.
//
// The owner of key k in an epoch with a plan is the node the plan pins k
// to, when that node is eligible; otherwise the weighted rendezvous
// winner among the eligible nodes: the node with the highest
// w / -log2(u), where u is the unweighted score mapped to (0,1]. That is
// rendezvous hashing with weights (Schindelhauer and Schomaker): node i
// wins a share w_i / Σw of the keys, and a change of one weight or one
// node moves only the keys that change hands. -log2 is computed in fixed
// point with integer arithmetic only, so every architecture computes the
// same owner (floating point may fuse multiply-adds differently).
//
// Hysteresis: a report changes only when a heavy target's series move by
// more than reportSlack, a plan only when the predicted largest node
// exceeds the mean by replanAbove or the eligible set changed, no sooner
// than PlanInterval after the previous one, and only if it improves the
// balance by improveBy; a weight that would change by less than
// weightSlack keeps its old value. Heavy targets stay where they are when
// they fit (see makePlan).

const (
	// reportTop is how many targets a load report names.
	reportTop = 64
	// heavyFactor: a target is heavy, and may be pinned, when its series
	// are at least heavyFactor times the mean of the unnamed targets.
	heavyFactor = 4
	// weightOne is the fixed-point unit of a weight.
	weightOne = 1 << 20
	// log2Frac is the number of fractional bits of the fixed-point -log2.
	log2Frac = 24
	// replanAbove, improveBy, balanceTol and weightSlack are fractions of
	// the mean load; see makePlan.
	replanAbove = 0.07
	improveBy   = 0.01
	balanceTol  = 0.04
	weightSlack = 0.02
	// reportSlack is the relative change in a named target's series that
	// makes a node send a new report.
	reportSlack = 0.1
	// maxPlanPins bounds the pins of one plan (and so its size).
	maxPlanPins = 8192
)

// loadEntry is a target's measured series.
type loadEntry struct {
	key  uint64
	load uint32
}

// loadReport is one node's measured load.
type loadReport struct {
	node    string
	version int64       // the node's clock in ms when it was made; newer wins
	top     []loadEntry // the heaviest targets, sorted by key
	count   uint32      // the other targets
	sum     uint64      // and their series
}

// pin places one heavy target on a node.
type pin struct {
	key  uint64
	node uint16 // index into plan.names
	load uint32
}

// plan is an agreed placement. Plans are ordered by (at, version,
// planner): for a tick t the governing plan is the greatest with at ≤ t.
type plan struct {
	planner string
	version int64 // the planner's clock when it was made
	at      int64 // the first tick it governs
	names   []string
	weights []uint32 // fixed point, weightOne = 1, same order as names
	pins    []pin    // sorted by key
}

// newer reports whether p governs over q where both apply.
func (p *plan) newer(q *plan) bool {
	if q == nil {
		return true
	}
	if p.at != q.at {
		return p.at > q.at
	}
	if p.version != q.version {
		return p.version > q.version
	}
	return p.planner > q.planner
}

// weightOf returns the plan's weight for name. A node the plan does not
// know (one that joined since) gets the least weight, 1: it takes almost
// no targets until the planner, which replans at once when the eligible
// set changes, gives it heavy targets and a weight. Taking a plain share
// of the light targets first would move most of them twice.
func (p *plan) weightOf(name string) uint32 {
	if i, ok := slices.BinarySearch(p.names, name); ok {
		return p.weights[i]
	}
	return 1
}

// neglog2 is -log2(u) in fixed point with log2Frac fractional bits, where
// u = x/2^64 ∈ (0, 1); it is at least 1. Integer arithmetic only: the
// fraction of log2 of the mantissa comes from a table of 4097 values
// (log2Table, made at start by repeated squaring, exactly alike on every
// machine) and linear interpolation between them, within 2^-25 of the
// true value.
func neglog2(x uint64) uint64 {
	x |= 1
	msb := 63 - bits.LeadingZeros64(x)
	m := x << (63 - msb) // mantissa in [1, 2), Q63
	i := (m >> (63 - log2TableBits)) & (1<<log2TableBits - 1)
	r := (m >> (63 - log2TableBits - 20)) & (1<<20 - 1)
	lo, hi := log2Table[i], log2Table[i+1]
	frac := lo + ((hi-lo)*r)>>20
	l := uint64(msb)<<log2Frac | frac
	return max(1, uint64(64)<<log2Frac-l)
}

const log2TableBits = 12

// log2Table[i] is log2(1 + i/4096) in fixed point, for i in [0, 4096].
var log2Table = func() (t [1<<log2TableBits + 1]uint64) {
	for i := range t {
		t[i] = log2FracSquaring(uint64(1)<<63 | uint64(i)<<(63-log2TableBits))
	}
	t[1<<log2TableBits] = 1 << log2Frac // log2(2)
	return t
}()

// log2FracSquaring is log2(m/2^63) for a mantissa m in [2^63, 2^64), in
// fixed point with log2Frac fractional bits, by repeated squaring.
func log2FracSquaring(m uint64) uint64 {
	var frac uint64
	for range log2Frac {
		hi, lo := bits.Mul64(m, m) // m² in Q126
		frac <<= 1
		if hi >= 1<<63 {
			frac |= 1
			m = hi // m²/2 in Q63
		} else {
			m = hi<<1 | lo>>63
		}
	}
	return frac
}

// weightedOwnerIndex returns the index of the highest w_i / -log2(u_i),
// ties to the smaller index. ws[i] ≤ 2^32 and -log2 < 2^31, so the cross
// products fit in 64 bits.
func weightedOwnerIndex(hs []uint64, ws []uint64, k uint64) int {
	best := 0
	bw, bn := ws[0], neglog2(mix64(k^hs[0]))
	for j := 1; j < len(hs); j++ {
		n := neglog2(mix64(k ^ hs[j]))
		if ws[j]*bn > bw*n {
			best, bw, bn = j, ws[j], n
		}
	}
	return best
}

// placement is a plan applied to one epoch's eligible set.
type placement struct {
	plan    *plan
	weights []uint64         // same order as the epoch's names
	pinned  map[uint64]int32 // key → index in the epoch's names
}

func newPlacement(p *plan, names []string) *placement {
	pl := &placement{plan: p, weights: make([]uint64, len(names)), pinned: make(map[uint64]int32, len(p.pins))}
	idx := make([]int32, len(p.names))
	for i, n := range p.names {
		idx[i] = -1
		if j, ok := slices.BinarySearch(names, n); ok {
			idx[i] = int32(j)
		}
	}
	for i, n := range names {
		pl.weights[i] = uint64(p.weightOf(n))
	}
	for _, pn := range p.pins {
		if int(pn.node) < len(idx) && idx[pn.node] >= 0 {
			pl.pinned[pn.key] = idx[pn.node]
		}
	}
	return pl
}

// owner returns the index of key's owner among hs, per the placement.
func (pl *placement) owner(hs []uint64, key uint64) int {
	if i, ok := pl.pinned[key]; ok {
		return int(i)
	}
	return weightedOwnerIndex(hs, pl.weights, key)
}

// planInput is what the planner knows.
type planInput struct {
	planner  string
	version  int64
	at       int64
	eligible []string // sorted
	reports  []*loadReport
	prev     *plan // the plan governing now, nil for none
}

// loads merges reports: the named targets (a key named twice, as by a
// giver and a taker around a handoff, counts once, at its larger load),
// the heavy ones among them, and the total and count of all others.
func mergeReports(reports []*loadReport) (heavy []loadEntry, lightSum, lightCount uint64) {
	named := map[uint64]uint32{}
	var restSum, restCount uint64
	for _, r := range reports {
		for _, e := range r.top {
			named[e.key] = max(named[e.key], e.load)
		}
		restSum += r.sum
		restCount += uint64(r.count)
	}
	mean := uint64(1)
	if restCount > 0 {
		mean = max(1, (restSum+restCount/2)/restCount)
	}
	lightSum, lightCount = restSum, restCount
	for k, l := range named {
		if uint64(l) >= heavyFactor*mean {
			heavy = append(heavy, loadEntry{k, l})
		} else {
			lightSum += uint64(l)
			lightCount++
		}
	}
	slices.SortFunc(heavy, func(a, b loadEntry) int {
		if a.load != b.load {
			return cmp.Compare(b.load, a.load)
		}
		return cmp.Compare(a.key, b.key)
	})
	if len(heavy) > maxPlanPins {
		for _, e := range heavy[maxPlanPins:] {
			lightSum += uint64(e.load)
			lightCount++
		}
		heavy = heavy[:maxPlanPins]
	}
	return heavy, lightSum, lightCount
}

// predict returns the expected load of each eligible node under p (nil:
// unweighted): the heavy targets where p puts them, and the light series
// split by weight.
func predict(p *plan, eligible []string, heavy []loadEntry, lightSum uint64) []float64 {
	hs := make([]uint64, len(eligible))
	for i, n := range eligible {
		hs[i] = nameHash(n)
	}
	out := make([]float64, len(eligible))
	if len(eligible) == 0 {
		return out
	}
	var pl *placement
	if p != nil {
		pl = newPlacement(p, eligible)
	}
	for _, h := range heavy {
		var o int
		if pl != nil {
			o = pl.owner(hs, h.key)
		} else {
			o = ownerIndex(hs, h.key)
		}
		out[o] += float64(h.load)
	}
	var sw float64
	ws := make([]float64, len(eligible))
	for i, n := range eligible {
		ws[i] = 1
		if p != nil {
			ws[i] = float64(p.weightOf(n))
		}
		sw += ws[i]
	}
	for i := range out {
		out[i] += float64(lightSum) * ws[i] / sw
	}
	return out
}

// imbalance is the largest load over the mean (1 when there is no load).
func imbalance(loads []float64) float64 {
	var s, m float64
	for _, l := range loads {
		s += l
		m = max(m, l)
	}
	if s == 0 {
		return 1
	}
	return m / (s / float64(len(loads)))
}

// makePlan returns a new plan, or nil when the current one should stay:
// the balance it predicts is within replanAbove and the eligible set is
// the one it was made for, or the new plan would not be better by
// improveBy.
//
// The plan moves as few targets as it can. The light targets keep their
// current split (the current weights, a newcomer taking the mean weight),
// and the heavy targets, in decreasing load, each stay on their current
// owner while that node's deficit (the mean load minus what it has) is at
// least half the target's load, and otherwise go to the node with the
// largest deficit. What remains (at most about half a heavy target per
// node) beyond balanceTol of the mean is then evened out by the weights,
// which moves light targets, about one per unit of series moved.
func makePlan(in planInput) *plan {
	n := len(in.eligible)
	if n == 0 {
		return nil
	}
	heavy, lightSum, _ := mergeReports(in.reports)
	var total float64 = float64(lightSum)
	for _, h := range heavy {
		total += float64(h.load)
	}
	if total == 0 {
		return nil
	}
	cur := imbalance(predict(in.prev, in.eligible, heavy, lightSum))
	sameSet := in.prev != nil && slices.Equal(in.prev.names, in.eligible)
	if sameSet && cur <= 1+replanAbove {
		return nil
	}
	if in.prev == nil && cur <= 1+replanAbove {
		return nil
	}
	mean := total / float64(n)
	hs := make([]uint64, n)
	for i, name := range in.eligible {
		hs[i] = nameHash(name)
	}
	var pl *placement
	if in.prev != nil {
		pl = newPlacement(in.prev, in.eligible)
	}
	// The light split as it is.
	ws := make([]float64, n)
	var sw float64
	for i, name := range in.eligible {
		ws[i] = 1
		if in.prev != nil {
			ws[i] = float64(in.prev.weightOf(name))
		}
		sw += ws[i]
	}
	light := make([]float64, n)
	deficit := make([]float64, n)
	for i := range light {
		light[i] = float64(lightSum) * ws[i] / sw
		deficit[i] = mean - light[i]
	}
	p := &plan{planner: in.planner, version: in.version, at: in.at, names: slices.Clone(in.eligible)}
	for _, h := range heavy {
		var o int
		if pl != nil {
			o = pl.owner(hs, h.key)
		} else {
			o = ownerIndex(hs, h.key)
		}
		// A target pinned to a node that is leaving must move anyway:
		// it goes where it fits best.
		free := false
		if in.prev != nil {
			if i, ok := slices.BinarySearchFunc(in.prev.pins, h.key, func(p pin, k uint64) int { return cmp.Compare(p.key, k) }); ok {
				free = !slices.Contains(in.eligible, in.prev.names[in.prev.pins[i].node])
			}
		}
		if free || deficit[o] < float64(h.load)/2 {
			for j := range deficit {
				if deficit[j] > deficit[o] {
					o = j
				}
			}
		}
		deficit[o] -= float64(h.load)
		p.pins = append(p.pins, pin{key: h.key, node: uint16(o), load: h.load})
	}
	tol := balanceTol * mean
	refinePins(p.pins, heavy, deficit, tol)
	slices.SortFunc(p.pins, func(a, b pin) int { return cmp.Compare(a.key, b.key) })
	// Even out the rest with the weights, only beyond the tolerance.
	floor := max(1, float64(lightSum)*0.001)
	target := make([]float64, n)
	var st float64
	for i := range target {
		r := deficit[i]
		switch {
		case r > tol:
			r -= tol
		case r < -tol:
			r += tol
		default:
			r = 0
		}
		target[i] = max(floor, light[i]+r)
		st += target[i]
	}
	p.weights = make([]uint32, n)
	for i, name := range in.eligible {
		w := target[i] / st * float64(n) * weightOne
		if in.prev != nil {
			if old := float64(in.prev.weightOf(name)); old > 0 && abs(w-old)/old < weightSlack {
				w = old
			}
		}
		p.weights[i] = uint32(min(max(1, w+0.5), 1<<31))
	}
	next := imbalance(predict(p, in.eligible, heavy, lightSum))
	if sameSet && next > cur-improveBy {
		return nil
	}
	return p
}

// refinePins moves heavy targets from nodes over the tolerance to the
// node furthest under it while that saves moves: moving a heavy target is
// one move, and the weights even out what remains beyond the tolerance by
// moving about one light target per unit of series (light targets carry
// about one unit each, relative to the heavy ones). It changes pins and
// deficit in place.
func refinePins(pins []pin, heavy []loadEntry, deficit []float64, tol float64) {
	if len(deficit) < 2 || len(pins) == 0 {
		return
	}
	var light float64 = 1
	excess := func(r float64) float64 { return max(0, abs(r)-tol) }
	for range min(len(pins), 256) {
		j := 0
		for k := range deficit {
			if deficit[k] > deficit[j] {
				j = k
			}
		}
		best, bestGain := -1, 0.0
		for x, pn := range pins {
			i := int(pn.node)
			if i == j || deficit[i] >= 0 {
				continue
			}
			l := float64(pn.load)
			before := excess(deficit[i]) + excess(deficit[j])
			after := excess(deficit[i]+l) + excess(deficit[j]-l)
			// Series no longer evened out by light targets, in moves,
			// less the one move of the heavy target.
			if gain := (before-after)/2/light - 1; gain > bestGain {
				best, bestGain = x, gain
			}
		}
		if best < 0 {
			return
		}
		pn := &pins[best]
		deficit[pn.node] += float64(pn.load)
		deficit[j] -= float64(pn.load)
		pn.node = uint16(j)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// Wire formats. A report and a plan travel as direct messages (packets:
// HTTP/2 POSTs of up to 4 MiB over this transport) and in
// memberlist's push/pull state, so a node that joins or heals a
// partition gets them in its first exchange.
const (
	reportMagic = 0xd3
	planMagic   = 0xd4
	stateMagic  = 0xd5
)

var errPlacementDecode = errors.New("placement: malformed message")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(b []byte) (string, []byte, error) {
	l, b, err := readUvarint(b)
	if err != nil || l > uint64(len(b)) || l > 1024 {
		return "", nil, errPlacementDecode
	}
	return string(b[:l]), b[l:], nil
}

func (r *loadReport) encode() []byte {
	b := []byte{reportMagic}
	b = appendString(b, r.node)
	b = binary.AppendVarint(b, r.version)
	b = binary.AppendUvarint(b, uint64(r.count))
	b = binary.AppendUvarint(b, r.sum)
	b = binary.AppendUvarint(b, uint64(len(r.top)))
	var prev uint64
	for _, e := range r.top {
		b = binary.AppendUvarint(b, e.key-prev) // sorted: deltas
		prev = e.key
		b = binary.AppendUvarint(b, uint64(e.load))
	}
	return b
}

func decodeReport(b []byte) (*loadReport, error) {
	if len(b) < 1 || b[0] != reportMagic {
		return nil, errPlacementDecode
	}
	b = b[1:]
	r := &loadReport{}
	var err error
	var u uint64
	if r.node, b, err = readString(b); err != nil {
		return nil, err
	}
	if r.version, b, err = readVarint(b); err != nil {
		return nil, err
	}
	if u, b, err = readUvarint(b); err != nil || u > 1<<32-1 {
		return nil, errPlacementDecode
	}
	r.count = uint32(u)
	if r.sum, b, err = readUvarint(b); err != nil {
		return nil, err
	}
	var cnt uint64
	if cnt, b, err = readUvarint(b); err != nil || cnt > reportTop {
		return nil, errPlacementDecode
	}
	var key uint64
	for i := uint64(0); i < cnt; i++ {
		var d, l uint64
		if d, b, err = readUvarint(b); err != nil {
			return nil, err
		}
		if l, b, err = readUvarint(b); err != nil || l > 1<<32-1 {
			return nil, errPlacementDecode
		}
		if i > 0 && d == 0 {
			return nil, errPlacementDecode
		}
		key += d
		r.top = append(r.top, loadEntry{key, uint32(l)})
	}
	if len(b) != 0 {
		return nil, errPlacementDecode
	}
	return r, nil
}

func (p *plan) encode() []byte {
	b := []byte{planMagic}
	b = appendString(b, p.planner)
	b = binary.AppendVarint(b, p.version)
	b = binary.AppendVarint(b, p.at)
	b = binary.AppendUvarint(b, uint64(len(p.names)))
	for i, n := range p.names {
		b = appendString(b, n)
		b = binary.AppendUvarint(b, uint64(p.weights[i]))
	}
	b = binary.AppendUvarint(b, uint64(len(p.pins)))
	var prev uint64
	for _, pn := range p.pins {
		b = binary.AppendUvarint(b, pn.key-prev)
		prev = pn.key
		b = binary.AppendUvarint(b, uint64(pn.node))
		b = binary.AppendUvarint(b, uint64(pn.load))
	}
	return b
}

func decodePlan(b []byte) (*plan, error) {
	if len(b) < 1 || b[0] != planMagic {
		return nil, errPlacementDecode
	}
	b = b[1:]
	p := &plan{}
	var err error
	if p.planner, b, err = readString(b); err != nil {
		return nil, err
	}
	if p.version, b, err = readVarint(b); err != nil {
		return nil, err
	}
	if p.at, b, err = readVarint(b); err != nil {
		return nil, err
	}
	var cnt uint64
	if cnt, b, err = readUvarint(b); err != nil || cnt > 1<<16 {
		return nil, errPlacementDecode
	}
	for i := uint64(0); i < cnt; i++ {
		var name string
		var w uint64
		if name, b, err = readString(b); err != nil {
			return nil, err
		}
		if w, b, err = readUvarint(b); err != nil || w == 0 || w > 1<<31 {
			return nil, errPlacementDecode
		}
		if i > 0 && name <= p.names[i-1] {
			return nil, errPlacementDecode
		}
		p.names = append(p.names, name)
		p.weights = append(p.weights, uint32(w))
	}
	if cnt, b, err = readUvarint(b); err != nil || cnt > maxPlanPins {
		return nil, errPlacementDecode
	}
	var key uint64
	for i := uint64(0); i < cnt; i++ {
		var d, node, l uint64
		if d, b, err = readUvarint(b); err != nil {
			return nil, err
		}
		if i > 0 && d == 0 {
			return nil, errPlacementDecode
		}
		if node, b, err = readUvarint(b); err != nil || node >= uint64(len(p.names)) {
			return nil, errPlacementDecode
		}
		if l, b, err = readUvarint(b); err != nil || l > 1<<32-1 {
			return nil, errPlacementDecode
		}
		key += d
		p.pins = append(p.pins, pin{key: key, node: uint16(node), load: uint32(l)})
	}
	if len(b) != 0 {
		return nil, errPlacementDecode
	}
	return p, nil
}

// buildReport makes a node's report from its targets' series: the
// reportTop heaviest by name, the rest summed.
func buildReport(node string, version int64, loads []loadEntry) *loadReport {
	sorted := slices.Clone(loads)
	slices.SortFunc(sorted, func(a, b loadEntry) int {
		if a.load != b.load {
			return cmp.Compare(b.load, a.load)
		}
		return cmp.Compare(a.key, b.key)
	})
	r := &loadReport{node: node, version: version}
	n := min(reportTop, len(sorted))
	r.top = slices.Clone(sorted[:n])
	slices.SortFunc(r.top, func(a, b loadEntry) int { return cmp.Compare(a.key, b.key) })
	for _, e := range sorted[n:] {
		r.count++
		r.sum += uint64(e.load)
	}
	return r
}
