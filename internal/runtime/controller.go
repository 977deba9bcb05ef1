package runtime

import (
	"fmt"
	"slices"

	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// controller runs one graph: the config file's, or the body of one instance
// of a custom component. Every controller of a Runtime shares its lock
// (Runtime.mu), its components' goroutines and its propagation loop.
type controller struct {
	r *Runtime
	// moduleID is "" for the file and, for an instance, the instance's
	// global ID: "name.label", "name.label/inner.label", ...
	moduleID string
	owner    *node // the instance this graph is the body of; nil for the file
	depth    int

	plan       *plan
	nodes      map[string]*node
	graph      *graph
	topoIndex  map[string]int
	vars       map[string]any
	modulePath string
	// args are the instance's arguments, by name.
	args map[string]value.Value
	// reg resolves the custom components this body instantiates.
	reg  *regScope
	dead bool
}

func newController(r *Runtime, owner *node, modulePath string) *controller {
	c := &controller{r: r, owner: owner, nodes: make(map[string]*node), graph: newGraph(),
		topoIndex: make(map[string]int), vars: make(map[string]any), modulePath: modulePath}
	if owner != nil {
		c.moduleID = owner.globalID
		c.depth = owner.ctl.depth + 1
	}
	return c
}

// globalID is a local ID as the API, metrics and data paths name it.
func (c *controller) globalID(id string) string {
	if c.moduleID == "" {
		return id
	}
	return c.moduleID + "/" + id
}

// importNode returns the import block of this graph that has namespace ns.
func (c *controller) importNode(ns string) (*node, bool) {
	for _, n := range c.nodes {
		if n.kind == kindImport && n.label == ns {
			return n, true
		}
	}
	return nil, false
}

// apply makes p this controller's graph. The caller holds r.mu. Every
// instance of a custom component in it is applied in turn (full), so that
// new module content reaches every level.
func (c *controller) apply(p *plan) error {
	r := c.r
	var errs []error
	next := make(map[string]*node, len(p.order))
	vars := map[string]any{modulePathVar: c.modulePath}
	var fresh []*node
	var counts [failed + 1]int
	c.plan = p
	// The new graph's imports must be found by the instances evaluated
	// below, before r.nodes is replaced.
	c.reg = &regScope{parent: c.parentReg(), declares: p.declares, imports: func(ns string) (*node, bool) {
		for _, n := range next {
			if n.kind == kindImport && n.label == ns {
				return n, true
			}
		}
		return nil, false
	}}
	for _, id := range p.order {
		pb := p.byID[id]
		n, existed := c.nodes[id]
		if existed && (n.kind != pb.kind || n.name != pb.name) {
			existed = false
		}
		if !existed {
			n = &node{id: id, name: pb.name, label: pb.label, kind: pb.kind, reg: pb.reg, ctl: c, globalID: c.globalID(id)}
		}
		n.block = pb.block
		n.pos = pb.pos
		n.plan = pb
		next[id] = n
		out, _, err := c.evaluate(n, vars, true)
		counts[out]++
		if err != nil {
			errs = append(errs, err)
		}
		if n.kind == kindBuiltin && (out == built || (n.comp != nil && exited(n))) {
			fresh = append(fresh, n)
		}
		e := n.currentExports()
		n.scopeExports = e
		if n.kind == kindBuiltin || n.kind == kindCustom || n.kind == kindArgument {
			setVar(vars, id, e)
		}
	}

	var removed []*node
	for id, n := range c.nodes {
		if m, ok := next[id]; !ok || m != n {
			removed = append(removed, n)
		}
	}
	// Stop users before what they use, as at shutdown.
	slices.SortFunc(removed, func(a, b *node) int { return c.topoIndex[b.id] - c.topoIndex[a.id] })

	c.nodes = next
	c.graph = p.graph
	c.vars = vars
	c.reg.imports = c.importNode
	c.topoIndex = make(map[string]int, len(p.order))
	for i, id := range p.order {
		c.topoIndex[id] = i
		n := next[id]
		n.refsTo = p.graph.referencesTo(id)
		n.refBy = p.graph.referencedBy(id)
	}

	for _, n := range removed {
		r.remove(n)
	}
	if c.owner == nil {
		r.log.Info("config applied", "built", counts[built], "updated", counts[updated],
			"unchanged", counts[unchanged], "failed", counts[failed], "removed", len(removed))
	}
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

// parentReg is the scope an instance's body resolves names in after its
// own: the scope where its declare was found.
func (c *controller) parentReg() *regScope {
	if c.owner == nil || c.owner.custom == nil {
		return nil
	}
	return c.owner.custom.foundIn
}

// evaluate brings n up to date with vars. changed reports, for the nodes
// whose value is computed here (arguments, exports, instances, imports),
// whether what they export changed. The caller holds r.mu.
func (c *controller) evaluate(n *node, vars map[string]any, full bool) (out outcome, changed bool, err error) {
	switch n.kind {
	case kindBuiltin:
		out, err = c.r.evaluate(n, vars, c.scope(vars))
		return out, false, err
	case kindArgument:
		return c.evalArgument(n, vars)
	case kindExport:
		return c.evalExport(n, vars)
	case kindCustom:
		return c.evalInstance(n, vars, full)
	case kindImport:
		return c.evalImport(n, vars)
	}
	return failed, false, fmt.Errorf("%s: unknown kind of block", n.globalID)
}

// settle re-evaluates, in topological order, the users of the nodes in
// seeds, whose exports in c.vars are already up to date, and onwards
// through every node whose value changed as a result. The users of an
// import are re-applied in full. The caller holds r.mu.
func (c *controller) settle(seeds []string) {
	pending := make(map[string]bool)
	full := make(map[string]bool)
	addUsers := func(id string) {
		isImport := c.nodes[id] != nil && c.nodes[id].kind == kindImport
		for _, u := range c.graph.referencedBy(id) {
			pending[u] = true
			if isImport {
				full[u] = true
			}
		}
	}
	for _, id := range seeds {
		addUsers(id)
	}
	for len(pending) > 0 {
		id := ""
		for p := range pending {
			if id == "" || c.topoIndex[p] < c.topoIndex[id] {
				id = p
			}
		}
		delete(pending, id)
		n := c.nodes[id]
		if n == nil {
			continue
		}
		out, changed, err := c.evaluate(n, c.vars, full[id])
		if err != nil {
			c.r.log.Warn("re-evaluating component failed; keeping its last good arguments", "component", n.globalID, "err", err)
		}
		if n.kind == kindBuiltin && out == built && c.r.runCtx != nil && !c.r.stopped {
			c.r.start(n)
		}
		if changed {
			addUsers(id)
		}
	}
}

// publish compares n's current exports with those its graph last saw
// (n.scopeExports) and, if they differ, gives them to the graph and settles
// it, then does the same for the instance that graph is the body of, up to
// the file. The caller holds r.mu.
func (c *controller) publish(n *node) {
	for ctl, cur := c, n; ctl != nil && !ctl.dead; {
		e := cur.currentExports()
		if equal(e, cur.scopeExports) {
			return
		}
		cur.scopeExports = e
		setVar(ctl.vars, cur.id, e)
		ctl.settle([]string{cur.id})
		owner := ctl.owner
		if owner == nil || owner.ctl == nil {
			return
		}
		owner.custom.exports = ctl.exportValues()
		ctl, cur = owner.ctl, owner
	}
}

// exportValues collects the values of this body's export blocks.
func (c *controller) exportValues() map[string]value.Value {
	out := make(map[string]value.Value)
	for _, n := range c.nodes {
		if n.kind == kindExport {
			out[n.label] = n.value
		}
	}
	return out
}

// walk calls fn for every node of c and of the graphs nested in it, each
// graph in topological order, an instance's body right after it.
func (c *controller) walk(fn func(n *node)) {
	ids := make([]string, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return c.topoIndex[a] - c.topoIndex[b] })
	for _, id := range ids {
		n := c.nodes[id]
		fn(n)
		if n.kind == kindCustom && n.custom != nil && n.custom.child != nil {
			n.custom.child.walk(fn)
		}
	}
}

// find returns the node with a global ID.
func (c *controller) find(moduleID, localID string) (*node, bool) {
	ctl := c
	if moduleID != "" {
		owner, ok := c.findGlobal(moduleID)
		if !ok || owner.kind != kindCustom || owner.custom == nil || owner.custom.child == nil {
			return nil, false
		}
		ctl = owner.custom.child
	}
	n, ok := ctl.nodes[localID]
	return n, ok
}

func (c *controller) findGlobal(id string) (*node, bool) {
	var found *node
	c.walk(func(n *node) {
		if n.globalID == id {
			found = n
		}
	})
	return found, found != nil
}

// currentExports is what n offers to the expressions of its graph: a
// component's latest exports (their typed zero value before the first,
// with empty lists rather than null), an argument's value, an instance's
// exports, an import's module.
func (n *node) currentExports() any {
	switch n.kind {
	case kindBuiltin:
		e := n.latestExports()
		if e == nil {
			e = trialExports(n.reg.Exports)
		}
		return e
	case kindArgument:
		return argumentExports{Value: n.value}
	case kindExport:
		return n.value
	case kindCustom:
		if n.custom == nil || n.custom.exports == nil {
			return map[string]value.Value{}
		}
		return n.custom.exports
	case kindImport:
		if n.imp == nil {
			return (*module)(nil)
		}
		return n.imp.mod
	}
	return nil
}

// remove stops n and everything nested in it. The caller holds r.mu.
func (r *Runtime) remove(n *node) {
	switch n.kind {
	case kindBuiltin:
		r.stop(n)
		r.opts.LiveDebug.Remove(n.globalID)
	case kindCustom:
		if n.custom != nil && n.custom.child != nil {
			n.custom.child.stopAll()
			n.custom.child = nil
		}
	case kindImport:
		r.stopImport(n)
	}
	r.log.Debug("component removed", "component", n.globalID)
}

// stopAll stops every node of c, users before what they use.
func (c *controller) stopAll() {
	c.dead = true
	var all []*node
	c.walk(func(n *node) { all = append(all, n) })
	slices.Reverse(all)
	for _, n := range all {
		switch n.kind {
		case kindBuiltin:
			c.r.stop(n)
			c.r.opts.LiveDebug.Remove(n.globalID)
		case kindImport:
			c.r.stopImport(n)
		case kindCustom:
			if n.custom != nil && n.custom.child != nil {
				n.custom.child.dead = true
			}
		}
	}
}
