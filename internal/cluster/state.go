package cluster

import "fmt"

// State is a node's place in the lifecycle. The only transitions are
// viewer → participant → terminating, plus participant → participant with
// a new since when a node learns it was declared dead (see refute in
// node.go).
type State uint8

const (
	// Viewer is where every node starts: it gossips and computes
	// ownership but owns nothing.
	Viewer State = iota
	// Participant nodes own their share of the targets from since+Δ on.
	Participant
	// Terminating nodes are leaving: they own their share for ticks
	// before since+Δ, then nothing.
	Terminating
)

var stateNames = [...]string{"viewer", "participant", "terminating"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText encodes the state by name, as the peers API shows it.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// eligibleFrom and eligibleUntil give the half-open interval of tick times
// [from, until) in which a node with record r may own targets, given Δ in
// ms. ok is false for a record that never makes its node eligible.
func eligibility(r record, delta int64) (from, until int64, ok bool) {
	switch r.State {
	case Participant:
		return r.Since + delta, maxTime, true
	case Terminating:
		if r.Joined == 0 || r.Joined+delta >= r.Since+delta {
			return 0, 0, false
		}
		return r.Joined + delta, r.Since + delta, true
	}
	return 0, 0, false
}

// fallbackEligibility is the interval in which a re-entered participant
// counts only when no node is eligible otherwise: after a partition heals,
// every node may learn it was declared dead and re-enter at once, and
// without the fallback none would own anything for Δ.
func fallbackEligibility(r record, delta int64) (from, until int64, ok bool) {
	if r.State != Participant || r.Prev == 0 || r.Prev >= r.Since {
		return 0, 0, false
	}
	return r.Prev + delta, r.Since + delta, true
}
