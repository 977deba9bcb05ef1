package scrape

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the engine's self-metrics. Names follow Alloy and Prometheus
// where one exists, shoal_ otherwise.
type metrics struct {
	targetsMoved       prometheus.Counter
	targetsAcquired    prometheus.Counter
	ticksSkipped       prometheus.Counter
	heldDropped        prometheus.Counter
	sendFailures       prometheus.Counter
	staleMarkers       prometheus.Counter
	exceededBody       prometheus.Counter
	exceededSample     prometheus.Counter
	exceededBuckets    prometheus.Counter
	exceededLabels     prometheus.Counter
	exceededTargets    prometheus.Counter
	duplicateTimestamp prometheus.Counter
	collisions         prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, owned func() float64, holding func() float64) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		targetsMoved:       c("prometheus_scrape_targets_moved_total", "Number of targets that have moved from this cluster node to another one."),
		targetsAcquired:    c("shoal_scrape_targets_acquired_total", "Number of targets that have moved to this cluster node from another one."),
		ticksSkipped:       c("shoal_scrape_ticks_skipped_total", "Ticks of owned targets that could not start within half an interval and were skipped."),
		heldDropped:        c("shoal_scrape_held_samples_dropped_total", "Samples dropped because a target's held samples exceeded their bound during a handoff."),
		sendFailures:       c("shoal_scrape_send_failures_total", "Batches that a forward_to receiver failed to accept."),
		staleMarkers:       c("shoal_scrape_stale_markers_total", "Staleness markers written."),
		exceededBody:       c("prometheus_target_scrapes_exceeded_body_size_limit_total", "Total number of scrapes that hit the body size limit."),
		exceededSample:     c("prometheus_target_scrapes_exceeded_sample_limit_total", "Total number of scrapes that hit the sample limit and were rejected."),
		exceededBuckets:    c("prometheus_target_scrapes_exceeded_native_histogram_bucket_limit_total", "Total number of scrapes that hit the native histogram bucket limit and were rejected."),
		exceededLabels:     c("prometheus_target_scrape_pool_exceeded_label_limits_total", "Total number of times scrapes hit the label limits."),
		exceededTargets:    c("prometheus_target_scrape_pool_exceeded_target_limit_total", "Total number of times scrape pools hit the target limit."),
		duplicateTimestamp: c("prometheus_target_scrapes_sample_duplicate_timestamp_total", "Total number of samples rejected due to duplicate timestamps but different values."),
		collisions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_scrape_target_key_collisions", Help: "Targets that share their cluster key with a different target.",
		}),
	}
	if reg == nil {
		return m
	}
	for _, col := range []prometheus.Collector{
		m.targetsMoved, m.targetsAcquired, m.ticksSkipped, m.heldDropped, m.sendFailures, m.staleMarkers,
		m.exceededBody, m.exceededSample, m.exceededBuckets, m.exceededLabels, m.exceededTargets,
		m.duplicateTimestamp, m.collisions,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "prometheus_scrape_targets_gauge", Help: "Number of targets this component is configured to scrape.",
		}, owned),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shoal_scrape_targets_holding", Help: "Targets whose samples are held while their previous owner drains.",
		}, holding),
	} {
		register(reg, col)
	}
	return m
}

// register registers col, tolerating a collector registered before by an
// earlier engine of the same component.
func register(reg prometheus.Registerer, col prometheus.Collector) {
	if err := reg.Register(col); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			reg.Unregister(are.ExistingCollector)
			_ = reg.Register(col)
		}
	}
}
