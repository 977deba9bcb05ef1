package lab

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/prompb"
)

// BenchmarkReceiverApply measures the counting receiver on requests of 500
// series with one new sample each, the shape a remote-write shard sends: it
// must stay far below the cost of the fleet it measures.
func BenchmarkReceiverApply(b *testing.B) {
	r := &Receiver{series: map[string]*receiverSeries{}}
	wr := &prompb.WriteRequest{}
	for s := range 500 {
		wr.Timeseries = append(wr.Timeseries, series("lab_requests_total", fmt.Sprintf("127.0.0.1:%d", 10000+s), smp(0, 0)))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for j := range wr.Timeseries {
			wr.Timeseries[j].Samples[0] = smp(int64(i+1)*1000, float64(i))
		}
		if rejects, err := r.Apply(wr); err != nil || len(rejects) > 0 {
			b.Fatal(err, rejects)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkTargetExposition measures rendering one scrape of a target with
// 100 series.
func BenchmarkTargetExposition(b *testing.B) {
	t := &target{}
	for s := range 100 {
		t.series = append(t.series, seriesLine{name: fmt.Sprintf("lab_requests_total{series=\"%d\"}", s), counter: s%2 == 0, step: 1})
	}
	b.ReportAllocs()
	for range b.N {
		_ = t.exposition()
	}
}
