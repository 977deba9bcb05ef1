// Package batch is the otelcol.processor.batch component: it gathers the
// OTLP metrics it is given into batches of send_batch_size data points, or
// whatever arrived within timeout, splits batches larger than
// send_batch_max_size, and sends them to its output block's metrics
// consumers. With metadata_keys it keeps one batch per distinct set of
// values of those client metadata keys (at most
// metadata_cardinality_limit of them), as Alloy does.
//
// A batch that fills is sent by the request that filled it, which waits
// for the consumers; a batch sent on timeout is sent by the component's
// own goroutine, and an error then is logged.
package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are otelcol.processor.batch's, with Alloy's names and defaults.
type Arguments struct {
	Timeout                  time.Duration        `alloy:"timeout,attr,optional"`
	SendBatchSize            uint32               `alloy:"send_batch_size,attr,optional"`
	SendBatchMaxSize         uint32               `alloy:"send_batch_max_size,attr,optional"`
	MetadataKeys             []string             `alloy:"metadata_keys,attr,optional"`
	MetadataCardinalityLimit uint32               `alloy:"metadata_cardinality_limit,attr,optional"`
	Output                   *otelcol.Output      `alloy:"output,block"`
	DebugMetrics             otelcol.DebugMetrics `alloy:"debug_metrics,block,optional"`
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() {
	*a = Arguments{
		Timeout:                  200 * time.Millisecond,
		SendBatchSize:            2000,
		SendBatchMaxSize:         3000,
		MetadataCardinalityLimit: 1000,
	}
	a.DebugMetrics.SetToDefault()
}

// Validate checks the sizes as Alloy does.
func (a *Arguments) Validate() error {
	if a.SendBatchMaxSize > 0 && a.SendBatchMaxSize < a.SendBatchSize {
		return errors.New("send_batch_max_size must be greater or equal to send_batch_size when not 0")
	}
	if a.Timeout < 0 {
		return errors.New("timeout must not be negative")
	}
	return nil
}

// pending is one batch being gathered: all of it, or that of one set of
// metadata values.
type pending struct {
	md    pmetric.Metrics
	n     int
	since time.Time
	ctx   context.Context // carries the metadata of the batch
}

// Component is a running otelcol.processor.batch. It is the consumer it
// exports.
type Component struct {
	opts component.Options

	mu      sync.Mutex
	args    Arguments
	next    otelcol.Fanout
	batches map[string]*pending
	wake    chan struct{}
}

var (
	_ otelcol.Consumer          = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// New builds the component and exports its input.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts, batches: map[string]*pending{}, wake: make(chan struct{}, 1)}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	if opts.OnStateChange != nil {
		opts.OnStateChange(otelcol.ConsumerExports{Input: c})
	}
	return c, nil
}

// Update applies new arguments; batches already gathered are kept.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.args = a
	c.next = nil
	if a.Output != nil {
		c.next = append(otelcol.Fanout(nil), a.Output.Metrics...)
		if a.Output.IgnoresSignals() {
			c.opts.Logger.Warn(otelcol.MetricsOnly)
		}
	}
	c.mu.Unlock()
	c.poke()
	return nil
}

// CurrentHealth says when the output block names logs or traces consumers,
// which get nothing.
func (c *Component) CurrentHealth() component.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.args.Output.IgnoresSignals() {
		return component.Health{State: component.HealthHealthy, Message: otelcol.MetricsOnly}
	}
	return component.Health{State: component.HealthHealthy}
}

func (c *Component) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// key is the batch md joins: the values of the metadata keys, in order.
func (c *Component) key(ctx context.Context) (string, context.Context) {
	if len(c.args.MetadataKeys) == 0 {
		return "", ctx
	}
	all := otelcol.Metadata(ctx)
	kept := make(map[string][]string, len(c.args.MetadataKeys))
	var b strings.Builder
	for _, k := range c.args.MetadataKeys {
		k = strings.ToLower(k)
		vs := all[k]
		kept[k] = vs
		fmt.Fprintf(&b, "%q=%q;", k, vs)
	}
	return b.String(), otelcol.WithMetadata(context.Background(), kept)
}

// ConsumeMetrics adds md to its batch, and sends the batch if it is full.
func (c *Component) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	n := md.DataPointCount()
	if n == 0 {
		return nil
	}
	c.mu.Lock()
	key, bctx := c.key(ctx)
	p := c.batches[key]
	if p == nil {
		if limit := c.args.MetadataCardinalityLimit; limit > 0 && len(c.args.MetadataKeys) > 0 && len(c.batches) >= int(limit) {
			c.mu.Unlock()
			return fmt.Errorf("too many batcher metadata-value combinations: the limit is %d", limit)
		}
		p = &pending{md: pmetric.NewMetrics(), since: time.Now(), ctx: bctx}
		c.batches[key] = p
	}
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		md.ResourceMetrics().At(i).CopyTo(p.md.ResourceMetrics().AppendEmpty())
	}
	p.n += n
	var out []pmetric.Metrics
	if c.args.Timeout == 0 {
		out = c.take(key, p, false)
	} else if p.n >= int(c.args.SendBatchSize) {
		out = c.take(key, p, true)
	}
	next := c.next
	c.mu.Unlock()
	c.poke()
	var errs []error
	for _, m := range out {
		errs = append(errs, next.ConsumeMetrics(p.ctx, m))
	}
	return errors.Join(errs...)
}

// take removes from the batch under key what is to be sent, in pieces of
// at most send_batch_max_size data points. With bySize it takes pieces
// only while the batch holds send_batch_size points, as the collector
// does: the rest waits for a new timeout. Otherwise it takes everything.
// c.mu is held.
func (c *Component) take(key string, p *pending, bySize bool) []pmetric.Metrics {
	max := int(c.args.SendBatchMaxSize)
	var out []pmetric.Metrics
	for p.n > 0 && (!bySize || p.n >= int(c.args.SendBatchSize)) {
		if max == 0 || p.n <= max {
			out = append(out, p.md)
			p.md, p.n = pmetric.NewMetrics(), 0
			break
		}
		out = append(out, split(max, p.md))
		p.n -= max
	}
	if p.n == 0 {
		delete(c.batches, key)
	} else {
		p.since = time.Now()
	}
	return out
}

// Run sends the batches whose timeout has passed until ctx is cancelled;
// then it sends what is left.
func (c *Component) Run(ctx context.Context) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		due, wait := c.due(time.Now(), false)
		c.send(due)
		if wait > 0 {
			t.Reset(wait)
		}
		select {
		case <-ctx.Done():
			due, _ := c.due(time.Now(), true)
			c.send(due)
			return nil
		case <-c.wake:
		case <-t.C:
		}
	}
}

type sendable struct {
	ctx context.Context
	md  pmetric.Metrics
}

// due takes the batches whose timeout has passed (all with flush), and
// says how long until the next one is due (0: none pending).
func (c *Component) due(now time.Time, flush bool) ([]sendable, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sendable
	var wait time.Duration
	keys := make([]string, 0, len(c.batches))
	for k := range c.batches {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := c.batches[k]
		left := p.since.Add(c.args.Timeout).Sub(now)
		if flush || left <= 0 {
			for _, m := range c.take(k, p, false) {
				out = append(out, sendable{p.ctx, m})
			}
			continue
		}
		if wait == 0 || left < wait {
			wait = left
		}
	}
	return out, wait
}

func (c *Component) send(batches []sendable) {
	if len(batches) == 0 {
		return
	}
	c.mu.Lock()
	next := c.next
	c.mu.Unlock()
	for _, b := range batches {
		if err := next.ConsumeMetrics(b.ctx, b.md); err != nil {
			c.opts.Logger.Error("sending a batch failed", "err", err)
		}
	}
}

// Registration registers otelcol.processor.batch.
var Registration = component.Registration{
	Name:      "otelcol.processor.batch",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   otelcol.ConsumerExports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
