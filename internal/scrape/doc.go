// Package scrape is shoal's scrape engine: it turns a list of discovered
// targets into batches of samples, one batch per scrape, handed to a
// sample.Receiver.
//
// It owns, each in its own file:
//   - key.go: the frozen target key that clustering hashes;
//   - schedule.go: the tick grid every node computes alike, and skipped ticks;
//   - fetch.go: the HTTP request (Accept negotiation, gzip, timeout, body
//     limit) with buffers reused across scrapes;
//   - direct.go: plain-HTTP targets without proxy, auth or extra headers
//     scraped over one kept connection from the target's own goroutine,
//     instead of through net/http's transport (two goroutines per
//     connection and three hand-offs per scrape);
//   - parse.go: textparse over text, OpenMetrics and protobuf, native
//     histograms and exemplars included; a target's HELP, TYPE and UNIT
//     are kept per family and put in the batch (sample.Batch.Metadata)
//     only when they change (known comment lines never reach textparse);
//   - text.go: the known-line fast path of the text format: a line whose
//     series bytes are cached has only its value and timestamp read,
//     everything else goes to textparse;
//   - label.go and cache.go: target labels, honor_labels, metric relabeling,
//     and the per-target cache from raw series bytes to final labels;
//   - stale.go: staleness markers for vanished series, failed scrapes and
//     targets that left discovery;
//   - report.go: up, scrape_duration_seconds and the other report series;
//   - limits.go: sample, label, bucket and body limits;
//   - hold.go: the ordered, bounded buffer that holds a target's samples
//     while its previous owner drains;
//   - loop.go and engine.go: one goroutine per target, and the set of them
//     diffed on reload.
//
// It does not discover or relabel targets (discovery.* components do), does
// not decide ownership (internal/cluster does, through component.Cluster),
// and does not queue or send samples (internal/remotewrite does). It uses
// Prometheus' model packages, not its scrape manager.
//
// # Cost per target
//
// Each target has one goroutine (about 8 KiB of stack while idle), a small
// struct with its definition and status, and, while this node owns it, a
// series cache of one map entry per exposed series (the 64-bit hash of the
// raw series bytes as key and an index into a dense slice of entries
// holding the final labels, the raw length and three 32-bit iteration
// counters: the final labels plus about 60 bytes)
// and, for a directly scraped target, one kept TCP connection. Bodies are
// read into buffers taken from a pool shared by the engine, sized by the
// target's last body; gzip readers, response readers and sample batches are
// pooled too, so an idle or unowned target holds none of them. A target this
// node does not own wakes once per tick to ask the cluster, and holds no
// series cache and no connection. 100k targets in a fleet of 10 nodes is
// therefore about 10k goroutines and the series caches of the owned targets
// per node.
package scrape
