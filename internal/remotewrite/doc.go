// Package remotewrite is shoal's remote-write engine: the durable disk queue
// that samples are appended to, and the sender shards that deliver them to
// receivers with Prometheus remote write 1.0 (snappy-compressed protobuf
// WriteRequest) or 2.0 (io.prometheus.write.v2.Request, EndpointConfig's
// ProtobufMessage). It owns the record format, the protobuf encoders, retry and
// bisection, resharding, the delivery watermark and the self-metrics. It
// knows nothing of the configuration language: the prometheus.remote_write
// component (internal/component/prometheus/remotewrite) decodes arguments
// into Config and EndpointConfig.
//
// # The queue
//
// One log of segment files under Options.Dir is shared by all endpoints;
// each endpoint keeps its own positions in it. Sharing writes every sample
// once whatever the number of endpoints, and keeps one size bound; a slow
// endpoint only keeps segments it has not read, and when the bound is hit
// only endpoints that had not yet sent the dropped segment lose data.
//
//   - Receive encodes the batch into CRC-framed records and appends them with
//     one write(2) before returning: what Receive accepted survives kill -9.
//   - The active segment is fsynced once a second and when it is sealed
//     (on rotation), never per batch. A power loss can lose the last second.
//   - A segment that was not sealed (the process died) is scanned on open;
//     a torn or corrupt tail is truncated.
//   - Records hold series labels once per segment and refer to them after
//     by a ref, numbered densely from 0 in each segment, and each series
//     entry starts with its hash and length, so a shard skips other shards'
//     series without decoding them. Neither side hashes per sample: the
//     encoder tries the series that followed the previous one last time
//     (a target lists its series in the same order every scrape) before
//     hashing the labels, and a shard finds a series by indexing its refs.
//   - A segment is sealed at Options.SegmentBytes (default MaxBytes/16, at
//     most 64 MiB). Left at its default, a segment grows past that while
//     the series definitions it holds are more than an eighth of its bytes,
//     up to MaxBytes/4: with a million series, 64 MiB segments held little
//     but definitions (177 bytes per sample against about 32 at 100k
//     series).
//   - The queue is bounded by Options.MaxBytes (default 1 GiB) and
//     Options.MaxAge (default 2h): past either, the oldest segment is
//     deleted and its unsent samples are counted in
//     prometheus_remote_storage_samples_dropped_total{reason="queue_full"}
//     (or "too_old"), per endpoint.
//   - Memory does not grow with the backlog: readers hold one record and one
//     batch, and the in-memory summary of the queue is 32 bytes per 64 KiB.
//     Per series, the encoder keeps the labels it was given (the scrape
//     cache's own, not a copy) for the active segment, and a shard reading
//     that segment takes them from it rather than decoding a second copy
//     (unless external labels or write relabelling change them); labels are
//     encoded into each request as it is built. When a segment is sealed,
//     the encoder's table of it is kept until every endpoint has
//     acknowledged past it, so shards that lag behind the rotation still
//     share the labels. After a restart, or for a shard reading an older
//     segment, labels are decoded from the disk: replay holds the series
//     of the one segment it reads, never the whole queue.
//     A shard keeps only its own series of the segment it reads, in a map
//     from ref to an index in chunks of series, so the shard count does
//     not multiply the memory per series.
//
// # Sending
//
// Each endpoint reads the log with between min_shards and max_shards shards;
// shard i takes the series whose hash modulo the shard count is i, so the
// samples of one series are sent in the order they were appended. A shard
// sends a batch when it holds max_samples_per_send items, after
// batch_send_deadline, or on Flush. An empty shard wakes at the next
// append (which starts the deadline); one holding items sleeps until the
// log has grown enough to fill its batch, judging by the bytes per item it
// has read, or the deadline comes, so it does not wake for every scrape. Every ReshardInterval the endpoint
// doubles its shards while a backlog of more than 4 MiB grows or would take
// more than three more intervals to drain (and no shard is retrying), or halves them after three checks with almost no
// backlog; before the count changes, every shard is drained to one offset.
//
// A shard retries 5xx, network errors and (with retry_on_http_429) 429 with
// exponential backoff between min_backoff and max_backoff, or the
// receiver's Retry-After; it blocks only itself. Before each retry it drops
// what aged past sample_age_limit (counted as too_old). A 4xx other than
// 429 is never sent again (remote write 1.0): on 400 (and 413) the request
// is dropped and its samples counted in
// shoal_remote_write_rejected_samples_total by the reason in the receiver's
// message (out_of_order, duplicate, too_old, other) and in samples_failed.
// With EndpointConfig.BisectOn400 (for receivers that reject a request
// whole, like Prometheus) it splits the request in halves and sends each,
// in order, recursively, so every sample such a receiver accepts is
// delivered; a batch of n costs at most 1 + 8·log2(n) + log2(n) requests
// whatever the receiver answers (see bisect).
//
// # Faults
//
// A failed append is undone (and the series it defined forgotten by the
// encoder, so the next batch defines them again); Writer.Receive then holds
// the batch in memory, up to Options.MaxHeldSamples, and appends it first
// once the queue is writable (AppendFailure reports the state). A segment
// that cannot be created is created at the next append. A reader skips
// damaged records to the next valid one and unreadable data after a few
// retries, counting both; a shard that fails anyway is started again from
// its acknowledged position, so no pause or drain waits on a dead shard.
//
// # Acknowledgements
//
// Each shard's acknowledged position (a record offset, and how many of the
// shard's items in that record are done) is kept in memory and persisted,
// after the data it refers to was fsynced, once a second. A restart resends
// at most the last second of acknowledged samples (none after a clean
// shutdown), and everything not acknowledged. A request in flight when the
// process stops is sent again.
//
// # Remote write 2.0 and metadata
//
// A 2.0 request (proto2.go) holds a symbol table and, per series, label
// references, samples or histograms (never both in one TimeSeries),
// exemplars, start timestamps (kept in the queue with each sample that has
// one) and the series' metadata. The receiver's
// X-Prometheus-Remote-Write-*-Written headers are counted exactly: a
// partial write (a 4xx with the headers) is counted and never sent again.
// A receiver that answers 415, or 2xx without those headers (a 1.x
// receiver, which stored nothing), makes the endpoint fall back to 1.0 for
// good and send the same items again.
//
// Metric metadata (HELP, TYPE, UNIT) comes in sample.Batch.Metadata when a
// target's metadata changes; Writer.Receive keeps it in memory by family
// (meta.go). A 1.0 endpoint sends all of it every metadata interval in
// metadata-only requests; a 2.0 endpoint looks up each series' family
// (its name, or its name less a _total, _bucket, _sum, _count ... suffix)
// once per change of the store.
//
// Options.MaxBytes, MaxAge, FlushOnShutdown and WatermarkLag are documented
// on Options; the watermark is defined on Writer.Watermark.
package remotewrite
