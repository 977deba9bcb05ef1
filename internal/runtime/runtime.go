package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/config"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// Options configure a Runtime.
type Options struct {
	// Registry maps block names to components. Required.
	Registry *component.Registry
	// Logger is the parent of every component's logger; nil discards.
	Logger *slog.Logger
	// Registerer receives every component's metrics, labelled with
	// component_id; nil keeps them private.
	Registerer prometheus.Registerer
	// DataPath is --storage.path: each component gets DataPath/<id>. Empty
	// gives components no data directory.
	DataPath string
	// Cluster is given to every component; nil means component.Alone.
	Cluster component.Cluster
	// Host is given to every component (the node's HTTP address and metrics).
	Host component.Host
}

// Runtime holds the graph of the loaded config and runs its components.
// Its methods are safe for concurrent use.
type Runtime struct {
	opts Options
	log  *slog.Logger

	// loadMu serialises loads, so that globals are announced in order.
	loadMu sync.Mutex
	// mu serialises applying and evaluating and guards the graph.
	mu          sync.Mutex
	nodes       map[string]*node
	graph       *graph
	topoIndex   map[string]int
	vars        map[string]any // component exports as the vm sees them
	loaded      bool
	fingerprint string
	globals     config.Globals
	runCtx      context.Context // set by Run
	stopped     bool            // Run is shutting down: start nothing new
	wg          sync.WaitGroup  // one per running component

	subsMu  sync.Mutex
	subs    map[int]func(config.Globals)
	nextSub int

	changedMu sync.Mutex
	changed   map[*node]struct{} // nodes that published exports since the last pass
	wake      chan struct{}      // capacity 1: a pass is due
}

// New returns a Runtime with nothing loaded.
func New(opts Options) *Runtime {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Cluster == nil {
		opts.Cluster = component.Alone{}
	}
	if opts.Registry == nil {
		opts.Registry = component.NewRegistry()
	}
	return &Runtime{
		opts:      opts,
		log:       opts.Logger,
		nodes:     make(map[string]*node),
		graph:     newGraph(),
		topoIndex: make(map[string]int),
		vars:      make(map[string]any),
		globals:   config.DefaultGlobals(),
		subs:      make(map[int]func(config.Globals)),
		changed:   make(map[*node]struct{}),
		wake:      make(chan struct{}, 1),
	}
}

// ApplyError reports the components of a valid config that could not be
// evaluated against their inputs' real exports, built or updated. The new
// graph is in place all the same: those components keep their last good
// arguments (or stay unbuilt) and show as unhealthy until a later
// evaluation or reload succeeds.
type ApplyError struct {
	Errs []error
}

func (e *ApplyError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

func (e *ApplyError) Unwrap() []error { return e.Errs }

// Load validates src and, if it is valid, makes it the running graph:
// unchanged components are left alone, changed ones are updated in place,
// removed ones are stopped and new ones built and, if Run is running,
// started. It returns once the new graph is in place.
//
// If src is invalid it returns the diag.Diagnostics and nothing changes. If
// src is valid but some components fail to build or update, it returns an
// *ApplyError after applying the rest.
func (r *Runtime) Load(filename string, src []byte) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	p, diags := r.compile(filename, src)
	if diags.HasErrors() {
		return diags
	}
	var changedGlobals bool
	var globals config.Globals
	err := func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		err := r.apply(p)
		changedGlobals = !r.loaded || !reflect.DeepEqual(r.globals, p.globals)
		r.globals = p.globals
		globals = p.globals
		r.fingerprint = p.fingerprint
		r.loaded = true
		return err
	}()
	if changedGlobals {
		r.notifyGlobals(globals)
	}
	return err
}

// apply makes p the graph. The caller holds r.mu.
func (r *Runtime) apply(p *plan) error {
	var errs []error
	next := make(map[string]*node, len(p.order))
	vars := make(map[string]any)
	var fresh []*node
	var counts [failed + 1]int
	for _, id := range p.order {
		pb := p.byID[id]
		n, existed := r.nodes[id]
		if !existed {
			n = &node{id: id, name: pb.name, label: pb.label, reg: pb.reg}
		}
		n.block = pb.block
		n.pos = pb.pos
		next[id] = n
		out, err := r.evaluate(n, vars)
		counts[out]++
		if err != nil {
			errs = append(errs, err)
		}
		if out == built || (n.comp != nil && exited(n)) {
			fresh = append(fresh, n)
		}
		e := n.latestExports()
		if e == nil {
			e = n.reg.Exports
		}
		n.scopeExports = e
		setVar(vars, id, e)
	}

	var removed []*node
	for id, n := range r.nodes {
		if _, ok := next[id]; !ok {
			removed = append(removed, n)
		}
	}
	// Stop users before what they use, as at shutdown.
	slices.SortFunc(removed, func(a, b *node) int { return r.topoIndex[b.id] - r.topoIndex[a.id] })

	r.nodes = next
	r.graph = p.graph
	r.vars = vars
	r.topoIndex = make(map[string]int, len(p.order))
	for i, id := range p.order {
		r.topoIndex[id] = i
		n := next[id]
		n.refsTo = p.graph.referencesTo(id)
		n.refBy = p.graph.referencedBy(id)
	}

	for _, n := range removed {
		r.stop(n)
		r.log.Debug("component removed", "component", n.id)
	}
	r.log.Info("config applied", "built", counts[built], "updated", counts[updated],
		"unchanged", counts[unchanged], "failed", counts[failed], "removed", len(removed))
	if r.runCtx != nil && !r.stopped {
		for _, n := range fresh {
			r.start(n)
		}
	}
	if len(errs) > 0 {
		return &ApplyError{Errs: errs}
	}
	return nil
}

// evaluate decodes n's block against vars and hands the result to the
// component: Build if it has none yet, Update if the arguments changed. On
// failure the component keeps its last good arguments and turns unhealthy.
// The caller holds r.mu.
func (r *Runtime) evaluate(n *node, vars map[string]any) (outcome, error) {
	args, diags := evalComponent(n.block, n.reg, r.scope(vars))
	if diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating arguments: "+diags.Error(), now())
		return failed, fmt.Errorf("%s: %w", n.id, diags)
	}
	switch {
	case n.comp == nil:
		comp, err := r.build(n, args)
		if err != nil {
			n.evalHealth = unhealthy("building: "+err.Error(), now())
			return failed, fmt.Errorf("%s (%s): building: %w", n.id, n.pos, err)
		}
		n.comp, n.args = comp, args
		n.evalHealth = healthy("started", now())
		return built, nil
	case !equal(args, n.args):
		if err := n.comp.Update(args); err != nil {
			n.evalHealth = unhealthy("updating: "+err.Error(), now())
			return failed, fmt.Errorf("%s (%s): updating: %w", n.id, n.pos, err)
		}
		n.args = args
		n.evalHealth = healthy("updated", now())
		return updated, nil
	case n.evalHealth.State != component.HealthHealthy:
		n.evalHealth = healthy("arguments unchanged", now())
	}
	return unchanged, nil
}

// outcome is what an evaluation did to its component.
type outcome int

const (
	unchanged outcome = iota
	built
	updated
	failed
)

func (r *Runtime) build(n *node, args component.Arguments) (component.Component, error) {
	if n.metrics != nil {
		n.metrics.unregisterAll() // left by a failed Build
	}
	n.metrics = newTrackingRegisterer(r.opts.Registerer, n.id)
	dataPath := ""
	if r.opts.DataPath != "" {
		dataPath = filepath.Join(r.opts.DataPath, n.id)
		if err := os.MkdirAll(dataPath, 0o755); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	opts := component.Options{
		ID:         n.id,
		Logger:     r.log.With("component", n.id),
		Registerer: n.metrics,
		DataPath:   dataPath,
		Cluster:    r.opts.Cluster,
		Host:       r.opts.Host,
		OnStateChange: func(e component.Exports) {
			n.setExports(e)
			r.changedMu.Lock()
			r.changed[n] = struct{}{}
			r.changedMu.Unlock()
			select {
			case r.wake <- struct{}{}:
			default:
			}
		},
	}
	return n.reg.Build(opts, args)
}

// start runs n's component in its own goroutine. The caller holds r.mu.
func (r *Runtime) start(n *node) {
	// Components are stopped one by one in reverse topological order, not
	// all at once when Run's context ends, so that a remote_write outlives
	// the scrapes that feed it.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.runCtx))
	done := make(chan struct{})
	n.setRunHealth(component.Health{})
	n.cancel, n.done = cancel, done
	comp := n.comp
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(done)
		err := comp.Run(ctx)
		switch {
		case err != nil:
			n.setRunHealth(component.Health{State: component.HealthExited, Message: "run: " + err.Error(), Updated: now()})
			r.log.Error("component exited", "component", n.id, "err", err)
		case ctx.Err() == nil:
			n.setRunHealth(component.Health{State: component.HealthExited, Message: "run returned before the component was stopped", Updated: now()})
			r.log.Warn("component exited early", "component", n.id)
		}
	}()
}

// exited reports whether n's Run has returned on its own: a reload starts
// it again, since fixing the config is how users recover it.
func exited(n *node) bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// stop cancels n's component, waits for its Run to return and drops its
// metrics.
func (r *Runtime) stop(n *node) {
	if n.cancel != nil {
		n.cancel()
		<-n.done
	}
	if n.metrics != nil {
		n.metrics.unregisterAll()
	}
}

// Run runs the loaded components, and those of later loads, until ctx ends;
// then it stops them, users before what they use, and returns nil. It
// re-evaluates the components that reference another whose exports changed.
func (r *Runtime) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.runCtx != nil {
		r.mu.Unlock()
		return errors.New("runtime: Run called twice")
	}
	r.runCtx = ctx
	for _, n := range r.ordered() {
		if n.comp != nil && n.cancel == nil {
			r.start(n)
		}
	}
	r.mu.Unlock()

	for {
		select {
		case <-ctx.Done():
			r.shutdown()
			return nil
		case <-r.wake:
			r.propagate()
		}
	}
}

func (r *Runtime) shutdown() {
	r.mu.Lock()
	r.stopped = true
	nodes := r.ordered()
	r.mu.Unlock()
	slices.Reverse(nodes)
	for _, n := range nodes {
		r.mu.Lock()
		cancel, done := n.cancel, n.done
		r.mu.Unlock()
		if cancel != nil {
			cancel()
			<-done
		}
	}
	r.wg.Wait()
}

// ordered returns the nodes in topological order. The caller holds r.mu.
func (r *Runtime) ordered() []*node {
	out := make([]*node, 0, len(r.nodes))
	for _, n := range r.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *node) int { return r.topoIndex[a.id] - r.topoIndex[b.id] })
	return out
}

// propagate takes the exports published since the last pass and
// re-evaluates, in topological order, the direct dependants of those that
// really changed. Dependants further down are reached when the ones in
// between publish new exports in turn.
func (r *Runtime) propagate() {
	r.changedMu.Lock()
	changed := r.changed
	r.changed = make(map[*node]struct{})
	r.changedMu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	users := make(map[string]struct{})
	for n := range changed {
		if r.nodes[n.id] != n {
			continue // removed by a reload since
		}
		e := n.latestExports()
		if equal(e, n.scopeExports) {
			continue
		}
		n.scopeExports = e
		setVar(r.vars, n.id, e)
		for _, u := range r.graph.referencedBy(n.id) {
			users[u] = struct{}{}
		}
	}
	ids := make([]string, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return r.topoIndex[a] - r.topoIndex[b] })
	for _, id := range ids {
		n := r.nodes[id]
		out, err := r.evaluate(n, r.vars)
		if err != nil {
			r.log.Warn("re-evaluating component failed; keeping its last good arguments", "component", id, "err", err)
		}
		if out == built && !r.stopped {
			r.start(n)
		}
	}
}

// setVar puts the exports of component id into vars as nested objects, so
// that `prometheus.remote_write.default.receiver` resolves through
// vars["prometheus"]["remote_write"]["default"].
func setVar(vars map[string]any, id string, e any) {
	parts := strings.Split(id, ".")
	m := vars
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = make(map[string]any)
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = e
}

// ComponentInfo describes one component of the loaded graph.
type ComponentInfo struct {
	ID           string // "prometheus.scrape.default"
	Name         string // "prometheus.scrape"
	Label        string // "default"
	Health       component.Health
	Arguments    component.Arguments // the decoded struct in use; nil if never evaluated
	Exports      component.Exports
	DebugInfo    any // from component.DebugComponent, or nil
	ReferencesTo []string
	ReferencedBy []string
	Position     token.Position // of the block
	// Instance is the running component, for optional interfaces such as
	// component.TargetLister; nil if it was never built.
	Instance component.Component
}

// Components describes every component, sorted by ID.
func (r *Runtime) Components() []ComponentInfo {
	r.mu.Lock()
	snaps := make([]snapshot, 0, len(r.nodes))
	for _, n := range r.nodes {
		snaps = append(snaps, r.snapshot(n))
	}
	r.mu.Unlock()
	out := make([]ComponentInfo, len(snaps))
	for i, s := range snaps {
		out[i] = s.info()
	}
	slices.SortFunc(out, func(a, b ComponentInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Component describes the component with the given ID.
func (r *Runtime) Component(id string) (ComponentInfo, bool) {
	r.mu.Lock()
	n, ok := r.nodes[id]
	if !ok {
		r.mu.Unlock()
		return ComponentInfo{}, false
	}
	s := r.snapshot(n)
	r.mu.Unlock()
	return s.info(), true
}

// snapshot is what ComponentInfo needs of a node, copied under r.mu, so
// that the component's own health and debug info can be asked for without
// holding up evaluation.
type snapshot struct {
	n          *node
	comp       component.Component
	evalHealth component.Health
	args       component.Arguments
	refsTo     []string
	refBy      []string
	pos        token.Position
}

func (r *Runtime) snapshot(n *node) snapshot {
	return snapshot{n: n, comp: n.comp, evalHealth: n.evalHealth, args: n.args, refsTo: n.refsTo, refBy: n.refBy, pos: n.pos}
}

func (s snapshot) info() ComponentInfo {
	n := s.n
	e := n.latestExports()
	if e == nil {
		e = n.reg.Exports
	}
	n.mu.Lock()
	run := n.runHealth
	n.mu.Unlock()
	hs := []component.Health{s.evalHealth, run}
	if hc, ok := s.comp.(component.HealthComponent); ok {
		hs = append(hs, hc.CurrentHealth())
	}
	var debug any
	if dc, ok := s.comp.(component.DebugComponent); ok {
		debug = dc.DebugInfo()
	}
	return ComponentInfo{
		ID:           n.id,
		Name:         n.name,
		Label:        n.label,
		Health:       leastHealthy(hs...),
		Arguments:    s.args,
		Exports:      e,
		DebugInfo:    debug,
		ReferencesTo: slices.Clone(s.refsTo),
		ReferencedBy: slices.Clone(s.refBy),
		Position:     s.pos,
		Instance:     s.comp,
	}
}

// Loaded reports whether a config has been loaded.
func (r *Runtime) Loaded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loaded
}

// DiscoveryReady reports whether a config is loaded and every component that
// implements component.ReadyComponent has finished its first refresh.
func (r *Runtime) DiscoveryReady() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.loaded {
		return false
	}
	for _, n := range r.nodes {
		if rc, ok := n.comp.(component.ReadyComponent); ok && !rc.Ready() {
			return false
		}
	}
	return true
}

// Fingerprint identifies the loaded config by its canonical form, so that
// two nodes whose files differ only in layout and comments agree. It is ""
// before the first load.
func (r *Runtime) Fingerprint() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fingerprint
}

// Globals returns the loaded config's logging and http blocks, or their
// defaults.
func (r *Runtime) Globals() config.Globals {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.globals
}

// SubscribeGlobals calls fn with the new globals after each load that
// changes them (the first load always does). fn runs on the loading
// goroutine, after the new graph is in place; it must not call Load. The
// returned function unsubscribes.
func (r *Runtime) SubscribeGlobals(fn func(config.Globals)) (unsubscribe func()) {
	r.subsMu.Lock()
	defer r.subsMu.Unlock()
	id := r.nextSub
	r.nextSub++
	r.subs[id] = fn
	return func() {
		r.subsMu.Lock()
		delete(r.subs, id)
		r.subsMu.Unlock()
	}
}

func (r *Runtime) notifyGlobals(g config.Globals) {
	r.subsMu.Lock()
	ids := make([]int, 0, len(r.subs))
	for id := range r.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	fns := make([]func(config.Globals), len(ids))
	for i, id := range ids {
		fns[i] = r.subs[id]
	}
	r.subsMu.Unlock()
	for _, fn := range fns {
		fn(g)
	}
}

// Validate checks src without loading it and returns every problem found,
// each at its file:line:col.
func (r *Runtime) Validate(filename string, src []byte) diag.Diagnostics {
	_, diags := r.compile(filename, src)
	return diags
}
