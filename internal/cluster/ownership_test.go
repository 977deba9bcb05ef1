package cluster

import (
	"fmt"
	"github.com/shoal-dev/shoal/internal/scrape"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("shoal-%d", i)
	}
	return out
}

func viewOf(self string, nodes []string) *view {
	var cands []candidate
	for _, n := range nodes {
		cands = append(cands, candidate{name: n, from: minTime, until: maxTime})
	}
	return buildView(self, cands)
}

func TestScoreEncodingIsFrozen(t *testing.T) {
	// Changing these values moves targets between nodes of different
	// versions during a rolling upgrade: never change them.
	if got := nameHash("shoal-0"); got != 0x8570db30c34f7cc7 {
		t.Errorf("nameHash(shoal-0) = %#x", got)
	}
	if got := score(0x0123456789abcdef, nameHash("shoal-0")); got != 0x89e993fa2f6721ab {
		t.Errorf("score = %#x", got)
	}
}

func TestTargetKeyEncodingIsFrozen(t *testing.T) {
	l := labels.FromStrings("__address__", "10.0.0.1:9100", "job", "node", "__meta_kubernetes_pod_name", "x")
	if got := scrape.Key(l, nil); got != 0x59f58f652d56c8e9 {
		t.Errorf("TargetKey = %#x", got)
	}
	withoutMeta := labels.FromStrings("__address__", "10.0.0.1:9100", "job", "node")
	if scrape.Key(l, nil) != scrape.Key(withoutMeta, nil) {
		t.Error("__meta_ labels change the key")
	}
	excl := labels.FromStrings("__address__", "10.0.0.1:9100", "job", "node", "__param_sig", "abc")
	if scrape.Key(excl, []string{"__param_sig"}) != scrape.Key(withoutMeta, nil) {
		t.Error("an excluded label changes the key")
	}
}

func TestTiesGoToTheSmallerName(t *testing.T) {
	// Two nodes can only tie when their name hashes are equal; simulate it.
	e := epoch{names: []string{"a", "b"}, hashes: []uint64{7, 7}, self: -1}
	for _, k := range randomKeys(10) {
		if got := e.ownerName(k); got != "a" {
			t.Fatalf("a tie went to %s", got)
		}
	}
}

func TestEligibilityEpochs(t *testing.T) {
	const delta = 1000
	v := buildView("b", []candidate{
		{name: "a", from: 1000 + delta, until: maxTime},
		{name: "b", from: 2000 + delta, until: maxTime},
		{name: "c", from: 500 + delta, until: 3000 + delta}, // terminating at 3000
	})
	for _, tc := range []struct {
		t    int64
		want string
	}{
		{0, "[]"}, {1499, "[]"}, {1500, "[c]"}, {1999, "[c]"}, {2000, "[a c]"},
		{2999, "[a c]"}, {3000, "[a b c]"}, {3999, "[a b c]"}, {4000, "[a b]"}, {math.MaxInt64 - 1, "[a b]"},
	} {
		if got := fmt.Sprint(v.at(tc.t).names); got != tc.want {
			t.Errorf("eligible at %d: %s, want %s", tc.t, got, tc.want)
		}
	}
	if v.at(2999).self != -1 || v.at(3000).self != 1 {
		t.Error("self index wrong")
	}
	if got := v.nextBoundary(2500); got != 3000 {
		t.Errorf("next boundary after 2500 is %d, want 3000", got)
	}
	if v.losesAt(v.index(3000)) {
		t.Error("b loses keys when it becomes eligible")
	}
	if v.losesAt(v.index(4000)) {
		t.Error("b loses keys when c leaves")
	}
}

func TestEligibilityFromRecords(t *testing.T) {
	const d = 1000
	for _, tc := range []struct {
		r           record
		from, until int64
		ok          bool
	}{
		{record{State: Viewer, Since: 5}, 0, 0, false},
		{record{State: Participant, Since: 5}, 5 + d, maxTime, true},
		{record{State: Terminating, Since: 9000, Joined: 5}, 5 + d, 9000 + d, true},
		{record{State: Terminating, Since: 9000}, 0, 0, false}, // left as a viewer
	} {
		from, until, ok := eligibility(tc.r, d)
		if from != tc.from || until != tc.until || ok != tc.ok {
			t.Errorf("eligibility(%+v) = %d, %d, %v; want %d, %d, %v", tc.r, from, until, ok, tc.from, tc.until, tc.ok)
		}
	}
}

// balance returns the largest and smallest share of keys over nodes,
// relative to the mean.
func balance(counts []int, keys int) (lo, hi float64) {
	mean := float64(keys) / float64(len(counts))
	lo, hi = math.Inf(1), 0
	for _, c := range counts {
		lo = math.Min(lo, float64(c)/mean)
		hi = math.Max(hi, float64(c)/mean)
	}
	return lo, hi
}

func TestOwnershipIsBalanced(t *testing.T) {
	keys := sortedKeys(100_000)
	for _, n := range []int{3, 10, 100} {
		o := computeOwnership(viewOf("", names(n)).at(0), keys)
		lo, hi := balance(o.counts, len(keys))
		t.Logf("%3d nodes, 100k keys: shares from %.3f to %.3f of the mean", n, lo, hi)
		// Binomial spread: 5 standard deviations.
		sd := math.Sqrt(float64(len(keys))/float64(n)) / (float64(len(keys)) / float64(n))
		if lo < 1-5*sd || hi > 1+5*sd {
			t.Errorf("%d nodes: shares from %.3f to %.3f of the mean, beyond 5σ (%.3f)", n, lo, hi, 5*sd)
		}
	}
}

func sortedKeys(n int) []uint64 {
	keys := randomKeys(n)
	slices.Sort(keys)
	return keys
}

// movement counts the keys whose owner differs between two fleets, and
// checks that each of them moved to or from changed, the node that joined
// or left: rendezvous moves nothing else.
func movement(t *testing.T, keys []uint64, before, after []string, changed string) int {
	ob := computeOwnership(viewOf("", before).at(0), keys)
	oa := computeOwnership(viewOf("", after).at(0), keys)
	moved := 0
	for i := range keys {
		from, to := ob.names[ob.owners[i]], oa.names[oa.owners[i]]
		if from != to {
			moved++
			if from != changed && to != changed {
				t.Fatalf("key %x moved from %s to %s, neither of which is %s", keys[i], from, to, changed)
			}
		}
	}
	return moved
}

// TestTargetsMovedPerJoinAndLeave measures how many targets move when one
// node joins or leaves a fleet, against the ideal (the keys divided by the
// larger fleet), averaged over ten joins and ten leaves.
func TestTargetsMovedPerJoinAndLeave(t *testing.T) {
	keys := sortedKeys(100_000)
	for _, n := range []int{3, 10, 100} {
		fleet := names(n)
		ideal := float64(len(keys)) / float64(n+1)
		var joined, left int
		for i := range 10 {
			newcomer := fmt.Sprintf("new-%d", i)
			joined += movement(t, keys, fleet, append(slices.Clone(fleet), newcomer), newcomer)
			bigger := append(slices.Clone(fleet), newcomer)
			leaver := bigger[i*len(bigger)/10]
			left += movement(t, keys, bigger, slices.DeleteFunc(slices.Clone(bigger), func(s string) bool { return s == leaver }), leaver)
		}
		jr, lr := float64(joined)/10/ideal, float64(left)/10/ideal
		t.Logf("%3d↔%3d nodes, 100k targets: a join moves %.3f× the ideal, a leave %.3f×", n, n+1, jr, lr)
		if jr > 1.05 || lr > 1.05 {
			t.Errorf("%d↔%d nodes: join moves %.3f×, leave %.3f× the ideal; want ≤ 1.05", n, n+1, jr, lr)
		}
	}
}

func BenchmarkOwnershipRecompute100kTargets100Nodes(b *testing.B) {
	keys := sortedKeys(100_000)
	e := viewOf("shoal-0", names(100)).at(0)
	b.ResetTimer()
	for b.Loop() {
		computeOwnership(e, keys)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/recompute")
}

func BenchmarkOwns100Nodes(b *testing.B) {
	n := &Node{enabled: true}
	n.view.Store(viewOf("shoal-0", names(100)))
	keys := randomKeys(1024)
	now := time.Now().UnixMilli()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		n.Owns(keys[i&1023], now)
		i++
	}
}

func TestReenteringNodesCoverTheirFallbackWindow(t *testing.T) {
	const d = 1000
	a := record{State: Participant, Since: 10_000, Prev: 1_000}
	b := record{State: Participant, Since: 10_500, Prev: 2_000}
	var cands []candidate
	for name, r := range map[string]record{"a": a, "b": b} {
		c, _ := candidateOf(name, r, d)
		cands = append(cands, c)
	}
	v := buildView("a", cands)
	// Both re-entered: without the fallback nobody would be eligible
	// until 11_000.
	for _, tick := range []int64{10_000, 10_999} {
		if got := fmt.Sprint(v.at(tick).names); got != "[a b]" {
			t.Errorf("eligible at %d: %s, want both re-entered nodes as a fallback", tick, got)
		}
	}
	if got := fmt.Sprint(v.at(11_000).names); got != "[a]" {
		t.Errorf("eligible at 11000: %s, want a alone (b from 11500)", got)
	}
	// A node that did not re-enter takes precedence over the fallback.
	c, _ := candidateOf("c", record{State: Participant, Since: 0}, d)
	v = buildView("a", append(cands, c))
	if got := fmt.Sprint(v.at(10_500).names); got != "[c]" {
		t.Errorf("eligible at 10500: %s, want c alone while a and b re-enter", got)
	}
}
