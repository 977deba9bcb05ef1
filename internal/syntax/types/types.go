// Package types holds the Go types that give configuration values a meaning
// beyond the language's own number, string, bool, array and object: secrets
// that never print, byte sizes, durations, and the Capsule marker for Go
// values that pass through the configuration opaquely.
//
// It owns how these types parse and print. It does not convert between Go and
// language values (that is internal/syntax/value) nor evaluate anything.
package types

// Capsule marks a Go type whose values travel through the configuration
// language opaquely, as a "capsule": they can be passed from one component's
// exports to another's arguments, but not inspected, compared by content or
// combined with operators.
//
// Besides types implementing Capsule, the value package treats as capsules
// any value held in a non-empty interface type (such as sample.Receiver), any
// channel, and any struct without alloy tags.
type Capsule interface {
	AlloyCapsule()
}
