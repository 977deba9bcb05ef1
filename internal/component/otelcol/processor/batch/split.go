package batch

import "go.opentelemetry.io/collector/pdata/pmetric"

// points is the number of data points of m, what batch sizes count.
func points(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}

// split moves the first n data points of src into a new Metrics, keeping
// their resources, scopes and metric descriptions, and returns it. What
// is left in src keeps its order.
func split(n int, src pmetric.Metrics) pmetric.Metrics {
	dst := pmetric.NewMetrics()
	src.ResourceMetrics().RemoveIf(func(rm pmetric.ResourceMetrics) bool {
		if n == 0 {
			return false
		}
		drm := dst.ResourceMetrics().AppendEmpty()
		rm.Resource().CopyTo(drm.Resource())
		drm.SetSchemaUrl(rm.SchemaUrl())
		rm.ScopeMetrics().RemoveIf(func(sm pmetric.ScopeMetrics) bool {
			if n == 0 {
				return false
			}
			dsm := drm.ScopeMetrics().AppendEmpty()
			sm.Scope().CopyTo(dsm.Scope())
			dsm.SetSchemaUrl(sm.SchemaUrl())
			sm.Metrics().RemoveIf(func(m pmetric.Metric) bool {
				if n == 0 {
					return false
				}
				if c := points(m); c <= n {
					n -= c
					m.MoveTo(dsm.Metrics().AppendEmpty())
					return true
				}
				dm := dsm.Metrics().AppendEmpty()
				movePoints(n, m, dm)
				n = 0
				return false
			})
			return sm.Metrics().Len() == 0
		})
		return rm.ScopeMetrics().Len() == 0
	})
	return dst
}

// movePoints moves the first n data points of m (which has more) into dst,
// giving dst m's name, description, unit, metadata and kind.
func movePoints(n int, m, dst pmetric.Metric) {
	dst.SetName(m.Name())
	dst.SetDescription(m.Description())
	dst.SetUnit(m.Unit())
	m.Metadata().CopyTo(dst.Metadata())
	i := 0
	first := func() bool { i++; return i <= n }
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		d := dst.SetEmptyGauge().DataPoints()
		m.Gauge().DataPoints().RemoveIf(func(p pmetric.NumberDataPoint) bool {
			if !first() {
				return false
			}
			p.MoveTo(d.AppendEmpty())
			return true
		})
	case pmetric.MetricTypeSum:
		s := dst.SetEmptySum()
		s.SetAggregationTemporality(m.Sum().AggregationTemporality())
		s.SetIsMonotonic(m.Sum().IsMonotonic())
		m.Sum().DataPoints().RemoveIf(func(p pmetric.NumberDataPoint) bool {
			if !first() {
				return false
			}
			p.MoveTo(s.DataPoints().AppendEmpty())
			return true
		})
	case pmetric.MetricTypeHistogram:
		h := dst.SetEmptyHistogram()
		h.SetAggregationTemporality(m.Histogram().AggregationTemporality())
		m.Histogram().DataPoints().RemoveIf(func(p pmetric.HistogramDataPoint) bool {
			if !first() {
				return false
			}
			p.MoveTo(h.DataPoints().AppendEmpty())
			return true
		})
	case pmetric.MetricTypeExponentialHistogram:
		h := dst.SetEmptyExponentialHistogram()
		h.SetAggregationTemporality(m.ExponentialHistogram().AggregationTemporality())
		m.ExponentialHistogram().DataPoints().RemoveIf(func(p pmetric.ExponentialHistogramDataPoint) bool {
			if !first() {
				return false
			}
			p.MoveTo(h.DataPoints().AppendEmpty())
			return true
		})
	case pmetric.MetricTypeSummary:
		s := dst.SetEmptySummary()
		m.Summary().DataPoints().RemoveIf(func(p pmetric.SummaryDataPoint) bool {
			if !first() {
				return false
			}
			p.MoveTo(s.DataPoints().AppendEmpty())
			return true
		})
	}
}
