// Package otelcol holds what shoal's otelcol.* components share: the
// Consumer capsule that an `input` export carries and an `output` block's
// lists take, the output block itself, and the fan-out to its consumers.
//
// shoal handles OpenTelemetry metrics only. The output block accepts
// Alloy's `logs` and `traces` lists so that an Alloy config still loads,
// but nothing is ever sent to them: the components say so in their health.
// The components themselves live in receiver/, processor/ and exporter/.
package otelcol

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Consumer takes OTLP metrics. It is the Go value behind every otelcol
// component's `input` export, and the element type of the lists of an
// `output` block. ConsumeMetrics must not modify md, and must not keep it
// after returning.
type Consumer interface {
	ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error
}

// ConsumerFunc adapts a function to Consumer.
type ConsumerFunc func(ctx context.Context, md pmetric.Metrics) error

// ConsumeMetrics calls f.
func (f ConsumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return f(ctx, md)
}

// ConsumerExports are the exports of the processors and exporters: the
// consumer that takes their input.
type ConsumerExports struct {
	Input Consumer `alloy:"input,attr"`
}

// Output is the `output` block of receivers and processors, as in Alloy.
// Metrics go to every consumer of Metrics; Logs and Traces are accepted and
// unused, since shoal handles metrics only.
type Output struct {
	Metrics []Consumer `alloy:"metrics,attr,optional"`
	Logs    []Consumer `alloy:"logs,attr,optional"`
	Traces  []Consumer `alloy:"traces,attr,optional"`
}

// MetricsOnly is the health message of a component whose output block
// names logs or traces consumers: shoal drops those signals.
const MetricsOnly = "shoal handles OpenTelemetry metrics only: the logs and traces of this output block are not received or forwarded"

// IgnoresSignals reports whether o names logs or traces consumers, which
// shoal never feeds.
func (o *Output) IgnoresSignals() bool {
	return o != nil && (len(o.Logs) > 0 || len(o.Traces) > 0)
}

// Fanout sends metrics to each consumer in turn and returns the errors of
// all of them joined. Each consumer gets the same md: consumers must not
// modify what they are given.
type Fanout []Consumer

// ConsumeMetrics implements Consumer.
func (f Fanout) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	var errs []error
	for _, c := range f {
		if c == nil {
			continue
		}
		if err := c.ConsumeMetrics(ctx, md); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DebugMetrics is Alloy's `debug_metrics` block. shoal accepts it so that
// configs load; its components' own metrics do not depend on it.
type DebugMetrics struct {
	DisableHighCardinalityMetrics bool   `alloy:"disable_high_cardinality_metrics,attr,optional"`
	Level                         string `alloy:"level,attr,optional"`
}

// SetToDefault sets Alloy's defaults.
func (d *DebugMetrics) SetToDefault() {
	*d = DebugMetrics{DisableHighCardinalityMetrics: true, Level: "detailed"}
}

// Validate checks the level.
func (d *DebugMetrics) Validate() error {
	switch d.Level {
	case "none", "basic", "normal", "detailed":
		return nil
	}
	return errors.New(`level must be one of "none", "basic", "normal", "detailed"`)
}

type metadataKey struct{}

// WithMetadata returns ctx carrying the client metadata of a request (its
// HTTP headers or gRPC metadata, keys in lower case), which a receiver with
// include_metadata passes on and otelcol.processor.batch's metadata_keys
// batch by.
func WithMetadata(ctx context.Context, md map[string][]string) context.Context {
	return context.WithValue(ctx, metadataKey{}, md)
}

// Metadata returns the client metadata that ctx carries, or nil.
func Metadata(ctx context.Context) map[string][]string {
	md, _ := ctx.Value(metadataKey{}).(map[string][]string)
	return md
}
