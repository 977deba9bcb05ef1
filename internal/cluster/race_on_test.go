//go:build race

package cluster

// raceDetector is true in a -race build, where the simulations shrink to
// stay within the package's test timeout.
const raceDetector = true
