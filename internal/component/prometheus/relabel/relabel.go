// Package relabel is the prometheus.relabel component: it applies `rule`
// blocks to the series of every batch it receives and forwards what is
// kept to its forward_to receivers. Results are cached by label set, so a
// steady stream of series costs a hash and a lookup per sample.
//
// It owns the relabelling of samples and its cache. The rule block is
// internal/component/common/relabel; applying a rule is prometheus'
// relabel.ProcessBuilder; batches and receivers are internal/sample.
package relabel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	promrelabel "github.com/prometheus/prometheus/model/relabel"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are prometheus.relabel's arguments.
type Arguments struct {
	ForwardTo    []sample.Receiver `alloy:"forward_to,attr"`
	Rules        []relabel.Config  `alloy:"rule,block,optional"`
	MaxCacheSize int               `alloy:"max_cache_size,attr,optional"`
	CacheTTL     time.Duration     `alloy:"cache_ttl,attr,optional"`
}

// DefaultMaxCacheSize is Alloy's default cache bound.
const DefaultMaxCacheSize = 100_000

// SetToDefault sets Alloy's defaults: a cache of 100,000 label sets.
func (a *Arguments) SetToDefault() { *a = Arguments{MaxCacheSize: DefaultMaxCacheSize} }

// Validate checks the rules and the cache bounds: a size, an idle time, or
// both (then whichever bites first).
func (a *Arguments) Validate() error {
	if a.MaxCacheSize < 0 {
		return fmt.Errorf("max_cache_size must not be negative, got %d", a.MaxCacheSize)
	}
	if a.CacheTTL < 0 {
		return fmt.Errorf("cache_ttl must not be negative, got %s", a.CacheTTL)
	}
	if a.MaxCacheSize == 0 && a.CacheTTL == 0 {
		return errors.New("max_cache_size must be greater than 0 when cache_ttl is not set")
	}
	_, err := relabel.Rules(a.Rules).Prometheus()
	return err
}

// Exports are prometheus.relabel's exports.
type Exports struct {
	Receiver sample.Receiver `alloy:"receiver,attr"`
	Rules    relabel.Rules   `alloy:"rules,attr"`
}

// Component is a running prometheus.relabel. It is the Receiver it
// exports.
type Component struct {
	opts    component.Options
	metrics *metrics
	batches sync.Pool // of *sample.Batch, the forwarded copies

	state atomic.Pointer[state]

	mu   sync.Mutex // serialises Update
	args Arguments
}

// state is what Receive needs, swapped whole by Update.
type state struct {
	rules   []*promrelabel.Config
	forward sample.Fanout
	cache   *cache
}

var (
	_ component.Component = (*Component)(nil)
	_ sample.Receiver     = (*Component)(nil)
)

// New builds a prometheus.relabel component and exports its receiver.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts}
	c.batches.New = func() any { return &sample.Batch{} }
	c.metrics = newMetrics(func() float64 {
		if st := c.state.Load(); st != nil {
			return float64(st.cache.len())
		}
		return 0
	})
	if err := c.Update(args); err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		if err := c.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}
	return c, nil
}

// Run sweeps idle cache entries when cache_ttl is set, until ctx is
// cancelled; then it unregisters the metrics.
func (c *Component) Run(ctx context.Context) error {
	defer func() {
		if c.opts.Registerer != nil {
			c.metrics.unregister(c.opts.Registerer)
		}
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			c.state.Load().cache.sweep(now.UnixNano())
		}
	}
}

// Update applies new arguments. The cache is kept unless the rules or the
// cache bounds changed.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	rules, err := relabel.Rules(a.Rules).Prometheus()
	if err != nil {
		return err
	}
	c.mu.Lock()
	old, prev := c.state.Load(), c.args
	st := &state{rules: rules, forward: sample.Fanout(append([]sample.Receiver(nil), a.ForwardTo...))}
	rulesChanged := old == nil || !equalRules(prev.Rules, a.Rules)
	if rulesChanged || prev.MaxCacheSize != a.MaxCacheSize || prev.CacheTTL != a.CacheTTL {
		st.cache = newCache(a.MaxCacheSize, int64(a.CacheTTL))
	} else {
		st.cache = old.cache
	}
	c.state.Store(st)
	c.args = a
	c.mu.Unlock()

	if rulesChanged && c.opts.OnStateChange != nil {
		c.opts.OnStateChange(Exports{Receiver: c, Rules: append(relabel.Rules(nil), a.Rules...)})
	}
	return nil
}

func equalRules(a, b []relabel.Config) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Separator != y.Separator || x.Regex != y.Regex || x.Modulus != y.Modulus ||
			x.TargetLabel != y.TargetLabel || x.Replacement != y.Replacement || x.Action != y.Action ||
			len(x.SourceLabels) != len(y.SourceLabels) {
			return false
		}
		for j := range x.SourceLabels {
			if x.SourceLabels[j] != y.SourceLabels[j] {
				return false
			}
		}
	}
	return true
}

// Receive relabels b and forwards the series that are kept, in their
// order. Staleness markers are relabelled like any sample, so a dropped
// series drops its markers too. Nothing is forwarded when nothing is kept.
func (c *Component) Receive(ctx context.Context, b *sample.Batch) error {
	st := c.state.Load()
	m := c.metrics
	if len(st.rules) == 0 {
		// Nothing to relabel: pass the batch on as it is.
		m.processed.Add(float64(len(b.Samples)))
		m.written.Add(float64(len(b.Samples)))
		return c.forward(ctx, st, b)
	}

	out := c.batches.Get().(*sample.Batch)
	defer func() {
		out.Reset()
		c.batches.Put(out)
	}()

	now := time.Now().UnixNano()
	var hits, misses int
	var lb *labels.Builder // only needed on a cache miss
	relabelled := func(ls labels.Labels) (labels.Labels, bool) {
		h := ls.Hash()
		if res, keep, ok := st.cache.get(h, ls, now); ok {
			hits++
			return res, keep
		}
		misses++
		if lb == nil {
			lb = labels.NewBuilder(ls)
		} else {
			lb.Reset(ls)
		}
		keep := promrelabel.ProcessBuilder(lb, st.rules...)
		res := labels.EmptyLabels()
		if keep {
			res = lb.Labels()
			keep = !res.IsEmpty()
		}
		st.cache.put(h, ls, res, keep, now)
		return res, keep
	}

	for i := range b.Samples {
		s := &b.Samples[i]
		ls, keep := relabelled(s.Labels)
		if !keep {
			continue
		}
		out.Samples = append(out.Samples, sample.Sample{Labels: ls, T: s.T, V: s.V, H: s.H, FH: s.FH, ST: s.ST})
	}
	for i := range b.Exemplars {
		e := &b.Exemplars[i]
		ls, keep := relabelled(e.Labels)
		if !keep {
			continue
		}
		out.Exemplars = append(out.Exemplars, sample.Exemplar{Labels: ls, Exemplar: e.Exemplar})
	}

	// Metadata names families, not series: it passes through.
	out.Metadata = append(out.Metadata, b.Metadata...)
	m.processed.Add(float64(len(b.Samples)))
	m.written.Add(float64(len(out.Samples)))
	m.hits.Add(float64(hits))
	m.misses.Add(float64(misses))
	return c.forward(ctx, st, out)
}

func (c *Component) forward(ctx context.Context, st *state, b *sample.Batch) error {
	if b.Len() == 0 && len(b.Metadata) == 0 || len(st.forward) == 0 {
		return nil
	}
	c.opts.LiveDebug.PublishBatch(b)
	start := time.Now()
	err := st.forward.Receive(ctx, b)
	c.metrics.fanoutLatency.Observe(time.Since(start).Seconds())
	c.metrics.forwarded.Add(float64(len(b.Samples)))
	return err
}

// Registration registers prometheus.relabel.
var Registration = component.Registration{
	Name:      "prometheus.relabel",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}

// metrics are prometheus.relabel's self-metrics, under Alloy's names.
type metrics struct {
	processed, written, hits, misses prometheus.Counter
	forwarded                        prometheus.Counter
	cacheSize                        prometheus.GaugeFunc
	fanoutLatency                    prometheus.Histogram
}

func newMetrics(cacheSize func() float64) *metrics {
	return &metrics{
		processed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prometheus_relabel_metrics_processed",
			Help: "Total number of samples processed by relabelling.",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prometheus_relabel_metrics_written",
			Help: "Total number of samples kept by relabelling and written onward.",
		}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prometheus_relabel_cache_hits",
			Help: "Total number of relabel cache hits.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "prometheus_relabel_cache_misses",
			Help: "Total number of relabel cache misses.",
		}),
		cacheSize: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "prometheus_relabel_cache_size",
			Help: "Number of label sets in the relabel cache.",
		}, cacheSize),
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
	return []prometheus.Collector{m.processed, m.written, m.hits, m.misses, m.cacheSize, m.forwarded, m.fanoutLatency}
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
