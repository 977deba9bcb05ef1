// Package sample defines the batches of samples that components pass to each
// other (scrape → relabel → remote write) and the Receiver interface through
// which they pass them. It owns no behaviour: encoding, queueing and sending
// belong to internal/remotewrite, producing samples to internal/scrape.
package sample

import (
	"context"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
)

// Sample is one value of one series at one time. Exactly one of V, H and FH
// is meaningful: H or FH is set for a native histogram sample, otherwise V.
// A staleness marker is V = math.Float64frombits(value.StaleNaN).
type Sample struct {
	Labels labels.Labels
	T      int64 // Unix milliseconds
	V      float64
	H      *histogram.Histogram
	FH     *histogram.FloatHistogram
	// ST is the start (created) timestamp of a counter or counter
	// histogram, in Unix milliseconds; 0 when unknown.
	ST int64
}

// Exemplar is one exemplar attached to the series named by Labels.
type Exemplar struct {
	Labels   labels.Labels
	Exemplar exemplar.Exemplar
}

// Metadata is the HELP, TYPE and UNIT of one metric family, as a target
// exposes them. Family is the family's name (what follows "# TYPE").
type Metadata struct {
	Family string
	Type   model.MetricType
	Help   string
	Unit   string
}

// Batch is the unit passed between components. Samples of one series appear
// in timestamp order. A receiver must not modify a batch, and must not keep
// the slices after Receive returns (labels are immutable and may be kept).
//
// Metadata holds the families whose metadata changed since the target's
// previous scrape (all of them on a target's first scrape): a producer
// sends it when it changes, not with every batch, and a receiver keeps
// what it needs. It passes through relabelling untouched.
type Batch struct {
	Samples   []Sample
	Exemplars []Exemplar
	Metadata  []Metadata
}

// Len is the number of samples and exemplars in b (metadata not counted).
func (b *Batch) Len() int {
	if b == nil {
		return 0
	}
	return len(b.Samples) + len(b.Exemplars)
}

// Reset empties b, keeping its capacity for reuse.
func (b *Batch) Reset() {
	clear(b.Samples)
	clear(b.Exemplars)
	clear(b.Metadata)
	b.Samples = b.Samples[:0]
	b.Exemplars = b.Exemplars[:0]
	b.Metadata = b.Metadata[:0]
}

// Receiver accepts batches. It is the Go value behind the `receiver` export
// of prometheus.relabel and prometheus.remote_write, and the element type of
// every `forward_to` list. Receive returns once the batch is safe: for
// remote write, once it is appended to the disk queue.
type Receiver interface {
	Receive(ctx context.Context, b *Batch) error
}

// ReceiverFunc adapts a function to Receiver.
type ReceiverFunc func(ctx context.Context, b *Batch) error

// Receive calls f.
func (f ReceiverFunc) Receive(ctx context.Context, b *Batch) error { return f(ctx, b) }

// Fanout sends each batch to every receiver in turn and returns the first
// error after trying them all.
type Fanout []Receiver

// Receive implements Receiver.
func (f Fanout) Receive(ctx context.Context, b *Batch) error {
	var first error
	for _, r := range f {
		if r == nil {
			continue
		}
		if err := r.Receive(ctx, b); err != nil && first == nil {
			first = err
		}
	}
	return first
}
