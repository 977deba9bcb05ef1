package convert

import (
	"testing"

	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/shoal-dev/shoal/internal/sample"
)

// FuzzConvert converts whatever OTLP JSON decodes: it must never panic,
// every series must have a name, and every native histogram whose counts
// agree with its buckets must be valid.
func FuzzConvert(f *testing.F) {
	f.Add(payload(serviceResource, histogramJSON("h", "s", "0.25, 0.5", exemplarA)))
	f.Add(payload("", summaryJSON("s", "ms")))
	f.Add(payload("", sumJSON("c", "By/s", true, exemplarB)))
	f.Add(payload("", `{"name": "e", "exponential_histogram": {"aggregation_temporality": 2, "data_points": [
		{"time_unix_nano": 1, "scale": 12, "count": 3, "zero_count": 1, "positive": {"offset": -7, "bucket_counts": [1, 0, 0, 0, 1]}, "negative": {"offset": 3, "bucket_counts": [0]}}]}}`))
	f.Fuzz(func(t *testing.T, js string) {
		var u pmetric.JSONUnmarshaler
		md, err := u.UnmarshalMetrics([]byte(js))
		if err != nil {
			return
		}
		var b sample.Batch
		for _, opts := range []Options{{}, {AddMetricSuffixes: true, ResourceToTelemetryConversion: true, IncludeScopeInfo: true, IncludeTargetInfo: true, ConvertClassicHistogramsToNHCB: true, StartTimestampZeroIngestion: true, HonorMetadata: true}} {
			b.Reset()
			New(opts).Convert(md, &b)
			for _, s := range b.Samples {
				if !s.Labels.Has("__name__") {
					t.Fatalf("a series without a name: %v", s.Labels)
				}
				if s.H != nil && !value.IsStaleNaN(s.H.Sum) {
					var inBuckets uint64
					for it := s.H.ToFloat(nil).AllBucketIterator(); it.Next(); {
						inBuckets += uint64(it.At().Count)
					}
					if inBuckets == s.H.Count {
						if err := s.H.Validate(); err != nil {
							t.Fatalf("invalid histogram %v: %v", s.H, err)
						}
					}
				}
			}
		}
	})
}
