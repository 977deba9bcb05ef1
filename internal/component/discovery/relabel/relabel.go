// Package relabel is the discovery.relabel component: it applies `rule`
// blocks to a list of targets and exports the targets that survive, and the
// rules themselves for other components to reuse.
//
// It owns the relabelling of targets. The rule block is
// internal/component/common/relabel; applying a rule is prometheus'
// relabel.ProcessBuilder.
package relabel

import (
	"context"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	promrelabel "github.com/prometheus/prometheus/model/relabel"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.relabel's arguments.
type Arguments struct {
	Targets []discovery.Target `alloy:"targets,attr"`
	Rules   []relabel.Config   `alloy:"rule,block,optional"`
}

// Validate checks every rule.
func (a *Arguments) Validate() error {
	_, err := relabel.Rules(a.Rules).Prometheus()
	return err
}

// Exports are discovery.relabel's exports.
type Exports struct {
	Output []discovery.Target `alloy:"output,attr"`
	Rules  relabel.Rules      `alloy:"rules,attr"`
}

// Component is a running discovery.relabel.
type Component struct {
	opts component.Options

	mu   sync.Mutex
	last Exports
}

var _ component.Component = (*Component)(nil)

// New builds a discovery.relabel component and exports its first output.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	opts.LiveDebug.SetSnapshot(func() []string { return discovery.TargetLines(c.Exports().Output) })
	return c, nil
}

// Run waits for ctx: the work happens in Update.
func (c *Component) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

// Update relabels the targets with the rules and exports the result.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	rules, err := relabel.Rules(a.Rules).Prometheus()
	if err != nil {
		return err
	}
	out := Relabel(a.Targets, rules)
	e := Exports{Output: out, Rules: append(relabel.Rules(nil), a.Rules...)}
	c.mu.Lock()
	c.last = e
	c.mu.Unlock()
	c.opts.LiveDebug.PublishTargets(len(out), func(i int) string { return out[i].Labels().String() })
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(e)
	}
	return nil
}

// Exports returns what was last exported.
func (c *Component) Exports() Exports {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Relabel applies rules to every target, in order, and returns those that
// are kept and still have labels. With no rules the targets are returned
// unchanged.
func Relabel(targets []discovery.Target, rules []*promrelabel.Config) []discovery.Target {
	out := make([]discovery.Target, 0, len(targets))
	if len(rules) == 0 {
		return append(out, targets...)
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, t := range targets {
		lb.Reset(t.Labels())
		if !promrelabel.ProcessBuilder(lb, rules...) {
			continue
		}
		ls := lb.Labels()
		if ls.IsEmpty() {
			continue
		}
		out = append(out, discovery.TargetFromLabels(ls))
	}
	return out
}

// Registration registers discovery.relabel.
var Registration = component.Registration{
	Name:      "discovery.relabel",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
