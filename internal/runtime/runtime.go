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
	"github.com/shoal-dev/shoal/internal/livedebug"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
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
	// StabilityLevel is --stability.level: components and blocks below it
	// are refused. Undefined means stability.Default. Functions are checked
	// by the evaluator: this level must also reach vm.Scope (see scope in
	// eval.go) once the evaluator has its option.
	StabilityLevel stability.Level
	// CommunityComponents is --feature.community-components.enabled.
	CommunityComponents bool
	// LiveDebug receives the live-debugging publishers of the components;
	// nil gives them inert ones. Enabling it is the caller's, from the
	// livedebugging block of the globals.
	LiveDebug *livedebug.Hub
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
	root        *controller // the file's graph; instances nest theirs in it
	loaded      bool
	fingerprint string
	globals     config.Globals
	runCtx      context.Context // set by Run
	stopped     bool            // Run is shutting down: start nothing new
	wg          sync.WaitGroup  // one per running component
	// bgCtx runs the import blocks' sources, which fetch modules from the
	// first load on, before Run; it ends when Run does.
	bgCtx    context.Context
	bgCancel context.CancelFunc

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
	if opts.StabilityLevel == stability.Undefined {
		opts.StabilityLevel = stability.Default
	}
	r := &Runtime{
		opts:    opts,
		log:     opts.Logger,
		globals: config.DefaultGlobals(),
		subs:    make(map[int]func(config.Globals)),
		changed: make(map[*node]struct{}),
		wake:    make(chan struct{}, 1),
	}
	r.bgCtx, r.bgCancel = context.WithCancel(context.Background())
	r.root = newController(r, nil, "")
	return r
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
		if dir, err := filepath.Abs(filepath.Dir(filename)); err == nil {
			r.root.modulePath = dir
		}
		err := r.root.apply(p)
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

// evaluate decodes n's block against vars and hands the result to the
// component: Build if it has none yet, Update if the arguments changed. On
// failure the component keeps its last good arguments and turns unhealthy.
// The caller holds r.mu.
func (r *Runtime) evaluate(n *node, vars map[string]any, scope *vm.Scope) (outcome, error) {
	args, diags := evalComponent(n.block, n.reg, scope)
	if diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating arguments: "+diags.Error(), now())
		return failed, fmt.Errorf("%s: %w", n.globalID, diags)
	}
	switch {
	case n.comp == nil:
		comp, err := r.build(n, args)
		if err != nil {
			n.evalHealth = unhealthy("building: "+err.Error(), now())
			return failed, fmt.Errorf("%s (%s): building: %w", n.globalID, n.pos, err)
		}
		n.comp, n.args = comp, args
		n.evalHealth = healthy("started", now())
		return built, nil
	case !equal(args, n.args):
		if err := n.comp.Update(args); err != nil {
			n.evalHealth = unhealthy("updating: "+err.Error(), now())
			return failed, fmt.Errorf("%s (%s): updating: %w", n.globalID, n.pos, err)
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
	n.metrics = newTrackingRegisterer(r.opts.Registerer, n.globalID)
	dataPath := r.dataPathFor(n.globalID)
	if dataPath != "" {
		if err := os.MkdirAll(dataPath, 0o755); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
	}
	opts := component.Options{
		ID:         n.globalID,
		Logger:     r.log.With("component", n.globalID),
		Registerer: n.metrics,
		DataPath:   dataPath,
		Cluster:    r.opts.Cluster,
		LiveDebug:  r.opts.LiveDebug.Publisher(n.globalID, n.name),
		Host:       r.opts.Host,
		OnStateChange: func(e component.Exports) {
			n.setExports(e)
			r.markChanged(n)
		},
	}
	return n.reg.Build(opts, args)
}

// markChanged queues n for the next propagation pass.
func (r *Runtime) markChanged(n *node) {
	r.changedMu.Lock()
	r.changed[n] = struct{}{}
	r.changedMu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
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
			r.log.Error("component exited", "component", n.globalID, "err", err)
		case ctx.Err() == nil:
			n.setRunHealth(component.Health{State: component.HealthExited, Message: "run returned before the component was stopped", Updated: now()})
			r.log.Warn("component exited early", "component", n.globalID)
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
		if n.kind == kindBuiltin && n.comp != nil && n.cancel == nil {
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
	r.bgCancel()
}

// ordered returns the nodes of every graph in topological order, the body
// of an instance right after the instance. The caller holds r.mu.
func (r *Runtime) ordered() []*node {
	var out []*node
	r.root.walk(func(n *node) { out = append(out, n) })
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
	nodes := make([]*node, 0, len(changed))
	for n := range changed {
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b *node) int { return strings.Compare(a.globalID, b.globalID) })
	for _, n := range nodes {
		if n.kind == kindImport {
			n.mu.Lock()
			stopped := n.imp == nil || n.imp.stopped
			n.mu.Unlock()
			if stopped {
				continue // removed by a reload or a new module since
			}
			if r.takePending(n) {
				r.importChanged(n)
			}
			continue
		}
		if n.ctl == nil || n.ctl.dead || n.ctl.nodes[n.id] != n {
			continue // removed by a reload since
		}
		n.ctl.publish(n)
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

// ComponentInfo describes one component of the loaded graph: a built-in
// component, an instance of a custom component, or an import block.
type ComponentInfo struct {
	// ID is global: "prometheus.scrape.default" at the top of the file,
	// "name.label/prometheus.scrape.default" inside an instance of a
	// custom component, as Alloy names them.
	ID string
	// ModuleID is the instance the component runs in ("" at the top of the
	// file) and LocalID its ID there.
	ModuleID, LocalID string
	Name              string // "prometheus.scrape"
	Label             string // "default"
	// Custom is set for an instance of a custom component, whose body runs
	// as the module named in ModuleIDs.
	Custom    bool
	ModuleIDs []string
	Health    component.Health
	Arguments component.Arguments // the decoded struct in use; nil if never evaluated
	Exports   component.Exports
	DebugInfo any // from component.DebugComponent, or nil
	// ReferencesTo and ReferencedBy are local IDs in the same module.
	ReferencesTo []string
	ReferencedBy []string
	Position     token.Position // of the block
	// Instance is the running component, for optional interfaces such as
	// component.TargetLister; nil if it was never built.
	Instance component.Component
}

// listed reports whether a node is shown as a component.
func listed(n *node) bool {
	return n.kind == kindBuiltin || n.kind == kindCustom || n.kind == kindImport
}

// Components describes every component of every module, sorted by ID.
func (r *Runtime) Components() []ComponentInfo {
	r.mu.Lock()
	var snaps []snapshot
	r.root.walk(func(n *node) {
		if listed(n) {
			snaps = append(snaps, r.snapshot(n))
		}
	})
	r.mu.Unlock()
	out := make([]ComponentInfo, len(snaps))
	for i, s := range snaps {
		out[i] = s.info()
	}
	slices.SortFunc(out, func(a, b ComponentInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Component describes the component with the given global ID. The part
// before the last slash is the module.
func (r *Runtime) Component(id string) (ComponentInfo, bool) {
	moduleID, localID := "", id
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		moduleID, localID = id[:i], id[i+1:]
	}
	r.mu.Lock()
	n, ok := r.root.find(moduleID, localID)
	if !ok || !listed(n) {
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
	more       []component.Health
	args       component.Arguments
	exports    component.Exports
	refsTo     []string
	refBy      []string
	pos        token.Position
	moduleID   string
	modules    []string
}

func (r *Runtime) snapshot(n *node) snapshot {
	s := snapshot{n: n, comp: n.comp, evalHealth: n.evalHealth, args: n.args, pos: n.pos}
	if n.ctl != nil {
		s.moduleID = n.ctl.moduleID
	}
	for _, id := range n.refsTo {
		if m := n.ctl.nodes[id]; m != nil && listed(m) {
			s.refsTo = append(s.refsTo, id)
		}
	}
	for _, id := range n.refBy {
		if m := n.ctl.nodes[id]; m != nil && listed(m) {
			s.refBy = append(s.refBy, id)
		}
	}
	switch n.kind {
	case kindBuiltin:
		s.exports = n.currentExports()
	case kindCustom:
		s.modules = moduleIDs(n)
		s.exports = n.currentExports()
		if n.custom != nil {
			if n.custom.args != nil {
				s.args = n.custom.args
			}
			if via := n.custom.via; via != nil {
				s.more = append(s.more, via.evalHealth)
				s.more = append(s.more, importHealth(via)...)
			}
		}
	case kindImport:
		if n.imp != nil {
			s.args = n.imp.args
		}
		s.more = importHealth(n)
	}
	return s
}

func (s snapshot) info() ComponentInfo {
	n := s.n
	n.mu.Lock()
	run := n.runHealth
	n.mu.Unlock()
	hs := append([]component.Health{s.evalHealth, run}, s.more...)
	if hc, ok := s.comp.(component.HealthComponent); ok {
		hs = append(hs, hc.CurrentHealth())
	}
	var debug any
	if dc, ok := s.comp.(component.DebugComponent); ok {
		debug = dc.DebugInfo()
	}
	e := s.exports
	if n.kind == kindBuiltin {
		e = n.currentExports() // the freshest, read under n.mu
	}
	return ComponentInfo{
		ID:           n.globalID,
		ModuleID:     s.moduleID,
		LocalID:      n.id,
		Name:         n.name,
		Label:        n.label,
		Custom:       n.kind == kindCustom,
		ModuleIDs:    s.modules,
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
	ready := true
	r.root.walk(func(n *node) {
		if rc, ok := n.comp.(component.ReadyComponent); ok && !rc.Ready() {
			ready = false
		}
	})
	return ready
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
