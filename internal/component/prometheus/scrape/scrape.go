// Package scrape is the prometheus.scrape component: Alloy's arguments and
// defaults, the conversion to the scrape engine's Config, ownership through
// the cluster when the clustering block is enabled, and the per-target
// debug info and health.
//
// Scraping itself (the tick grid, fetching, parsing, staleness, limits and
// handoff holds) belongs to internal/scrape; ownership decisions belong to
// internal/cluster, seen here through component.Cluster.
package scrape

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
	engine "github.com/shoal-dev/shoal/internal/scrape"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Registration registers prometheus.scrape.
var Registration = component.Registration{
	Name:      "prometheus.scrape",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}

// wakeQuantum groups the starts of ticks that fall within 50 ms of each
// other (never more than a tenth of the interval), waking at the last 50 ms
// multiple before them. Measured with 300 targets every 2 s
// (bench/shoalbench pipeline), the process's CPU per million samples went
// from about 4.5 s waking at every tick to about 3.0 s with 20 ms and 2.3 s
// with 50 ms; a scrape then starts at most 50 ms before its tick, and is
// stamped with it.
const wakeQuantum = 50 * time.Millisecond

// TargetInfo is one target in the debug info, encoded as a `target` block.
type TargetInfo struct {
	Job                string            `alloy:"job,attr"`
	URL                string            `alloy:"url,attr"`
	Health             string            `alloy:"health,attr"`
	Labels             map[string]string `alloy:"labels,attr"`
	LastError          string            `alloy:"last_error,attr,optional"`
	LastScrape         time.Time         `alloy:"last_scrape,attr"`
	LastScrapeDuration time.Duration     `alloy:"last_scrape_duration,attr,optional"`
	// Key is the cluster key in hex, which the user compares across nodes.
	Key   string `alloy:"key,attr"`
	Owned bool   `alloy:"owned,attr"`
	// KeyCollision is set when another target has the same key.
	KeyCollision bool `alloy:"key_collision,attr,optional"`
}

// Component is a running prometheus.scrape.
type Component struct {
	opts   component.Options
	engine *engine.Engine

	mu        sync.Mutex
	clustered bool
	health    component.Health // the last health reported, for its Updated time
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.DebugComponent  = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// New builds a prometheus.scrape component.
func New(opts component.Options, args Arguments) (*Component, error) {
	if opts.Cluster == nil {
		opts.Cluster = component.Alone{}
	}
	c := &Component{
		opts: opts,
		engine: engine.New(engine.Options{
			Logger:      opts.Logger,
			Registerer:  opts.Registerer,
			Cluster:     opts.Cluster,
			WakeQuantum: wakeQuantum,
		}),
	}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	return c, nil
}

// Run scrapes until ctx is cancelled.
func (c *Component) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.engine.Run(ctx) })
	changes := c.opts.Cluster.Changes()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			if sc, ok := c.opts.Cluster.(component.StandbyCluster); ok {
				sc.SetReplicas(c.opts.ID, 0)
				sc.AddDelivery(c.opts.ID, nil)
			}
			return nil
		case <-changes:
			// Ownership is asked at every tick; the debug info and the
			// targets gauge compute it when read. This only logs.
			if c.isClustered() {
				owned := 0
				for _, st := range c.engine.Targets() {
					if st.Owned {
						owned++
					}
				}
				if c.opts.Logger != nil {
					c.opts.Logger.Debug("cluster changed", "owned_targets", owned)
				}
			}
		}
	}
}

// Update applies new arguments: targets are diffed, so unchanged targets
// keep their schedule and series.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	cfg, err := a.Config(c.opts.ID)
	if err != nil {
		return err
	}
	lbls := make([]labels.Labels, len(a.Targets))
	for i, t := range a.Targets {
		lbls[i] = t.Labels()
	}
	c.engine.SetReceiver(c.opts.LiveDebug.Receiver(sample.Fanout(a.ForwardTo)))
	if err := c.engine.SetTargets(lbls, cfg); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case cfg.Clustered:
		c.opts.Cluster.SetTargets(c.opts.ID, c.engine.Keys())
	case c.clustered:
		c.opts.Cluster.SetTargets(c.opts.ID, nil)
	}
	c.clustered = cfg.Clustered
	if sc, ok := c.opts.Cluster.(component.StandbyCluster); ok {
		replicas := 1
		if cfg.Clustered {
			replicas = max(cfg.Replicas, 1)
		}
		sc.SetReplicas(c.opts.ID, replicas)
		// With a standby, the node's watermark must not pass a tick
		// still being scraped (see scrape.Engine.InFlight).
		if replicas >= 2 {
			sc.AddDelivery(c.opts.ID, c.engine.InFlight())
		} else {
			sc.AddDelivery(c.opts.ID, nil)
		}
	}
	return nil
}

func (c *Component) isClustered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clustered
}

// DebugInfo lists the targets this node scrapes now: all of them, or with
// clustering the ones it owns.
func (c *Component) DebugInfo() any {
	sts := c.engine.Targets()
	out := make([]TargetInfo, 0, len(sts))
	for _, st := range sts {
		if !st.Owned {
			continue
		}
		m := make(map[string]string, st.Labels.Len())
		st.Labels.Range(func(l labels.Label) { m[l.Name] = l.Value })
		out = append(out, TargetInfo{
			Job:                st.Job,
			URL:                st.URL,
			Health:             string(st.Health),
			Labels:             m,
			LastError:          st.LastError,
			LastScrape:         st.LastScrape,
			LastScrapeDuration: st.LastScrapeDuration,
			Key:                fmt.Sprintf("%016x", st.Key),
			Owned:              st.Owned,
			KeyCollision:       st.Collision,
		})
	}
	return out
}

// CurrentHealth is unhealthy while targets are left out, collide on their
// key, or exceed target_limit; a target that is down does not make the
// component unhealthy.
func (c *Component) CurrentHealth() component.Health {
	p := c.engine.Problems()
	var msgs []string
	if p.TargetLimit != "" {
		msgs = append(msgs, p.TargetLimit)
	}
	if p.Invalid > 0 {
		msgs = append(msgs, fmt.Sprintf("%d targets left out: %s", p.Invalid, p.FirstInvalid))
	}
	msgs = append(msgs, p.Collisions...)
	h := component.Health{State: component.HealthHealthy, Message: "targets are scraped"}
	if len(msgs) > 0 {
		h = component.Health{State: component.HealthUnhealthy, Message: strings.Join(msgs, "; ")}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.health.State != h.State || c.health.Message != h.Message {
		h.Updated = time.Now()
		c.health = h
	}
	return c.health
}

var _ component.TargetLister = (*Component)(nil)

// Clustered reports whether the component splits its targets across the
// fleet (its clustering block is enabled on a clustered node).
func (c *Component) Clustered() bool { return c.isClustered() && c.opts.Cluster.Enabled() }

// ClusterTargets lists every target of the component, owned here or not,
// for the cluster-wide "who scrapes X" view.
func (c *Component) ClusterTargets() []component.Target {
	sts := c.engine.Targets()
	out := make([]component.Target, 0, len(sts))
	for _, st := range sts {
		m := make(map[string]string, st.Labels.Len())
		st.Labels.Range(func(l labels.Label) { m[l.Name] = l.Value })
		out = append(out, component.Target{Key: st.Key, URL: st.URL, Labels: m})
	}
	return out
}
