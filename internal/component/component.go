// Package component defines what every shoal component is: the interface the
// runtime drives (Run, Update), the options it is built with, its health and
// debug info, and the registry that maps a block name such as
// "prometheus.scrape" to its constructor. Each component lives in its own
// folder below this one and copies the shape of its neighbours. Evaluating
// configuration and wiring components into a graph belongs to
// internal/runtime, not here.
package component

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-dev/shoal/internal/livedebug"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments is the Go struct a component's block decodes into. It is tagged
// with `alloy:"name,attr[,optional]"` and `alloy:"name,block[,optional]"`
// and may implement SetToDefault() and Validate() error.
type Arguments any

// Exports is the Go struct a component publishes to the others, tagged like
// Arguments.
type Exports any

// Component is a running instance of one block of the config.
type Component interface {
	// Run runs until ctx is cancelled. It returns nil on cancellation.
	Run(ctx context.Context) error
	// Update applies new arguments, of the same type as at Build, in place.
	Update(args Arguments) error
}

// HealthState is the coarse health of a component.
type HealthState string

// The health states, named as Alloy names them.
const (
	HealthUnknown   HealthState = "unknown"
	HealthHealthy   HealthState = "healthy"
	HealthUnhealthy HealthState = "unhealthy"
	HealthExited    HealthState = "exited"
)

// Health is a component's health, with the reason and when it last changed.
type Health struct {
	State   HealthState
	Message string
	Updated time.Time
}

// HealthComponent is implemented by components that report their own health
// (for example a discovery that failed its last refresh). The runtime merges
// it with the health of evaluation.
type HealthComponent interface {
	CurrentHealth() Health
}

// DebugComponent is implemented by components that have debug info, such as
// the per-target table of prometheus.scrape. The value is a tagged struct
// (or slice of them) encoded like Exports.
type DebugComponent interface {
	DebugInfo() any
}

// ReadyComponent is implemented by components whose first result matters
// before the node may take part in a cluster, such as discoveries: Ready is
// true once the first complete refresh has finished, even if it was empty.
type ReadyComponent interface {
	Ready() bool
}

// Options are given to a component when it is built.
type Options struct {
	// ID is the component's full name, e.g. "prometheus.scrape.default".
	ID string
	// Logger is tagged with component=ID.
	Logger *slog.Logger
	// Registerer registers the component's metrics, labelled component_id=ID.
	Registerer prometheus.Registerer
	// DataPath is a directory private to this component, under --storage.path.
	DataPath string
	// OnStateChange publishes new exports. Only changes cause re-evaluation
	// of the dependants.
	OnStateChange func(e Exports)
	// Cluster is the fleet as this node sees it. It is never nil: when
	// clustering is disabled it owns every target and holds nothing.
	Cluster Cluster
	// LiveDebug publishes what flows out of the component to the UI's live
	// debugging view (the livedebugging block). It is never nil; while
	// nobody watches, Active is one atomic load and false.
	LiveDebug *livedebug.Publisher
	// Host is the node's HTTP address and own metrics (see Host).
	Host Host
}

// Cluster is what a component sees of the fleet. Ownership is a function of
// the target key and the tick time, so that every node computes the same
// answer for the same tick (see docs/clustering.md).
type Cluster interface {
	// Enabled is false when the node runs alone.
	Enabled() bool
	// Owns reports whether this node scrapes the target with key at tick t
	// (Unix ms). With clustering disabled it is always true.
	Owns(key uint64, t int64) bool
	// Hold is asked once for each tick this node owns. When the tick starts
	// a run of ownership taken over from another live node, it returns a
	// channel that is closed when the samples of that tick (and later ones)
	// may be delivered: the giver's watermark passed t, the giver died or
	// left, or the hold timed out. Otherwise it returns nil.
	Hold(key uint64, t int64) <-chan struct{}
	// OwnerOf names the node that owns key at tick t, as this node computes
	// it; "" when no node is eligible.
	OwnerOf(key uint64, t int64) string
	// SetTargets publishes the keys of a clustered component's targets: their
	// digest travels in gossip so that nodes can detect drift. A nil slice
	// withdraws the component.
	SetTargets(componentID string, keys []uint64)
	// AddDelivery registers a delivery tracker (a remote_write component);
	// the node's gossiped watermark is the minimum over all trackers. A nil
	// tracker removes it.
	AddDelivery(componentID string, d Delivery)
	// Changes returns a channel that receives a value, coalesced, whenever
	// ownership may have changed.
	Changes() <-chan struct{}
}

// LoadObserver is implemented by a Cluster that places targets by their
// load (--cluster.placement=series): the scrape loop reports the series
// of every scrape it owns.
type LoadObserver interface {
	ObserveSeries(key uint64, series int, interval time.Duration)
}

// Delivery is what the cluster needs of a remote_write component.
type Delivery interface {
	// Watermark is a Unix ms time such that every sample stamped at or
	// before it has been acknowledged by every endpoint.
	Watermark() int64
	// Flush asks the senders to send what is pending now instead of
	// waiting for a full batch or the batch deadline.
	Flush()
}

// Registration describes one kind of component.
type Registration struct {
	// Name is the block name, e.g. "prometheus.scrape".
	Name string
	// Args is the zero value of the Arguments type (not a pointer).
	Args Arguments
	// Exports is the zero value of the Exports type, or nil.
	Exports Exports
	// Build makes a component from decoded arguments.
	Build func(opts Options, args Arguments) (Component, error)
	// Stability is the component's level in Alloy: below the level chosen
	// with --stability.level the runtime refuses it. Undefined counts as
	// generally available.
	Stability stability.Level
	// Community marks a community component of Alloy, which needs
	// --feature.community-components.enabled.
	Community bool
}

// Registry maps block names to registrations. It is built once at start-up
// (see internal/component/all) and never changed afterwards.
type Registry struct {
	byName map[string]Registration
	// leftOut names the components this build leaves out on purpose (a
	// lean build), with why, so that a config using one is told so.
	leftOut map[string]string
}

// LeaveOut records that this build leaves out the named components, and
// why; Get still does not find them. It returns r.
func (r *Registry) LeaveOut(why string, names ...string) *Registry {
	if r.leftOut == nil {
		r.leftOut = make(map[string]string, len(names))
	}
	for _, n := range names {
		r.leftOut[n] = why
	}
	return r
}

// LeftOut reports whether this build leaves out the named component on
// purpose, and why.
func (r *Registry) LeftOut(name string) (string, bool) {
	why, ok := r.leftOut[name]
	return why, ok
}

// NewRegistry returns a registry holding regs. A duplicate name panics,
// since it is a programming error.
func NewRegistry(regs ...Registration) *Registry {
	r := &Registry{byName: make(map[string]Registration, len(regs))}
	for _, reg := range regs {
		if _, dup := r.byName[reg.Name]; dup {
			panic(fmt.Sprintf("component %q registered twice", reg.Name))
		}
		r.byName[reg.Name] = reg
	}
	return r
}

// Get returns the registration for a block name.
func (r *Registry) Get(name string) (Registration, bool) {
	reg, ok := r.byName[name]
	return reg, ok
}

// Names lists the registered names in order.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Alone is the Cluster of a node that runs without clustering: it owns every
// target and never holds.
type Alone struct{}

var _ Cluster = Alone{}

func (Alone) Enabled() bool                      { return false }
func (Alone) Owns(uint64, int64) bool            { return true }
func (Alone) Hold(uint64, int64) <-chan struct{} { return nil }
func (Alone) OwnerOf(uint64, int64) string       { return "" }
func (Alone) SetTargets(string, []uint64)        {}
func (Alone) AddDelivery(string, Delivery)       {}
func (Alone) Changes() <-chan struct{}           { return nil }

// Target is one target of a scrape component as the cluster-wide views
// show it: its key, its URL and its labels (without __meta_*).
type Target struct {
	Key    uint64
	URL    string
	Labels map[string]string
}

// TargetLister is implemented by scrape components. ClusterTargets lists
// every target the component was given, owned by this node or not, so that
// any node can answer "who scrapes X"; Clustered reports whether the
// component's targets are split across the fleet.
type TargetLister interface {
	ClusterTargets() []Target
	Clustered() bool
}
