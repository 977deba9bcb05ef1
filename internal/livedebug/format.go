package livedebug

import (
	"context"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/value"

	"github.com/shoal-dev/shoal/internal/sample"
)

// PublishBatch publishes each sample and exemplar of b, rendered as Alloy
// renders them ("sample: ts=..., labels=..., value=...").
func (p *Publisher) PublishBatch(b *sample.Batch) {
	if !p.Active() || b.Len() == 0 {
		return
	}
	ns := len(b.Samples)
	p.Publish(b.Len(), func(i int) string {
		if i < ns {
			return FormatSample(&b.Samples[i])
		}
		e := &b.Exemplars[i-ns]
		return fmt.Sprintf("exemplar: ts=%d, labels=%s, exemplar_labels=%s, value=%f", e.Exemplar.Ts, e.Labels, e.Exemplar.Labels, e.Exemplar.Value)
	})
}

// FormatSample renders one sample as Alloy's live debugging does.
func FormatSample(s *sample.Sample) string {
	switch {
	case s.H != nil:
		return fmt.Sprintf("histogram: ts=%d, labels=%s, value=%s", s.T, s.Labels, s.H.String())
	case s.FH != nil:
		return fmt.Sprintf("float_histogram: ts=%d, labels=%s, value=%s", s.T, s.Labels, s.FH.String())
	case value.IsStaleNaN(s.V):
		return fmt.Sprintf("sample: ts=%d, labels=%s, value=stale", s.T, s.Labels)
	case math.IsNaN(s.V):
		return fmt.Sprintf("sample: ts=%d, labels=%s, value=NaN", s.T, s.Labels)
	}
	return fmt.Sprintf("sample: ts=%d, labels=%s, value=%f", s.T, s.Labels, s.V)
}

// Receiver wraps next so that every batch passing through is published
// first. While nobody watches it costs one atomic load per batch. The
// result is a pointer, so that exports holding it compare equal to
// themselves.
func (p *Publisher) Receiver(next sample.Receiver) sample.Receiver {
	if p == nil {
		return next
	}
	return &receiver{p: p, next: next}
}

type receiver struct {
	p    *Publisher
	next sample.Receiver
}

func (r *receiver) Receive(ctx context.Context, b *sample.Batch) error {
	r.p.PublishBatch(b)
	return r.next.Receive(ctx, b)
}

// PublishTargets publishes one line per target, each a label set.
func (p *Publisher) PublishTargets(n int, labelsOf func(i int) string) {
	if !p.Active() {
		return
	}
	p.Publish(n, func(i int) string { return "target: " + labelsOf(i) })
}
