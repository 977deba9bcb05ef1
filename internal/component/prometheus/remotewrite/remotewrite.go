// Package remotewrite is the prometheus.remote_write component: it decodes
// Alloy's arguments (external_labels, endpoint blocks with queue_config,
// auth, tls_config and write_relabel_config, and the wal block), runs the
// remote-write engine of internal/remotewrite on the component's data
// directory, exports its `receiver`, and registers it with the cluster as a
// delivery tracker (watermark and flush). Queueing, encoding and sending
// belong to the engine, not here.
//
// The disk queue is bounded by wal { max_size } (shoal's own; default
// 1GiB) and wal { max_keepalive_time } (Alloy's; default 8h): past either,
// the oldest data is dropped and counted in
// prometheus_remote_storage_samples_dropped_total. An endpoint keeps its
// backlog across restarts and reloads under its name (its url when it has
// no name).
package remotewrite

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	engine "github.com/shoal-dev/shoal/internal/remotewrite"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Registration registers prometheus.remote_write.
var Registration = component.Registration{
	Name:      "prometheus.remote_write",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}

// Exports are what prometheus.remote_write publishes.
type Exports struct {
	Receiver sample.Receiver `alloy:"receiver,attr"`
}

// Component is a running prometheus.remote_write.
type Component struct {
	opts component.Options
	w    *engine.Writer

	mu   sync.Mutex
	args Arguments
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// CurrentHealth is unhealthy while the disk queue cannot be written: the
// samples received meanwhile are held in memory (up to a bound) and
// appended once it can.
func (c *Component) CurrentHealth() component.Health {
	err, since, held := c.w.AppendFailure()
	if err == nil {
		return component.Health{State: component.HealthHealthy, Message: "healthy"}
	}
	return component.Health{
		State:   component.HealthUnhealthy,
		Message: fmt.Sprintf("the disk queue cannot be written (%v); %d samples held in memory until it can", err, held),
		Updated: since,
	}
}

// New opens the queue in opts.DataPath (replaying what a previous run left)
// and exports the receiver.
func New(opts component.Options, args Arguments) (*Component, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Cluster == nil {
		opts.Cluster = component.Alone{}
	}
	cfg, err := args.config()
	if err != nil {
		return nil, err
	}
	w, err := engine.Open(engine.Options{
		Dir:        opts.DataPath,
		Logger:     opts.Logger,
		Registerer: opts.Registerer,
		MaxBytes:   int64(args.WAL.MaxSize),
		MaxAge:     maxAge(args.WAL),
		UserAgent:  "shoal",
	}, cfg)
	if err != nil {
		return nil, err
	}
	c := &Component{opts: opts, w: w, args: args}
	warnExternalLabels(opts.Logger, args)
	if opts.OnStateChange != nil {
		// Live debugging shows what this component receives.
		opts.OnStateChange(Exports{Receiver: opts.LiveDebug.Receiver(w)})
	}
	opts.Cluster.AddDelivery(opts.ID, w)
	return c, nil
}

func maxAge(w WALOptions) time.Duration {
	if w.MaxKeepaliveTime <= 0 {
		return -1 // no age bound
	}
	return w.MaxKeepaliveTime
}

func warnExternalLabels(logger *slog.Logger, a Arguments) {
	if _, ok := a.ExternalLabels["__replica__"]; ok {
		logger.Warn("external_labels carry __replica__: Mimir's HA tracker keeps one node's samples and drops the others'")
	}
}

// Run sends until ctx is cancelled, then flushes for a while (what is left
// stays queued for the next start).
func (c *Component) Run(ctx context.Context) error {
	defer c.opts.Cluster.AddDelivery(c.opts.ID, nil)
	return c.w.Run(ctx)
}

// Update applies new arguments in place: unchanged endpoints keep their
// senders, changed ones restart from their queued data.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	cfg, err := a.config()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.w.Update(cfg); err != nil {
		return err
	}
	c.w.SetBounds(int64(a.WAL.MaxSize), maxAge(a.WAL))
	warnExternalLabels(c.opts.Logger, a)
	c.args = a
	return nil
}
