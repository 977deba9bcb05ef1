// Package enrich is the prometheus.enrich component (experimental, as in
// Alloy): it matches the labels of each incoming series against the
// labels of discovered targets and copies the matched target's labels (all
// of them, or labels_to_copy) onto the series before forwarding it. A
// series that matches no target passes unchanged.
//
// The match is target_to_metric_match (target label → metric label, every
// pair equal and non-empty), or the deprecated target_match_label and
// metrics_match_label, which stand for a map of one pair.
package enrich

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Registration is prometheus.enrich's entry in the registry.
var Registration = component.Registration{
	Name:      "prometheus.enrich",
	Stability: stability.Experimental,
	Args:      Arguments{},
	Exports:   Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}

// Arguments are prometheus.enrich's, as Alloy names them.
type Arguments struct {
	Targets             []discovery.Target `alloy:"targets,attr"`
	TargetToMetricMatch map[string]string  `alloy:"target_to_metric_match,attr,optional"`
	TargetMatchLabel    string             `alloy:"target_match_label,attr,optional"`
	MetricsMatchLabel   string             `alloy:"metrics_match_label,attr,optional"`
	LabelsToCopy        []string           `alloy:"labels_to_copy,attr,optional"`
	ForwardTo           []sample.Receiver  `alloy:"forward_to,attr"`
}

// Validate checks what Alloy checks: some match is given.
func (a *Arguments) Validate() error {
	legacy := a.TargetMatchLabel != "" || a.MetricsMatchLabel != ""
	if !legacy && len(a.TargetToMetricMatch) == 0 {
		return errors.New("at least one match mechanism must be specified: set target_match_label or target_to_metric_match")
	}
	if legacy && len(a.TargetToMetricMatch) == 0 && a.TargetMatchLabel == "" {
		return errors.New("target_match_label must be set when using legacy match fields")
	}
	return nil
}

// Exports are prometheus.enrich's exports.
type Exports struct {
	Receiver sample.Receiver `alloy:"receiver,attr"`
}

// index is the targets by the values of their match labels.
type index struct {
	metricLabels []string                 // in the order of the sorted target labels
	byKey        map[string]labels.Labels // match values joined by \xff → target labels
	copy         []string                 // labels_to_copy; empty copies all
	forward      sample.Fanout
}

// matchPairs gives the match as sorted target labels and the metric label
// each corresponds to.
func (a *Arguments) matchPairs() (targetLabels, metricLabels []string) {
	m := a.TargetToMetricMatch
	if len(m) == 0 && a.TargetMatchLabel != "" {
		metric := a.MetricsMatchLabel
		if metric == "" {
			metric = a.TargetMatchLabel
		}
		m = map[string]string{a.TargetMatchLabel: metric}
	}
	for t := range m {
		targetLabels = append(targetLabels, t)
	}
	slices.Sort(targetLabels)
	for _, t := range targetLabels {
		metricLabels = append(metricLabels, m[t])
	}
	return targetLabels, metricLabels
}

// key joins the values of names got by get, or reports false when one is
// missing or empty (such a series or target never matches).
func key(names []string, get func(string) string) (string, bool) {
	if len(names) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, n := range names {
		v := get(n)
		if v == "" {
			return "", false
		}
		b.WriteString(v)
		b.WriteByte(0xff)
	}
	return b.String(), true
}

// Component is a running prometheus.enrich. It is the Receiver it exports.
type Component struct {
	opts    component.Options
	idx     atomic.Pointer[index]
	metrics *metrics
	mu      sync.Mutex // serialises Update
}

var (
	_ component.Component = (*Component)(nil)
	_ sample.Receiver     = (*Component)(nil)
)

// New builds a prometheus.enrich component and exports its receiver.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts, metrics: newMetrics()}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		if err := c.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	if opts.OnStateChange != nil {
		opts.OnStateChange(Exports{Receiver: c})
	}
	return c, nil
}

// Run waits for cancellation, then unregisters the metrics.
func (c *Component) Run(ctx context.Context) error {
	<-ctx.Done()
	if c.opts.Registerer != nil {
		c.metrics.unregister(c.opts.Registerer)
	}
	return nil
}

// Update rebuilds the index of targets from new arguments.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	targetLabels, metricLabels := a.matchPairs()
	idx := &index{
		metricLabels: metricLabels,
		byKey:        make(map[string]labels.Labels, len(a.Targets)),
		copy:         slices.Clone(a.LabelsToCopy),
		forward:      sample.Fanout(slices.Clone(a.ForwardTo)),
	}
	for _, t := range a.Targets {
		if k, ok := key(targetLabels, func(n string) string { return t[n] }); ok {
			// A later target with the same values wins, as in Alloy.
			idx.byKey[k] = t.Labels()
		}
	}
	c.mu.Lock()
	c.idx.Store(idx)
	c.mu.Unlock()
	c.metrics.cacheSize.Set(float64(len(idx.byKey)))
	return nil
}

// enrich returns ls with the matched target's labels set on it, or ls.
func (idx *index) enrich(ls labels.Labels, b *labels.Builder) labels.Labels {
	k, ok := key(idx.metricLabels, ls.Get)
	if !ok {
		return ls
	}
	t, ok := idx.byKey[k]
	if !ok {
		return ls
	}
	b.Reset(ls)
	if len(idx.copy) == 0 {
		t.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
	} else {
		for _, n := range idx.copy {
			if v := t.Get(n); v != "" {
				b.Set(n, v)
			}
		}
	}
	return b.Labels()
}

// Receive enriches b's series and forwards them, in their order. The
// batch given is not changed. Metadata names families, not series: it
// passes through.
func (c *Component) Receive(ctx context.Context, b *sample.Batch) error {
	idx := c.idx.Load()
	if len(idx.forward) == 0 {
		return nil
	}
	out := &sample.Batch{
		Samples:   make([]sample.Sample, len(b.Samples)),
		Exemplars: make([]sample.Exemplar, len(b.Exemplars)),
		Metadata:  b.Metadata,
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for i, s := range b.Samples {
		s.Labels = idx.enrich(s.Labels, lb)
		out.Samples[i] = s
	}
	for i, e := range b.Exemplars {
		e.Labels = idx.enrich(e.Labels, lb)
		out.Exemplars[i] = e
	}
	c.opts.LiveDebug.PublishBatch(out)
	start := time.Now()
	err := idx.forward.Receive(ctx, out)
	c.metrics.fanoutLatency.Observe(time.Since(start).Seconds())
	c.metrics.forwarded.Add(float64(len(out.Samples)))
	return err
}

// metrics are prometheus.enrich's self-metrics, under the names of
// Alloy's reference page.
type metrics struct {
	cacheSize     prometheus.Gauge
	forwarded     prometheus.Counter
	fanoutLatency prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		cacheSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "prometheus_target_cache_size",
			Help: "Total number of cached target entries.",
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prometheus_forwarded_samples_total",
			Help: "Total number of samples sent to downstream components.",
		}),
		fanoutLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                           "prometheus_fanout_latency",
			Help:                           "Time it takes to send a batch to the downstream components.",
			Buckets:                        prometheus.ExponentialBuckets(0.00001, 4, 10),
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.cacheSize, m.forwarded, m.fanoutLatency}
}

func (m *metrics) register(r prometheus.Registerer) error {
	for i, col := range m.collectors() {
		if err := r.Register(col); err != nil {
			for _, done := range m.collectors()[:i] {
				r.Unregister(done)
			}
			return err
		}
	}
	return nil
}

func (m *metrics) unregister(r prometheus.Registerer) {
	for _, col := range m.collectors() {
		r.Unregister(col)
	}
}
