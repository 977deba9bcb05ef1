// Package lab runs real shoal fleets on one machine and measures them: it
// starts synthetic scrape targets that log every scrape they serve, a
// remote-write receiver that counts and rejects samples the way Mimir and
// Prometheus do, real `shoal run` processes, Debian's Prometheus (as a
// receiver or as an agent to compare against), and network namespaces to cut
// a node off from its peers. From the targets' logs and the receiver's store
// it computes the figures of a scenario (scrapes missed and doubled, the
// largest gap, out-of-order and duplicate rejects, staleness markers, the
// balance between nodes) and prints them as a Report.
//
// lab owns test infrastructure only. It never imports shoal's own packages
// for its measurements: it looks at a fleet from the outside, as a user
// would, through processes, HTTP and the samples that reach a receiver. The
// scenario tests themselves live in e2e/, and the command in cmd/lab.
//
// All traffic stays on loopback (127.0.0.x) or inside network namespaces
// that lab creates itself, and every port is chosen dynamically.
package lab
