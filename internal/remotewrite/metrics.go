package remotewrite

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the self-metrics of a Writer. Names follow Prometheus' remote
// storage metrics where one exists; per-endpoint ones carry remote_name and
// url like Prometheus'.
type metrics struct {
	samples        *prometheus.CounterVec
	histograms     *prometheus.CounterVec
	exemplars      *prometheus.CounterVec
	failed         *prometheus.CounterVec
	retried        *prometheus.CounterVec
	dropped        *prometheus.CounterVec
	rejected       *prometheus.CounterVec
	ticksDoubled   *prometheus.CounterVec
	sendDuration   *prometheus.HistogramVec
	shards         *prometheus.GaugeVec
	highestSent    *prometheus.GaugeVec
	pending        *prometheus.GaugeVec
	backlogBytes   *prometheus.GaugeVec
	highestTs      prometheus.Gauge
	queueBytes     prometheus.Gauge
	held           prometheus.Gauge
	appendFailures prometheus.Counter
	damaged        *prometheus.CounterVec
	shardRestarts  *prometheus.CounterVec
	metadata       *prometheus.CounterVec
	metadataFailed *prometheus.CounterVec
}

var endpointLabels = []string{"remote_name", "url"}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_samples_total",
			Help: "Samples acknowledged by the remote storage.",
		}, endpointLabels),
		histograms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_histograms_total",
			Help: "Native histogram samples acknowledged by the remote storage.",
		}, endpointLabels),
		exemplars: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_exemplars_total",
			Help: "Exemplars acknowledged by the remote storage.",
		}, endpointLabels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_samples_failed_total",
			Help: "Samples that failed to be sent and will not be sent again (rejected by the receiver or answered with a non-retryable error).",
		}, endpointLabels),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_samples_retried_total",
			Help: "Samples whose request failed with a retryable error and was sent again.",
		}, endpointLabels),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_samples_dropped_total",
			Help: "Samples dropped before sending: queue_full (wal max_size), too_old (wal max_keepalive_time, sample_age_limit), queue_unwritable (the disk queue could not be written and the memory hold was full), dropped_series (write_relabel_config), native_histograms_disabled, unintentionally_dropped_series (their labels were in damaged queue data).",
		}, append(endpointLabels, "reason")),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_remote_write_rejected_samples_total",
			Help: "Samples the receiver rejected with 400 or 413, by the reason its message gives: out_of_order, duplicate, too_old, other. By default every sample of a rejected request counts; with retry_on_http_400_by_bisection, those bisection isolated (a single sample, or a scrape rejected whole).",
		}, append(endpointLabels, "reason")),
		ticksDoubled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_ticks_doubled_total",
			Help: "Ticks the receiver already held from another writer: the rejected duplicate `up` samples, one per doubled scrape.",
		}, endpointLabels),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "prometheus_remote_storage_sent_batch_duration_seconds",
			Help:    "Duration of send calls to the remote storage.",
			Buckets: append(prometheus.DefBuckets, 25, 60, 120, 300),
		}, endpointLabels),
		shards: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prometheus_remote_storage_shards",
			Help: "Shards sending to the endpoint.",
		}, endpointLabels),
		highestSent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
			Help: "Timestamp of the newest sample the endpoint acknowledged.",
		}, endpointLabels),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_remote_write_queue_samples",
			Help: "Samples in the disk queue not yet acknowledged by the endpoint (counted in 64 KiB blocks, so an upper bound).",
		}, endpointLabels),
		backlogBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_remote_write_queue_backlog_bytes",
			Help: "Bytes of the disk queue the endpoint has not acknowledged.",
		}, endpointLabels),
		highestTs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prometheus_remote_storage_highest_timestamp_in_seconds",
			Help: "Timestamp of the newest sample appended to the queue.",
		}),
		queueBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_remote_write_queue_bytes",
			Help: "Bytes on disk in the queue.",
		}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_remote_write_held_samples",
			Help: "Samples and exemplars held in memory because the disk queue cannot be written; appended as soon as it can.",
		}),
		appendFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_remote_write_append_failures_total",
			Help: "Appends to the disk queue that failed (no space, no inode or file descriptor, I/O error); the batch was held in memory or dropped.",
		}),
		damaged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_remote_write_queue_damaged_total",
			Help: "Damaged stretches of the disk queue a sender shard skipped (a bad record, an unreadable read), by kind: record, read.",
		}, append(endpointLabels, "kind")),
		shardRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_remote_write_shard_restarts_total",
			Help: "Sender shards that failed and were started again from their acknowledged position.",
		}, endpointLabels),
		metadata: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_metadata_total",
			Help: "Metric metadata entries sent in remote write 1.0 metadata requests.",
		}, endpointLabels),
		metadataFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prometheus_remote_storage_metadata_failed_total",
			Help: "Metric metadata entries whose remote write 1.0 metadata request failed (sent again at the next metadata_config send_interval).",
		}, endpointLabels),
	}
	if reg == nil {
		return m
	}
	m.samples = register(reg, m.samples)
	m.histograms = register(reg, m.histograms)
	m.exemplars = register(reg, m.exemplars)
	m.failed = register(reg, m.failed)
	m.retried = register(reg, m.retried)
	m.dropped = register(reg, m.dropped)
	m.rejected = register(reg, m.rejected)
	m.ticksDoubled = register(reg, m.ticksDoubled)
	m.sendDuration = register(reg, m.sendDuration)
	m.shards = register(reg, m.shards)
	m.highestSent = register(reg, m.highestSent)
	m.pending = register(reg, m.pending)
	m.backlogBytes = register(reg, m.backlogBytes)
	m.highestTs = register(reg, m.highestTs)
	m.queueBytes = register(reg, m.queueBytes)
	m.held = register(reg, m.held)
	m.appendFailures = register(reg, m.appendFailures)
	m.damaged = register(reg, m.damaged)
	m.shardRestarts = register(reg, m.shardRestarts)
	m.metadata = register(reg, m.metadata)
	m.metadataFailed = register(reg, m.metadataFailed)
	return m
}

// register registers c, or returns the collector already registered under
// its name: a component rebuilt under the same registerer keeps counting
// into the same series.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing
			}
		}
	}
	return c
}

// endpointMetrics are a Writer's metrics curried for one endpoint.
type endpointMetrics struct {
	samples, histograms, exemplars, failed, retried prometheus.Counter
	ticksDoubled, shardRestarts                     prometheus.Counter
	metadata, metadataFailed                        prometheus.Counter
	sendDuration                                    prometheus.Observer
	shards, highestSent, pending, backlogBytes      prometheus.Gauge
	dropped, rejected, damaged                      *prometheus.CounterVec
}

func (m *metrics) forEndpoint(name, url string) *endpointMetrics {
	l := prometheus.Labels{"remote_name": name, "url": url}
	return &endpointMetrics{
		samples:        m.samples.With(l),
		histograms:     m.histograms.With(l),
		exemplars:      m.exemplars.With(l),
		failed:         m.failed.With(l),
		retried:        m.retried.With(l),
		ticksDoubled:   m.ticksDoubled.With(l),
		shardRestarts:  m.shardRestarts.With(l),
		metadata:       m.metadata.With(l),
		metadataFailed: m.metadataFailed.With(l),
		sendDuration:   m.sendDuration.With(l),
		shards:         m.shards.With(l),
		highestSent:    m.highestSent.With(l),
		pending:        m.pending.With(l),
		backlogBytes:   m.backlogBytes.With(l),
		dropped:        m.dropped.MustCurryWith(l),
		rejected:       m.rejected.MustCurryWith(l),
		damaged:        m.damaged.MustCurryWith(l),
	}
}

func (m *metrics) deleteEndpoint(name, url string) {
	l := prometheus.Labels{"remote_name": name, "url": url}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.samples, m.histograms, m.exemplars, m.failed, m.retried, m.shards, m.highestSent, m.pending, m.backlogBytes, m.dropped, m.rejected, m.ticksDoubled, m.sendDuration, m.damaged, m.shardRestarts, m.metadata, m.metadataFailed,
	} {
		v.DeletePartialMatch(l)
	}
}
