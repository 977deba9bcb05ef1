// Package livedebug streams what flows out of a component to the people
// watching it, as Alloy's live debugging does: the samples a
// prometheus.scrape or prometheus.relabel sends on, the samples a
// prometheus.remote_write receives, the targets a discovery component
// exports. It is off unless the config has `livedebugging { enabled = true }`.
//
// A component holds a *Publisher and asks Active before doing any work for
// it: while nobody watches, that is one atomic load. Each watcher has a
// bounded buffer, a sampling probability and a rate limit, so a busy
// component can neither block on a slow reader nor flood it; what is
// dropped is counted and reported in the stream. Serving the stream over
// HTTP belongs to internal/web; deciding what to publish to the components.
package livedebug

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of one watcher.
const (
	// Buffer is how many lines may wait for a slow reader; more are dropped.
	Buffer = 1000
	// RatePerSecond is how many lines a watcher is sent each second at most
	// (with bursts up to Buffer); more are dropped.
	RatePerSecond = 500
)

// Errors of Watch.
var (
	ErrDisabled = errors.New("live debugging is disabled: add `livedebugging { enabled = true }` to the config file to enable it")
	ErrUnknown  = errors.New("no such component")
)

// ErrUnsupported is returned by Watch for a component that publishes nothing.
type ErrUnsupported struct{ ID string }

func (e ErrUnsupported) Error() string {
	return fmt.Sprintf("component %q does not support live debugging: shoal streams prometheus.scrape, prometheus.relabel, prometheus.remote_write and discovery.* components", e.ID)
}

// Supports reports whether components of the given name publish live data.
func Supports(name string) bool {
	switch name {
	case "prometheus.scrape", "prometheus.relabel", "prometheus.remote_write":
		return true
	}
	return len(name) > len("discovery.") && name[:len("discovery.")] == "discovery."
}

// Hub holds the publishers of one runtime and whether live debugging is on.
// The zero value is not usable; a nil *Hub hands out inert publishers.
type Hub struct {
	mu      sync.Mutex
	enabled bool
	pubs    map[string]*Publisher
}

// NewHub returns a disabled hub.
func NewHub() *Hub { return &Hub{pubs: make(map[string]*Publisher)} }

// SetEnabled turns live debugging on or off. Turning it off ends every
// stream.
func (h *Hub) SetEnabled(on bool) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.enabled = on
	for _, p := range h.pubs {
		if !on {
			p.closeAll()
		}
	}
}

// Enabled reports whether live debugging is on.
func (h *Hub) Enabled() bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.enabled
}

// Publisher returns the publisher of component id (of kind name), making it
// if needed. A nil hub returns an inert publisher.
func (h *Hub) Publisher(id, name string) *Publisher {
	if h == nil {
		return &Publisher{id: id}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.pubs[id]
	if !ok {
		p = &Publisher{id: id, supported: Supports(name), watchers: make(map[*Watcher]struct{})}
		h.pubs[id] = p
	}
	return p
}

// Remove forgets component id, ending its streams; the runtime calls it
// when a reload removes the component.
func (h *Hub) Remove(id string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.pubs[id]; ok {
		p.closeAll()
		delete(h.pubs, id)
	}
}

// Watch starts watching component id. sampleProb in (0, 1] keeps each line
// with that probability (values outside mean 1). The caller must Close the
// watcher.
func (h *Hub) Watch(id string, sampleProb float64) (*Watcher, error) {
	if h == nil {
		return nil, ErrDisabled
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.enabled {
		return nil, ErrDisabled
	}
	p, ok := h.pubs[id]
	if !ok {
		return nil, ErrUnknown
	}
	if !p.supported {
		return nil, ErrUnsupported{ID: id}
	}
	if !(sampleProb > 0 && sampleProb <= 1) {
		sampleProb = 1
	}
	w := &Watcher{
		C:      make(chan string, Buffer),
		prob:   sampleProb,
		tokens: Buffer,
		last:   time.Now(),
		pub:    p,
		done:   make(chan struct{}),
	}
	p.mu.Lock()
	p.watchers[w] = struct{}{}
	p.active.Store(true)
	snap := p.snapshot
	p.mu.Unlock()
	if snap != nil {
		// Components that publish on change (discovery) show what they
		// hold now, so that a new watcher does not wait for a change.
		for _, line := range snap() {
			select {
			case w.C <- line:
			default:
				w.dropped.Add(1)
			}
		}
	}
	return w, nil
}

// Publisher is the handle a component publishes through.
type Publisher struct {
	id        string
	supported bool
	active    atomic.Bool // some watcher is attached

	mu       sync.Mutex
	watchers map[*Watcher]struct{}
	snapshot func() []string
}

// SetSnapshot gives the lines a new watcher receives first: the current
// state of a component that publishes only when it changes.
func (p *Publisher) SetSnapshot(f func() []string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.snapshot = f
	p.mu.Unlock()
}

// Active reports whether anybody watches: publish only when it is true.
// It costs one atomic load.
func (p *Publisher) Active() bool { return p != nil && p.active.Load() }

// Publish offers n lines; line(i) renders the i-th and is only called for
// lines some watcher keeps.
func (p *Publisher) Publish(n int, line func(i int) string) {
	if !p.Active() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for w := range p.watchers {
		w.refill(now)
	}
	for i := 0; i < n; i++ {
		var s string
		rendered := false
		for w := range p.watchers {
			if w.prob < 1 && rand.Float64() >= w.prob {
				continue
			}
			if w.tokens < 1 {
				w.dropped.Add(1)
				continue
			}
			if !rendered {
				s, rendered = line(i), true
			}
			select {
			case w.C <- s:
				w.tokens--
			default:
				w.dropped.Add(1)
			}
		}
	}
}

func (p *Publisher) remove(w *Watcher) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.watchers[w]; ok {
		delete(p.watchers, w)
		close(w.done)
	}
	p.active.Store(len(p.watchers) > 0)
}

func (p *Publisher) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.watchers {
		delete(p.watchers, w)
		close(w.done)
	}
	p.active.Store(false)
}

// Watcher is one stream. Lines arrive on C; Done is closed when the stream
// is ended from the other side (live debugging turned off, component
// removed).
type Watcher struct {
	C       chan string
	prob    float64
	dropped atomic.Uint64
	pub     *Publisher
	done    chan struct{}

	// The token bucket, guarded by pub.mu.
	tokens float64
	last   time.Time
}

func (w *Watcher) refill(now time.Time) {
	w.tokens += now.Sub(w.last).Seconds() * RatePerSecond
	if w.tokens > Buffer {
		w.tokens = Buffer
	}
	w.last = now
}

// Done is closed when the stream is ended by the hub.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Dropped returns and resets the count of lines dropped by the rate limit
// or a full buffer since the last call.
func (w *Watcher) Dropped() uint64 { return w.dropped.Swap(0) }

// Close stops watching.
func (w *Watcher) Close() { w.pub.remove(w) }
