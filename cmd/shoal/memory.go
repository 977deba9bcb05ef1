package main

import (
	"os"
	"runtime/debug"
)

// defaultGOGC is the garbage collector's target percentage for "shoal run"
// when the user sets neither GOGC nor GOMEMLIMIT. A scraping agent holds a
// steady live heap (series caches, queue buffers) and allocates little per
// sample, so collecting at 50 % growth instead of Go's 100 % costs a few
// extra collections a minute and cuts the heap's peak by about a quarter
// (see docs/operations.md, "Memory and the garbage collector").
const defaultGOGC = 50

// applyMemoryPolicy sets the process's garbage-collection policy, unless
// the environment already chose one: GOGC or GOMEMLIMIT set (even to
// "off") always wins, as in any Go program.
func applyMemoryPolicy() {
	if _, ok := os.LookupEnv("GOGC"); ok {
		return
	}
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	debug.SetGCPercent(defaultGOGC)
}
