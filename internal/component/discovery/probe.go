package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	promdiscovery "github.com/prometheus/prometheus/discovery"
)

// A probe watches one prometheus discoverer from the outside. Prometheus'
// discoverers send target groups but never say "this refresh is complete"
// or "this refresh failed": they count refreshes and failures in metrics
// and log errors. The probe taps exactly those three outlets (the refresh
// metrics, the discoverer's own metrics, its logger) so that the component
// can tell when the first complete refresh has finished and whether the
// last one failed, without forking the discoverers.
type probe struct {
	// notify receives a value, coalesced, whenever a counter below moves.
	notify chan struct{}
	// metrics holds the discoverer's own collectors, besides the real
	// registerer, so that they can be read by name.
	metrics *prometheus.Registry
	// warn logs a registration problem of the real registerer.
	warn func(msg string, args ...any)

	mu sync.Mutex
	st probeState
}

// probeState is a snapshot of what a probe has seen. Counters only grow.
type probeState struct {
	// refreshBased is set when the discoverer uses prometheus' refresh
	// package (http, dns, ...), which is then the source of refreshes and
	// failures.
	refreshBased bool
	refreshes    uint64 // refresh-package refreshes finished, failed or not
	failures     uint64 // refresh-package refreshes that failed
	errors       uint64 // error-level log records
	lastError    string // the text of the last one

	// Read from the discoverer's own metrics by gather.
	scans   uint64 // observations of Mechanism.ScanMetric
	counted uint64 // sum of Mechanism.FailureMetrics
}

func newProbe(warn func(msg string, args ...any)) *probe {
	return &probe{
		notify:  make(chan struct{}, 1),
		metrics: prometheus.NewRegistry(),
		warn:    warn,
	}
}

func (p *probe) poke() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// state returns what the probe has seen so far, with the discoverer's
// metrics named in m read now.
func (p *probe) state(m Mechanism) probeState {
	p.mu.Lock()
	st := p.st
	p.mu.Unlock()
	if m.ScanMetric == "" && len(m.FailureMetrics) == 0 {
		return st
	}
	mfs, err := p.metrics.Gather()
	if err != nil {
		p.warn("reading discovery metrics", "err", err)
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if name == m.ScanMetric {
			for _, mt := range mf.GetMetric() {
				switch {
				case mt.GetSummary() != nil:
					st.scans += mt.GetSummary().GetSampleCount()
				case mt.GetHistogram() != nil:
					st.scans += mt.GetHistogram().GetSampleCount()
				}
			}
		}
		for _, fm := range m.FailureMetrics {
			if name != fm {
				continue
			}
			for _, mt := range mf.GetMetric() {
				st.counted += uint64(mt.GetCounter().GetValue())
			}
		}
	}
	return st
}

// registerer returns the registerer to hand the discoverer: it registers
// into next, for /metrics, and into the probe's own registry, for reading.
func (p *probe) registerer(next prometheus.Registerer) prometheus.Registerer {
	return &teeRegisterer{p: p, next: next}
}

type teeRegisterer struct {
	p    *probe
	next prometheus.Registerer
}

func (t *teeRegisterer) Register(c prometheus.Collector) error {
	if err := t.p.metrics.Register(c); err != nil {
		return err
	}
	if t.next == nil {
		return nil
	}
	// A clash in the shared registerer costs the user some metrics, not
	// the discovery: keep going, and keep the probe's copy.
	if err := t.next.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			t.p.warn("registering discovery metrics", "err", err)
		}
	}
	return nil
}

func (t *teeRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *teeRegisterer) Unregister(c prometheus.Collector) bool {
	ok := t.p.metrics.Unregister(c)
	if t.next != nil {
		t.next.Unregister(c)
	}
	return ok
}

// instantiator wraps the refresh metrics so that the probe sees each
// refresh end (the duration is observed as the refresh function returns,
// before its groups are sent) and each failure (counted before that).
func (p *probe) instantiator(next promdiscovery.RefreshMetricsInstantiator) promdiscovery.RefreshMetricsInstantiator {
	return instantiatorFunc(func(mech, setName string) *promdiscovery.RefreshMetrics {
		p.mu.Lock()
		p.st.refreshBased = true
		p.mu.Unlock()
		m := next.Instantiate(mech, setName)
		return &promdiscovery.RefreshMetrics{
			Failures:          &tapCounter{Counter: m.Failures, p: p},
			Duration:          &tapObserver{Observer: m.Duration, p: p},
			DurationHistogram: m.DurationHistogram,
		}
	})
}

type instantiatorFunc func(mech, setName string) *promdiscovery.RefreshMetrics

func (f instantiatorFunc) Instantiate(mech, setName string) *promdiscovery.RefreshMetrics {
	return f(mech, setName)
}

type tapCounter struct {
	prometheus.Counter
	p *probe
}

func (c *tapCounter) Inc() { c.Add(1) }

func (c *tapCounter) Add(v float64) {
	c.Counter.Add(v)
	c.p.mu.Lock()
	c.p.st.failures++
	c.p.mu.Unlock()
	c.p.poke()
}

type tapObserver struct {
	prometheus.Observer
	p *probe
}

func (o *tapObserver) Observe(v float64) {
	o.Observer.Observe(v)
	o.p.mu.Lock()
	o.p.st.refreshes++
	o.p.mu.Unlock()
	o.p.poke()
}

// handler wraps the discoverer's log handler: error records still go to
// next, and their text becomes the health message of a failed refresh.
func (p *probe) handler(next slog.Handler) slog.Handler {
	return &tapHandler{p: p, next: next}
}

type tapHandler struct {
	p     *probe
	next  slog.Handler
	attrs []slog.Attr
}

func (h *tapHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h *tapHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		var b strings.Builder
		b.WriteString(r.Message)
		sep := ": "
		write := func(a slog.Attr) bool {
			fmt.Fprintf(&b, "%s%s=%v", sep, a.Key, a.Value)
			sep = " "
			return true
		}
		for _, a := range h.attrs {
			write(a)
		}
		r.Attrs(write)
		h.p.mu.Lock()
		h.p.st.errors++
		h.p.st.lastError = b.String()
		h.p.mu.Unlock()
		h.p.poke()
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *tapHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &tapHandler{p: h.p, next: h.next.WithAttrs(as), attrs: append(h.attrs[:len(h.attrs):len(h.attrs)], as...)}
}

func (h *tapHandler) WithGroup(name string) slog.Handler {
	return &tapHandler{p: h.p, next: h.next.WithGroup(name), attrs: h.attrs}
}
