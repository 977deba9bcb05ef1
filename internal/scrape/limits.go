package scrape

import (
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
)

// The limit errors, worded as Prometheus words them, since users search
// for these texts.
var (
	errSampleLimit        = errors.New("sample limit exceeded")
	errBucketLimit        = errors.New("histogram bucket limit exceeded")
	errNameLabelMandatory = fmt.Errorf("missing metric name (%s label)", model.MetricNameLabel)
)

// labelLimitError is a label limit exceeded, counted apart from the rest.
type labelLimitError struct{ msg string }

func (e *labelLimitError) Error() string { return e.msg }

func labelLimitf(format string, args ...any) error {
	return &labelLimitError{msg: fmt.Sprintf(format, args...)}
}

// limits are the per-scrape limits of a target; zero means unlimited.
type limits struct {
	sample   int
	labels   int
	nameLen  int
	valueLen int
	buckets  int
	// maxSchema is the finest native histogram schema kept, from
	// native_histogram_min_bucket_factor.
	maxSchema int32
}

func newLimits(cfg *Config) limits {
	return limits{
		sample:    cfg.SampleLimit,
		labels:    cfg.LabelLimit,
		nameLen:   cfg.LabelNameLengthLimit,
		valueLen:  cfg.LabelValueLengthLimit,
		buckets:   cfg.NativeHistogramBucketLimit,
		maxSchema: schemaForFactor(cfg.NativeHistogramMinBucketFactor),
	}
}

// schemaForFactor returns the finest exponential schema whose buckets grow
// by at least factor: a bucket of schema s grows by 2^(2^-s).
func schemaForFactor(factor float64) int32 {
	if factor <= 1 {
		return histogram.ExponentialSchemaMax
	}
	s := math.Floor(-math.Log2(math.Log2(factor)))
	switch {
	case s >= float64(histogram.ExponentialSchemaMax):
		return histogram.ExponentialSchemaMax
	case s <= float64(histogram.ExponentialSchemaMin):
		return histogram.ExponentialSchemaMin
	}
	return int32(s)
}

// checkLabels fails a series whose labels exceed label_limit,
// label_name_length_limit or label_value_length_limit.
func (l *limits) checkLabels(lset labels.Labels) error {
	if l.labels > 0 {
		if n := lset.Len(); n > l.labels {
			return labelLimitf("label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)", lset.Get(model.MetricNameLabel), n, l.labels)
		}
	}
	if l.nameLen <= 0 && l.valueLen <= 0 {
		return nil
	}
	return lset.Validate(func(lb labels.Label) error {
		if l.nameLen > 0 && len(lb.Name) > l.nameLen {
			return labelLimitf("label_name_length_limit exceeded (metric: %.50s, label name: %.50s, length: %d, limit: %d)",
				lset.Get(model.MetricNameLabel), lb.Name, len(lb.Name), l.nameLen)
		}
		if l.valueLen > 0 && len(lb.Value) > l.valueLen {
			return labelLimitf("label_value_length_limit exceeded (metric: %.50s, label name: %.50s, value: %.50q, length: %d, limit: %d)",
				lset.Get(model.MetricNameLabel), lb.Name, lb.Value, len(lb.Value), l.valueLen)
		}
		return nil
	})
}

// fitHistogram lowers a native histogram's resolution to the maximum schema
// and then until it has no more buckets than the limit. A histogram that
// cannot be brought under the limit fails with errBucketLimit.
func (l *limits) fitHistogram(h *histogram.Histogram, fh *histogram.FloatHistogram) error {
	if h != nil {
		if histogram.IsExponentialSchemaReserved(h.Schema) && h.Schema > l.maxSchema {
			if err := h.ReduceResolution(l.maxSchema); err != nil {
				return err
			}
		}
		if l.buckets > 0 {
			for len(h.PositiveBuckets)+len(h.NegativeBuckets) > l.buckets {
				if !histogram.IsExponentialSchema(h.Schema) || h.Schema <= histogram.ExponentialSchemaMin {
					return errBucketLimit
				}
				if err := h.ReduceResolution(h.Schema - 1); err != nil {
					return err
				}
			}
		}
	}
	if fh != nil {
		if histogram.IsExponentialSchemaReserved(fh.Schema) && fh.Schema > l.maxSchema {
			if err := fh.ReduceResolution(l.maxSchema); err != nil {
				return err
			}
		}
		if l.buckets > 0 {
			for len(fh.PositiveBuckets)+len(fh.NegativeBuckets) > l.buckets {
				if !histogram.IsExponentialSchema(fh.Schema) || fh.Schema <= histogram.ExponentialSchemaMin {
					return errBucketLimit
				}
				if err := fh.ReduceResolution(fh.Schema - 1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
