// Package cluster is shoal's fleet membership and target ownership.
//
// It owns: gossip (hashicorp/memberlist, SWIM) carried over HTTP/2 on the
// node's own HTTP port (transport.go, stream.go); each node's record in
// the gossip metadata (meta.go) and its lifecycle, viewer → participant →
// terminating (state.go, node.go); bootstrap, join-address resolution and
// periodic rejoin (join.go); the peers remembered under --storage.path,
// which a restarted node rejoins before it participates (memory.go); the
// eligibility epochs and rendezvous hashing that decide which node owns a
// target at a tick (ownership.go); placement by load, which weights that
// hashing by measured series through gossiped reports and plans that take
// effect on the tick grid (placement.go, placement_node.go); the handoff holds and delivery
// watermarks that keep samples in order across a move (handoff.go);
// peers' clock offsets and the skew rule that keeps a node with a wrong
// clock out (clock.go); configuration and target-set drift (drift.go);
// signing this node's record and vetting its peers' before memberlist
// adopts them, and the gossip key (identity.go, vet.go); and its
// self-metrics (metrics.go).
//
// It does not own: the HTTP server (internal/web mounts Handler and builds
// the server's TLS with ServerTLS), scheduling scrapes (internal/scrape
// asks Owns and Hold per tick), delivering samples (internal/remotewrite
// registers a component.Delivery), or computing target keys from labels
// (TargetKey documents the frozen encoding; discovery and scrape call it).
//
// docs/clustering.md describes the protocol as built.
package cluster
