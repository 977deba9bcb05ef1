// Package stability names Alloy's stability levels (experimental, public
// preview, generally available) and decides whether a feature of one level
// may be used under the minimum level a user chose with --stability.level.
// Components, top-level blocks and standard-library functions each carry a
// level; the runtime and the evaluator refuse what the chosen level does not
// permit, with an error that names the flag that would permit it.
package stability

import (
	"fmt"
	"strings"
)

// Level is a stability level. Higher is more stable.
type Level int

// The levels, ordered from least to most stable, named as Alloy names them.
const (
	Undefined Level = iota
	Experimental
	PublicPreview
	GenerallyAvailable
)

// Default is the level Alloy runs with when --stability.level is not given.
const Default = GenerallyAvailable

// String returns the flag value that selects l.
func (l Level) String() string {
	switch l {
	case Experimental:
		return "experimental"
	case PublicPreview:
		return "public-preview"
	case GenerallyAvailable:
		return "generally-available"
	}
	return "undefined"
}

// Parse reads a --stability.level value.
func Parse(s string) (Level, error) {
	switch strings.TrimSpace(s) {
	case "experimental":
		return Experimental, nil
	case "public-preview":
		return PublicPreview, nil
	case "generally-available":
		return GenerallyAvailable, nil
	}
	return Undefined, fmt.Errorf("invalid stability level %q: want experimental, public-preview or generally-available", s)
}

// Permits reports whether a feature of level have may be used when the
// minimum chosen by the user is min. An undefined level is treated as
// generally available.
func (min Level) Permits(have Level) bool {
	if have == Undefined {
		have = GenerallyAvailable
	}
	return have >= min
}

// Error is returned when a feature is below the chosen level.
type Error struct {
	What  string // e.g. `component "prometheus.enrich"` or `function "array.group_by"`
	Have  Level
	Chose Level
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s is at stability level %q, below the minimum %q; run with --stability.level=%s to use it", e.What, e.Have, e.Chose, e.Have)
}

// Check returns nil when min permits have, and an *Error naming what otherwise.
func Check(min, have Level, what string) error {
	if min.Permits(have) {
		return nil
	}
	return &Error{What: what, Have: have, Chose: min}
}
