// Package demo is `shoal demo`: on one machine, with nothing else
// installed, it runs a small real fleet (several `shoal run` processes
// clustered on loopback, all loading one generated config), hundreds of
// synthetic targets and a remote-write receiver that counts what arrives,
// and prints a live summary of how the fleet splits the work: targets per
// node, samples per second, ticks missed and ticks doubled over a sliding
// window. Typed commands kill, stop, restart and add nodes, and the summary
// then shows the handoff.
//
// demo owns the demo's lifecycle, its commands and its summary. The
// processes, targets, receiver and the figures themselves are
// internal/lab's; flag parsing is cmd/shoal's.
package demo
