// Package otelcoltest helps test the otelcol components: a Sink consumer
// that keeps what it is given and can be told to fail, and a small OTLP
// payload. It is for tests only.
package otelcoltest

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Sink is an otelcol.Consumer that keeps copies of what it consumes.
type Sink struct {
	mu   sync.Mutex
	got  []pmetric.Metrics
	fail error
}

// ConsumeMetrics keeps a copy of md, or returns the error set with Fail.
func (s *Sink) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	c := pmetric.NewMetrics()
	md.CopyTo(c)
	s.got = append(s.got, c)
	return nil
}

// Fail makes every later ConsumeMetrics return err (nil: succeed again).
func (s *Sink) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// All returns what was consumed, oldest first.
func (s *Sink) All() []pmetric.Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]pmetric.Metrics(nil), s.got...)
}

// Points is the number of data points consumed in all.
func (s *Sink) Points() int {
	n := 0
	for _, m := range s.All() {
		n += m.DataPointCount()
	}
	return n
}

// Gauges returns metrics holding n gauges named name with one point each,
// of resource service.name=svc.
func Gauges(name string, n int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "svc")
	sm := rm.ScopeMetrics().AppendEmpty()
	for i := 0; i < n; i++ {
		m := sm.Metrics().AppendEmpty()
		m.SetName(name)
		p := m.SetEmptyGauge().DataPoints().AppendEmpty()
		p.SetIntValue(int64(i))
		p.Attributes().PutInt("i", int64(i))
	}
	return md
}
