// Package prometheus is the otelcol.exporter.prometheus component: it
// exports an otelcol `input` that takes OTLP metrics, converts them into
// Prometheus samples as Alloy does (package convert) and forwards them to
// prometheus receivers (prometheus.relabel, prometheus.remote_write) as one
// batch per OTLP request. Every gc_frequency it forgets the series not seen
// for five minutes, as Alloy does.
package prometheus

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/component/otelcol/exporter/prometheus/convert"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are otelcol.exporter.prometheus's, with Alloy's names and
// defaults.
type Arguments struct {
	IncludeTargetInfo                 bool              `alloy:"include_target_info,attr,optional"`
	IncludeScopeInfo                  bool              `alloy:"include_scope_info,attr,optional"`
	IncludeScopeLabels                bool              `alloy:"include_scope_labels,attr,optional"`
	GCFrequency                       time.Duration     `alloy:"gc_frequency,attr,optional"`
	ForwardTo                         []sample.Receiver `alloy:"forward_to,attr"`
	AddMetricSuffixes                 bool              `alloy:"add_metric_suffixes,attr,optional"`
	ResourceToTelemetryConversion     bool              `alloy:"resource_to_telemetry_conversion,attr,optional"`
	HonorMetadata                     bool              `alloy:"honor_metadata,attr,optional"`
	ConvertClassicHistogramsToNHCB    bool              `alloy:"convert_classic_histograms_to_nhcb,attr,optional"`
	KeepIdentifyingResourceAttributes bool              `alloy:"keep_identifying_resource_attributes,attr,optional"`
	StartTimestampZeroIngestion       bool              `alloy:"start_timestamp_zero_ingestion,attr,optional"`
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() {
	*a = Arguments{
		IncludeTargetInfo:  true,
		IncludeScopeLabels: true,
		GCFrequency:        5 * time.Minute,
		AddMetricSuffixes:  true,
	}
}

// Validate checks gc_frequency.
func (a *Arguments) Validate() error {
	if a.GCFrequency <= 0 {
		return errors.New("gc_frequency must be greater than 0")
	}
	return nil
}

// staleAfter is how long a series may go unseen before GC forgets it:
// five minutes whatever gc_frequency is, as in Alloy.
const staleAfter = 5 * time.Minute

// Options are the converter's options for a.
//
// include_scope_labels is not passed on: Alloy accepts it (default true)
// but its component never hands it to its converter, so no series of
// Alloy's carries otel_scope_name or otel_scope_version. shoal keeps the
// series Alloy makes, so that dashboards and recording rules keep working.
func (a Arguments) Options() convert.Options {
	return convert.Options{
		IncludeTargetInfo:                 a.IncludeTargetInfo,
		IncludeScopeInfo:                  a.IncludeScopeInfo,
		AddMetricSuffixes:                 a.AddMetricSuffixes,
		ResourceToTelemetryConversion:     a.ResourceToTelemetryConversion,
		HonorMetadata:                     a.HonorMetadata,
		ConvertClassicHistogramsToNHCB:    a.ConvertClassicHistogramsToNHCB,
		KeepIdentifyingResourceAttributes: a.KeepIdentifyingResourceAttributes,
		StartTimestampZeroIngestion:       a.StartTimestampZeroIngestion,
	}
}

// Component is a running otelcol.exporter.prometheus. It is the consumer
// it exports.
type Component struct {
	opts    component.Options
	conv    *convert.Converter
	forward atomic.Pointer[sample.Fanout]
	batches sync.Pool

	mu   sync.Mutex
	args Arguments
	kick chan struct{} // gc_frequency changed
}

var _ otelcol.Consumer = (*Component)(nil)

// New builds the component and exports its input.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts, conv: convert.New(args.Options()), kick: make(chan struct{}, 1)}
	c.batches.New = func() any { return &sample.Batch{} }
	if err := c.Update(args); err != nil {
		return nil, err
	}
	if opts.OnStateChange != nil {
		opts.OnStateChange(otelcol.ConsumerExports{Input: c})
	}
	return c, nil
}

// Run forgets stale series every gc_frequency until ctx is cancelled.
func (c *Component) Run(ctx context.Context) error {
	for {
		c.mu.Lock()
		every := c.args.GCFrequency
		c.mu.Unlock()
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-c.kick:
			t.Stop()
		case <-t.C:
			c.conv.GC(staleAfter)
		}
	}
}

// Update applies new arguments. The metadata already sent is sent again,
// since the receivers may have changed.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.args.GCFrequency != a.GCFrequency {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	c.args = a
	f := sample.Fanout(append([]sample.Receiver(nil), a.ForwardTo...))
	c.forward.Store(&f)
	c.conv.SetOptions(a.Options())
	return nil
}

// ConsumeMetrics converts md and forwards the samples as one batch; it
// returns once every receiver has taken it (for remote_write, once it is
// in the disk queue).
func (c *Component) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	b := c.batches.Get().(*sample.Batch)
	defer func() {
		b.Reset()
		c.batches.Put(b)
	}()
	c.conv.Convert(md, b)
	f := *c.forward.Load()
	if b.Len() == 0 && len(b.Metadata) == 0 || len(f) == 0 {
		return nil
	}
	c.opts.LiveDebug.PublishBatch(b)
	return f.Receive(ctx, b)
}

// Registration registers otelcol.exporter.prometheus.
var Registration = component.Registration{
	Name:      "otelcol.exporter.prometheus",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   otelcol.ConsumerExports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
