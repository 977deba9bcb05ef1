// Package remote holds what the remote.* components share: fetching a
// value from a remote source when the arguments change and every
// poll_frequency, publishing it when it changed, and keeping the last
// good value (and turning unhealthy) while the source fails.
//
// It owns the polling loop and the health. Talking to a source (an HTTP
// endpoint, the Kubernetes API) belongs to each component's package.
package remote

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
)

// Fetch reads the source once, within ctx's deadline, and returns the
// exports it gives.
type Fetch func(ctx context.Context) (component.Exports, error)

// Settings are one generation of a component's arguments as the poller
// needs them.
type Settings struct {
	Frequency time.Duration
	Timeout   time.Duration
	Fetch     Fetch
}

// Poller runs the polling of one component. Its zero value is not usable:
// use NewPoller.
type Poller struct {
	opts     component.Options
	reconfig chan struct{}

	// pub serialises polls, so that a poll of older settings never
	// publishes after a poll of newer ones.
	pub sync.Mutex

	mu       sync.Mutex
	cur      Settings
	gen      uint64 // incremented by every accepted Update
	lastPoll time.Time
	sent     component.Exports
	hasSent  bool
	health   component.Health
}

// NewPoller returns a poller publishing through opts.OnStateChange.
func NewPoller(opts component.Options) *Poller {
	return &Poller{
		opts:     opts,
		reconfig: make(chan struct{}, 1),
		health:   component.Health{State: component.HealthUnknown, Message: "component started", Updated: time.Now()},
	}
}

// Update polls with s at once. A failed poll is returned as an error and
// the previous settings stay in force, so that a component never starts
// (or switches sources) with empty exports; on success s replaces them
// and the next poll is one Frequency away.
func (p *Poller) Update(s Settings) error {
	p.pub.Lock()
	defer p.pub.Unlock()
	e, err := p.fetch(s)
	if err != nil {
		p.setHealth(err)
		return fmt.Errorf("polling failed: %w", err)
	}
	p.mu.Lock()
	p.cur = s
	p.gen++
	p.mu.Unlock()
	p.publish(e)
	p.setHealth(nil)
	select {
	case p.reconfig <- struct{}{}:
	default:
	}
	return nil
}

// CurrentHealth is healthy after a successful poll and unhealthy, with
// the error, after a failed one.
func (p *Poller) CurrentHealth() component.Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.health
}

// Run polls every Frequency until ctx is cancelled.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		p.mu.Lock()
		s, gen, next := p.cur, p.gen, p.lastPoll.Add(p.cur.Frequency)
		p.mu.Unlock()
		t.Reset(max(time.Until(next), 0))
		select {
		case <-ctx.Done():
			return nil
		case <-p.reconfig:
			t.Stop()
		case <-t.C:
			p.poll(s, gen)
		}
	}
}

// poll polls with s unless an Update replaced s meanwhile.
func (p *Poller) poll(s Settings, gen uint64) {
	p.pub.Lock()
	defer p.pub.Unlock()
	p.mu.Lock()
	stale := gen != p.gen
	p.mu.Unlock()
	if stale {
		return
	}
	e, err := p.fetch(s)
	if err != nil {
		p.setHealth(err)
		return
	}
	p.publish(e)
	p.setHealth(nil)
}

func (p *Poller) fetch(s Settings) (component.Exports, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	e, err := s.Fetch(ctx)
	p.mu.Lock()
	p.lastPoll = time.Now()
	p.mu.Unlock()
	return e, err
}

// publish sends e if it differs from what was last sent. p.pub is held.
func (p *Poller) publish(e component.Exports) {
	p.mu.Lock()
	same := p.hasSent && reflect.DeepEqual(p.sent, e)
	p.sent, p.hasSent = e, true
	p.mu.Unlock()
	if !same && p.opts.OnStateChange != nil {
		p.opts.OnStateChange(e)
	}
}

// setHealth records the outcome of a poll, logging a failure when its
// message changes. The exports are never logged.
func (p *Poller) setHealth(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if err != nil {
		msg := "polling failed: " + err.Error()
		if p.health.State != component.HealthUnhealthy || p.health.Message != msg {
			p.opts.Logger.Warn("polling failed, keeping the last value", "err", err)
		}
		p.health = component.Health{State: component.HealthUnhealthy, Message: msg, Updated: now}
		return
	}
	if p.health.State != component.HealthHealthy {
		p.health = component.Health{State: component.HealthHealthy, Message: "polled", Updated: now}
	}
}
