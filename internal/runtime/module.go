package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/importsource"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// newImportSource builds the source of an import.file, import.http or
// import.git block from its decoded arguments (the value importArguments
// gave, not a pointer). Tests replace it; while it is nil those blocks
// report that they are unavailable. import.string needs no source: its
// content is its argument. The module_path of a module's declares is the
// one its content carries (importsource.Content.ModulePath), or else the
// importer's.
var newImportSource = importsource.New

// firstContentTimeout bounds how long evaluating a new import block waits
// for its source's first content, so that a load cannot hang on a server
// that never answers.
var firstContentTimeout = 30 * time.Second

// regScope resolves the names of custom components at run time: the
// declares and the imports of a body, then those of the scope its declare
// was found in. It is Alloy's custom component registry.
type regScope struct {
	parent     *regScope
	declares   map[string]*declTemplate
	imports    func(ns string) (*node, bool)
	modulePath string
}

// findDeclare returns the declare called name and the scope holding it.
func (s *regScope) findDeclare(name string) (*declTemplate, *regScope) {
	for sc := s; sc != nil; sc = sc.parent {
		if t, ok := sc.declares[name]; ok {
			return t, sc
		}
	}
	return nil, nil
}

// findImported returns the declare name of the module imported as ns, and
// the module's scope.
func (s *regScope) findImported(ns, name string) (*declTemplate, *regScope, *node, error) {
	var lastErr error
	for sc := s; sc != nil; sc = sc.parent {
		if sc.imports == nil {
			continue
		}
		imp, ok := sc.imports(ns)
		if !ok {
			continue
		}
		if imp.imp == nil || imp.imp.mod == nil {
			lastErr = fmt.Errorf("import %q has no module loaded", ns)
			continue
		}
		if t, ok := imp.imp.mod.plan.declares[name]; ok {
			return t, imp.imp.mod.reg, imp, nil
		}
		lastErr = fmt.Errorf("module imported as %q has no declare %q", ns, name)
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("cannot find the definition of component name %q", ns+"."+name)
	}
	return nil, nil, nil, lastErr
}

// customState is what an instance of a custom component holds.
type customState struct {
	child   *controller
	tmpl    *declTemplate
	foundIn *regScope
	via     *node // the import block the declare came from, if imported
	args    map[string]value.Value
	exports map[string]value.Value
}

// module is one good version of an imported module's content.
type module struct {
	plan       *plan
	reg        *regScope
	children   map[string]*node // its own import blocks, by namespace
	modulePath string
	files      map[string][]byte
}

// importState is what an import block holds.
type importState struct {
	mod           *module
	files         map[string][]byte // the last content tried
	args          any
	contentHealth component.Health
	parent        *node // for an import inside a module: the importing block
	modulePath    string

	source importsource.Source
	cancel context.CancelFunc

	// Guarded by node.mu: written by the source's goroutine.
	pending    *importsource.Content
	pendingErr error
	waiter     chan struct{}
	stopped    bool
}

func (c *controller) scope(vars map[string]any) *vm.Scope { return c.r.scope(vars) }

func setSync(n *node, vars map[string]any, e any) bool {
	if n.scopeExports != nil && equal(e, n.scopeExports) {
		return false
	}
	n.scopeExports = e
	setVar(vars, n.id, e)
	return true
}

func (c *controller) evalArgument(n *node, vars map[string]any) (outcome, bool, error) {
	var a argumentBlock
	if diags := evalInto(n.block, c.scope(vars), &a); diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating: "+diags.Error(), now())
		return failed, false, fmt.Errorf("%s: %w", n.globalID, diags)
	}
	v, given := c.args[n.label]
	if !given {
		if !a.Optional {
			msg := fmt.Sprintf("missing required argument %q to module", n.label)
			n.evalHealth = unhealthy(msg, now())
			return failed, false, fmt.Errorf("%s (%s): %s", n.globalID, n.pos, msg)
		}
		v = a.Default
	}
	n.value = v
	n.evalHealth = healthy("argument evaluated", now())
	return unchanged, setSync(n, vars, argumentExports{Value: v}), nil
}

func (c *controller) evalExport(n *node, vars map[string]any) (outcome, bool, error) {
	var e exportBlock
	if diags := evalInto(n.block, c.scope(vars), &e); diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating: "+diags.Error(), now())
		return failed, false, fmt.Errorf("%s: %w", n.globalID, diags)
	}
	n.evalHealth = healthy("export evaluated", now())
	if equal(e.Value, n.value) && n.scopeExports != nil {
		return unchanged, false, nil
	}
	n.value = e.Value
	n.scopeExports = e.Value
	return updated, true, nil
}

// evalInstance evaluates an instance of a custom component: its arguments,
// then its body. A body whose declare changed, or whose imports have new
// content (full), is applied again, which updates only the components that
// changed; otherwise new arguments re-evaluate only what uses them.
func (c *controller) evalInstance(n *node, vars map[string]any, full bool) (outcome, bool, error) {
	fail := func(msg string) (outcome, bool, error) {
		n.evalHealth = unhealthy(msg, now())
		return failed, false, fmt.Errorf("%s (%s): %s", n.globalID, n.pos, msg)
	}
	scope := c.scope(vars)
	var args map[string]value.Value
	if diags := evalInto(n.block, scope, &args); diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating arguments: "+diags.Error(), now())
		return failed, false, fmt.Errorf("%s: %w", n.globalID, diags)
	}
	if c.depth+1 > maxModuleDepth {
		return fail(fmt.Sprintf("custom components nested more than %d deep", maxModuleDepth))
	}
	var (
		t       *declTemplate
		foundIn *regScope
		via     *node
	)
	if n.plan.namespace == "" {
		t, foundIn = c.reg.findDeclare(n.plan.declName)
		if t == nil {
			return fail(fmt.Sprintf("cannot find the definition of component name %q", n.name))
		}
	} else {
		var err error
		t, foundIn, via, err = c.reg.findImported(n.plan.namespace, n.plan.declName)
		if err != nil {
			return fail(err.Error())
		}
	}
	if diags := checkInstanceArgs(n.block, t.plan, scope); diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating arguments: "+diags.Error(), now())
		return failed, false, fmt.Errorf("%s: %w", n.globalID, diags)
	}
	if n.custom == nil {
		n.custom = &customState{}
	}
	cs := n.custom
	cs.via = via
	out := unchanged
	var err error
	switch {
	case cs.child == nil || full || cs.tmpl != t:
		if cs.child == nil {
			out = built
			cs.child = newController(c.r, n, foundIn.modulePath)
		} else {
			out = updated
		}
		cs.tmpl, cs.foundIn, cs.args = t, foundIn, args
		cs.child.args = args
		cs.child.modulePath = foundIn.modulePath
		err = cs.child.apply(t.plan)
	case !equal(args, cs.args):
		out = updated
		cs.args = args
		cs.child.args = args
		var seeds []string
		for _, an := range cs.child.nodes {
			if an.kind != kindArgument {
				continue
			}
			_, changed, aerr := cs.child.evalArgument(an, cs.child.vars)
			if aerr != nil {
				err = errors.Join(err, aerr)
			}
			if changed {
				seeds = append(seeds, an.id)
			}
		}
		sort.Strings(seeds)
		cs.child.settle(seeds)
	}
	cs.exports = cs.child.exportValues()
	if err != nil {
		n.evalHealth = unhealthy("module: "+err.Error(), now())
		return failed, setSync(n, vars, cs.exports), fmt.Errorf("%s (%s): %w", n.globalID, n.pos, err)
	}
	if unhealthyInside(cs.child) {
		n.evalHealth = unhealthy("a component of the module failed to evaluate", now())
	} else {
		n.evalHealth = healthy("module evaluated", now())
	}
	return out, setSync(n, vars, cs.exports), nil
}

func unhealthyInside(c *controller) bool {
	bad := false
	for _, n := range c.nodes {
		if n.evalHealth.State == component.HealthUnhealthy {
			bad = true
		}
	}
	return bad
}

func (c *controller) evalImport(n *node, vars map[string]any) (outcome, bool, error) {
	before := n.currentExports()
	out, err := c.r.evalImport(n, c.scope(vars), c.modulePath)
	after := n.currentExports()
	changed := before != after
	if changed {
		n.scopeExports = after
	}
	return out, changed, err
}

// evalImport evaluates an import block's arguments: import.string's
// content is loaded at once; the other kinds hand their arguments to their
// source, whose first content is waited for. The caller holds r.mu.
func (r *Runtime) evalImport(n *node, scope *vm.Scope, parentPath string) (outcome, error) {
	args := importArgsFor(n.name)
	if diags := evalInto(n.block, scope, args); diags.HasErrors() {
		n.evalHealth = unhealthy("evaluating arguments: "+diags.Error(), now())
		return failed, fmt.Errorf("%s: %w", n.globalID, diags)
	}
	if n.imp == nil {
		n.imp = &importState{}
	}
	st := n.imp
	if st.modulePath == "" {
		st.modulePath = parentPath
	}
	if sa, ok := args.(*stringImportArgs); ok {
		st.args = *sa
		files := map[string][]byte{n.globalID: []byte(sa.Content.Value)}
		if st.mod != nil && maps.EqualFunc(files, st.files, bytesEqual) {
			n.evalHealth = healthy("import evaluated", now())
			return unchanged, nil
		}
		n.evalHealth = healthy("import evaluated", now())
		if err := r.loadModule(n, files); err != nil {
			return failed, err
		}
		return updated, nil
	}
	if newImportSource == nil {
		msg := n.name + " is not available in this build"
		n.evalHealth = unhealthy(msg, now())
		return failed, fmt.Errorf("%s (%s): %s", n.globalID, n.pos, msg)
	}
	plain := reflect.ValueOf(args).Elem().Interface()
	if st.source != nil {
		if equal(plain, st.args) {
			return unchanged, nil
		}
		if err := st.source.Update(plain); err != nil {
			n.evalHealth = unhealthy("updating: "+err.Error(), now())
			return failed, fmt.Errorf("%s (%s): updating: %w", n.globalID, n.pos, err)
		}
		st.args = plain
		n.evalHealth = healthy("import updated", now())
		return updated, nil
	}
	src, err := newImportSource(n.name, plain, importsource.Options{
		Logger:   r.log.With("component", n.globalID),
		DataPath: r.dataPathFor(n.globalID),
	})
	if err != nil {
		n.evalHealth = unhealthy("building: "+err.Error(), now())
		return failed, fmt.Errorf("%s (%s): building: %w", n.globalID, n.pos, err)
	}
	st.source, st.args = src, plain
	ctx, cancel := context.WithCancel(r.bgCtx)
	st.cancel = cancel
	waiter := make(chan struct{})
	n.mu.Lock()
	st.waiter = waiter
	n.mu.Unlock()
	go func() {
		err := src.Run(ctx, func(c importsource.Content, err error) { r.importUpdate(n, c, err) })
		if err != nil && ctx.Err() == nil {
			r.importUpdate(n, importsource.Content{}, fmt.Errorf("source stopped: %w", err))
		}
	}()
	timer := time.NewTimer(firstContentTimeout)
	defer timer.Stop()
	select {
	case <-waiter:
	case <-timer.C:
	}
	n.mu.Lock()
	st.waiter = nil
	n.mu.Unlock()
	n.evalHealth = healthy("import started", now())
	if !r.takePending(n) {
		st.contentHealth = unhealthy("no content received from the source yet", now())
		return built, nil
	}
	if st.mod == nil {
		return failed, fmt.Errorf("%s (%s): %s", n.globalID, n.pos, st.contentHealth.Message)
	}
	return built, nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// importUpdate is a source's update callback: it runs on the source's
// goroutine and only records what came, for the propagation loop.
func (r *Runtime) importUpdate(n *node, c importsource.Content, err error) {
	n.mu.Lock()
	st := n.imp
	if st == nil || st.stopped {
		n.mu.Unlock()
		return
	}
	if err != nil {
		st.pending, st.pendingErr = nil, err
	} else {
		cc := c
		st.pending, st.pendingErr = &cc, nil
	}
	waiter := st.waiter
	st.waiter = nil
	n.mu.Unlock()
	if waiter != nil {
		close(waiter)
		return
	}
	r.markChanged(n)
}

// takePending loads what the source delivered last, reporting whether
// there was anything. The caller holds r.mu.
func (r *Runtime) takePending(n *node) bool {
	n.mu.Lock()
	st := n.imp
	c, err := st.pending, st.pendingErr
	st.pending, st.pendingErr = nil, nil
	n.mu.Unlock()
	switch {
	case err != nil:
		st.contentHealth = unhealthy("fetching the module: "+err.Error(), now())
		return true
	case c == nil:
		return false
	}
	if c.ModulePath != "" {
		st.modulePath = c.ModulePath
	}
	if st.mod != nil && maps.EqualFunc(c.Files, st.files, bytesEqual) {
		st.contentHealth = healthy("module unchanged", now())
		return true
	}
	if err := r.loadModule(n, c.Files); err != nil {
		r.log.Warn("module failed to load; keeping the last good one", "component", n.globalID, "err", err)
	}
	return true
}

// loadModule compiles new module content for import block n and, if it is
// good, makes it the import's module. Otherwise the last good module stays
// and the error shows on the block's health. The caller holds r.mu.
func (r *Runtime) loadModule(n *node, files map[string][]byte) error {
	st := n.imp
	st.files = files
	p, diags := r.compileModule(files)
	if diags.HasErrors() {
		st.contentHealth = unhealthy("module: "+diags.Error(), now())
		return fmt.Errorf("%s (%s): module: %w", n.globalID, n.pos, diags)
	}
	mod := &module{plan: p, children: make(map[string]*node), modulePath: st.modulePath, files: files}
	mod.reg = &regScope{declares: p.declares, modulePath: st.modulePath, imports: func(ns string) (*node, bool) {
		c, ok := mod.children[ns]
		return c, ok
	}}
	scope := r.scope(map[string]any{modulePathVar: st.modulePath})
	var errs []error
	for _, id := range sortedPlanIDs(p) {
		pb := p.byID[id]
		if pb.kind != kindImport {
			continue
		}
		child := &node{id: pb.id, name: pb.name, label: pb.label, kind: kindImport, block: pb.block, pos: pb.pos, plan: pb,
			globalID: n.globalID + "/" + pb.id, imp: &importState{parent: n, modulePath: st.modulePath}}
		mod.children[pb.label] = child
		if _, err := r.evalImport(child, scope, st.modulePath); err != nil {
			errs = append(errs, err)
		} else if child.imp.mod == nil {
			errs = append(errs, fmt.Errorf("%s: %s", child.globalID, child.imp.contentHealth.Message))
		}
	}
	if len(errs) > 0 {
		for _, c := range mod.children {
			r.stopImport(c)
		}
		err := errors.Join(errs...)
		st.contentHealth = unhealthy("nested import failed: "+err.Error(), now())
		return fmt.Errorf("%s (%s): nested import failed: %w", n.globalID, n.pos, err)
	}
	if st.mod != nil {
		for _, c := range st.mod.children {
			r.stopImport(c)
		}
	}
	st.mod = mod
	st.contentHealth = healthy("module loaded", now())
	return nil
}

// importChanged publishes new content of import n: its users in its graph
// are applied again. An import inside a module gives its importer a new
// version of the module instead. The caller holds r.mu.
func (r *Runtime) importChanged(n *node) {
	for n.ctl == nil {
		p := n.imp.parent
		if p == nil || p.imp == nil || p.imp.mod == nil {
			return
		}
		cp := *p.imp.mod
		p.imp.mod = &cp
		n = p
	}
	if n.ctl.dead || n.ctl.nodes[n.id] != n {
		return
	}
	if n.currentExports() == n.scopeExports {
		return
	}
	n.scopeExports = n.currentExports()
	n.ctl.settle([]string{n.id})
	// The users' new exports go up through their instances.
	if owner := n.ctl.owner; owner != nil && owner.ctl != nil {
		owner.custom.exports = n.ctl.exportValues()
		owner.ctl.publish(owner)
	}
}

func (r *Runtime) stopImport(n *node) {
	st := n.imp
	if st == nil {
		return
	}
	n.mu.Lock()
	st.stopped = true
	n.mu.Unlock()
	if st.cancel != nil {
		st.cancel()
	}
	if st.mod != nil {
		for _, c := range st.mod.children {
			r.stopImport(c)
		}
	}
}

func (r *Runtime) dataPathFor(globalID string) string {
	if r.opts.DataPath == "" {
		return ""
	}
	return filepath.Join(r.opts.DataPath, filepath.FromSlash(globalID))
}

// moduleIDs lists the module an instance runs, as Alloy's createdModuleIDs.
func moduleIDs(n *node) []string {
	if n.kind != kindCustom || n.custom == nil || n.custom.child == nil {
		return nil
	}
	return []string{n.custom.child.moduleID}
}

// importHealth merges an import block's evaluation with its content's and
// its nested imports'.
func importHealth(n *node) []component.Health {
	st := n.imp
	if st == nil {
		return nil
	}
	hs := []component.Health{st.contentHealth}
	if st.mod != nil {
		names := slices.Sorted(maps.Keys(st.mod.children))
		for _, ns := range names {
			c := st.mod.children[ns]
			hs = append(hs, c.evalHealth)
			hs = append(hs, importHealth(c)...)
		}
	}
	return hs
}
