package runtime

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/config"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// plan is one validated body, ready to be applied: the root file, or the
// body of a declare block.
type plan struct {
	byID        map[string]*planBlock
	graph       *graph
	order       []string // topological
	globals     config.Globals
	fingerprint string
	// declares are the declare blocks of this body, by label.
	declares map[string]*declTemplate
	// arguments are the argument blocks of a declare body, by label.
	arguments map[string]*planBlock
}

// planBlock is one block of a plan that becomes a node of the graph: a
// component, a custom component instance, or an argument, export or import
// block.
type planBlock struct {
	id, name, label string
	kind            nodeKind
	block           *ast.BlockStmt
	reg             component.Registration
	pos             token.Position
	// namespace and declName name the template of a custom component
	// instance: "" and "name" for a declare in scope, "ns" and "name" for
	// one imported as ns.
	namespace, declName string
}

// The top-level blocks that configure shoal itself rather than declare a
// component.
const (
	blockLogging       = "logging"
	blockHTTP          = "http"
	blockLiveDebugging = "livedebugging"
)

// compile parses and checks src against the registry. It returns every
// problem it finds, sorted by position; the plan is only usable when there
// are no errors.
func (r *Runtime) compile(filename string, src []byte) (*plan, diag.Diagnostics) {
	file, diags := parse(filename, src)
	if diags.HasErrors() {
		return nil, diags
	}
	var all diag.Diagnostics
	p := r.compileBody(file.Body, bodyRoot, nil, &all)
	checkDeclareCycles(p, &all)
	all.Sort()
	all = all.Dedup()
	if all.HasErrors() {
		return nil, all
	}
	p.fingerprint = fingerprint(file, src)
	return p, all
}

// bodyKind is what a body being compiled is.
type bodyKind int

const (
	bodyRoot    bodyKind = iota // the config file
	bodyDeclare                 // the body of a declare block
	bodyModule                  // the content of an imported module
)

// compileBody checks one body and, recursively, the declare blocks in it.
// parent is the scope of the enclosing bodies (nil at the top of a file or
// module).
func (r *Runtime) compileBody(body ast.Body, kind bodyKind, parent *staticScope, diags *diag.Diagnostics) *plan {
	c := &compiler{
		r:        r,
		reg:      r.opts.Registry,
		kind:     kind,
		p:        &plan{byID: make(map[string]*planBlock), graph: newGraph(), globals: config.DefaultGlobals(), declares: make(map[string]*declTemplate), arguments: make(map[string]*planBlock)},
		declared: make(map[string]token.Position),
		roots:    make(map[string]bool),
		others:   make(map[string]token.Position),

		level:     r.opts.StabilityLevel,
		community: r.opts.CommunityComponents,

		pendingImports: make(map[string]bool),
	}
	for _, name := range c.reg.Names() {
		c.roots[strings.SplitN(name, ".", 2)[0]] = true
	}
	c.scope = &staticScope{parent: parent, declares: c.p.declares, imports: make(map[string]bool)}
	c.pendingDeclares = make(map[string]bool)
	for _, stmt := range body {
		if b, ok := stmt.(*ast.BlockStmt); ok && b.Label != "" {
			switch name := b.GetBlockName(); {
			case name == blockDeclare:
				c.pendingDeclares[b.Label] = true
			case isImportBlock(name):
				c.pendingImports[b.Label] = true
			}
		}
	}
	c.collect(body)
	if kind != bodyDeclare {
		// Functions below --stability.level are refused where they are
		// written, even in a branch that is never evaluated, as Alloy
		// does (declare bodies are inside their file's or module's).
		for _, stmt := range body {
			c.diags = append(c.diags, vm.CheckStability(stmt, &vm.Scope{MinStability: c.level})...)
		}
	}
	for s := c.scope; s != nil; s = s.parent {
		for name := range s.declares {
			c.roots[name] = true
		}
		for ns := range s.imports {
			c.roots[ns] = true
		}
	}
	if kind == bodyDeclare {
		c.roots[blockArgument] = true
	}
	for _, name := range sortedTemplateNames(c.p.declares) {
		t := c.p.declares[name]
		t.plan = r.compileBody(t.block.Body, bodyDeclare, c.scope, diags)
		t.scope = c.scope
	}
	c.link()
	c.checkCycles()
	c.trialEvaluate(r)
	*diags = append(*diags, c.diags...)
	c.p.order = c.p.graph.topoOrder()
	return c.p
}

type compiler struct {
	r     *Runtime
	reg   *component.Registry
	kind  bodyKind
	p     *plan
	diags diag.Diagnostics
	scope *staticScope
	// others holds the IDs of argument, export, import and declare blocks,
	// for duplicate checks.
	others map[string]token.Position
	// pendingDeclares and pendingImports are the labels of this body's
	// declare and import blocks, known before the body is collected so that
	// an instance may come before its definition.
	pendingDeclares, pendingImports map[string]bool

	blocks   []*planBlock              // component blocks in source order
	declared map[string]token.Position // every labelled block ID, known or not
	roots    map[string]bool           // first fragments of component names
	globals  map[string]*ast.BlockStmt
	// badRefs holds, per component ID, the ranges of references that were
	// already reported, so that the vm's own complaint about them is not
	// reported twice.
	badRefs map[string][]span
	// level and community are --stability.level and
	// --feature.community-components.enabled (see toplevel.go).
	level     stability.Level
	community bool
}

type span struct{ start, end int }

// traversal is a reference such as discovery.file.x.targets, with the
// range it covers.
type traversal struct {
	parts      []string
	start, end token.Pos
}

func newTraversal(t vm.Traversal) traversal {
	last := t[len(t)-1]
	return traversal{parts: t.Names(), start: t[0].NamePos, end: last.NamePos.Add(len(last.Name) - 1)}
}

func (c *compiler) errorf(start, end token.Pos, format string, args ...any) {
	c.diags.Add(diag.Diagnostic{
		StartPos: start.Position(),
		EndPos:   end.Position(),
		Message:  fmt.Sprintf(format, args...),
	})
}

// collect sorts the top-level statements into components and globals and
// checks names, labels and duplicates.
func (c *compiler) collect(body ast.Body) {
	c.globals = make(map[string]*ast.BlockStmt)
	for _, stmt := range body {
		switch s := stmt.(type) {
		case *ast.AttributeStmt:
			c.errorf(s.Name.NamePos, ast.EndPos(s), "unexpected attribute %q at the top level: only blocks are allowed here", s.Name.Name)
		case *ast.BlockStmt:
			c.collectBlock(s)
		}
	}
}

func (c *compiler) collectBlock(b *ast.BlockStmt) {
	name := b.GetBlockName()
	nameEnd := b.NamePos.Add(len(name) - 1)
	if c.refuseBlock(b, name, nameEnd) {
		return
	}
	if c.collectModuleBlock(b) {
		return
	}
	if c.kind != bodyRoot && (name == blockLogging || name == blockHTTP || name == blockLiveDebugging) {
		c.errorf(b.NamePos, nameEnd, "%s block not allowed inside a module", name)
		return
	}
	if name == blockLogging || name == blockHTTP || name == blockLiveDebugging {
		if b.Label != "" {
			c.errorf(b.LabelPos, b.LabelPos.Add(len(b.Label)+1), "block %q does not take a label", name)
		}
		if first, dup := c.globals[name]; dup {
			c.errorf(b.NamePos, nameEnd, "block %q already declared at %s", name, first.NamePos)
			return
		}
		c.globals[name] = b
		return
	}

	if c.isCustom(b) {
		c.collectInstance(b)
		return
	}
	reg, known := c.reg.Get(name)
	if !known {
		c.errorf(b.NamePos, nameEnd, "%s", c.unknownComponent(name))
	} else if err := c.componentAllowed(reg); err != nil {
		c.errorf(b.NamePos, nameEnd, "%v", err)
	}
	if b.Label == "" {
		if known {
			c.errorf(b.NamePos, nameEnd, "component %q must have a label", name)
		}
		return
	}
	if !isIdentifier(b.Label) {
		c.errorf(b.LabelPos, b.LabelPos.Add(len(b.Label)+1), "component label %q is not a valid identifier: use letters, digits and underscores", b.Label)
		return
	}
	id := name + "." + b.Label
	if first, dup := c.declared[id]; dup {
		c.errorf(b.NamePos, nameEnd, "component %q already declared at %s", id, first)
		return
	}
	c.declared[id] = b.NamePos.Position()
	if !known {
		return
	}
	pb := &planBlock{id: id, name: name, label: b.Label, kind: kindBuiltin, block: b, reg: reg, pos: b.NamePos.Position()}
	c.blocks = append(c.blocks, pb)
	c.p.byID[id] = pb
	c.p.graph.add(id)
}

// link resolves the references of each component block to the components
// they name and records them as edges. A reference that looks like a
// component but names none is reported at the reference.
func (c *compiler) link() {
	c.badRefs = make(map[string][]span)
	for _, pb := range c.blocks {
		for _, tr := range vm.Traversals(pb.block.Body) {
			t := newTraversal(tr)
			target, ok := c.resolve(t.parts)
			if ok {
				if _, valid := c.p.byID[target]; valid {
					if target == pb.id && pb.kind == kindArgument {
						continue
					}
					c.p.graph.addEdge(pb.id, target)
				} else {
					// An unknown or duplicate block: already reported.
					c.badRefs[pb.id] = append(c.badRefs[pb.id], span{t.start.Offset(), t.end.Offset()})
				}
				continue
			}
			if !c.roots[t.parts[0]] || len(t.parts) < 2 {
				continue // a plain unknown identifier: the vm reports it
			}
			c.errorf(t.start, t.end, "component %q does not exist or is out of scope", strings.Join(t.parts, "."))
			c.badRefs[pb.id] = append(c.badRefs[pb.id], span{t.start.Offset(), t.end.Offset()})
		}
	}
	c.linkImports()
}

// resolve returns the longest prefix of parts that is a declared block ID.
func (c *compiler) resolve(parts []string) (string, bool) {
	for k := len(parts); k >= 2; k-- {
		id := strings.Join(parts[:k], ".")
		if _, ok := c.declared[id]; ok {
			return id, true
		}
	}
	return "", false
}

// checkCycles reports each reference cycle once, at its first member,
// naming every member and where it is declared.
func (c *compiler) checkCycles() {
	for _, cycle := range c.p.graph.cycles() {
		members := make([]string, len(cycle))
		for i, id := range cycle {
			members[i] = fmt.Sprintf("%s (%s)", id, c.p.byID[id].pos)
		}
		first := c.p.byID[cycle[0]]
		msg := "reference cycle between components " + strings.Join(members, ", ")
		if len(cycle) == 1 {
			msg = fmt.Sprintf("component %s references itself", members[0])
		}
		c.errorf(first.block.NamePos, first.block.NamePos.Add(len(first.name)-1), "%s", msg)
	}
}

// trialEvaluate decodes every block with the exports of the components it
// references set to their zero values, so that argument names, types and
// values are checked without running anything. Argument values and the
// exports of custom components are unknown here: errors in the expressions
// that use them are left to the real evaluation.
func (c *compiler) trialEvaluate(r *Runtime) {
	vars := map[string]any{modulePathVar: ""}
	for _, pb := range c.blocks {
		setVar(vars, pb.id, c.trialValue(pb))
	}
	scope := r.scope(vars)
	for _, pb := range c.blocks {
		var diags diag.Diagnostics
		switch pb.kind {
		case kindBuiltin:
			_, diags = evalComponent(pb.block, pb.reg, scope)
		case kindCustom:
			diags = c.trialInstance(pb, scope)
		case kindArgument:
			var a argumentBlock
			diags = evalInto(pb.block, scope, &a)
		case kindExport:
			var e exportBlock
			diags = evalInto(pb.block, scope, &e)
		case kindImport:
			diags = evalInto(pb.block, scope, importArgsFor(pb.name))
		}
		if len(diags) == 0 {
			continue
		}
		soft := c.valueDependent(pb.block.Body)
		softBlocks := blocksHolding(pb.block, soft)
		for _, d := range diags {
			if covered(c.badRefs[pb.id], d.StartPos.Offset) || covered(soft, d.StartPos.Offset) {
				continue
			}
			// A block's own check (Validate) of values that are only
			// known at run time.
			if softBlocks[d.StartPos.Offset] && !strings.HasPrefix(d.Message, "missing required") {
				continue
			}
			c.diags.Add(d)
		}
	}
	names := make([]string, 0, len(c.globals))
	for name := range c.globals {
		names = append(names, name)
	}
	sort.Strings(names)
	root := r.scope(nil)
	for _, name := range names {
		b := c.refuseArguments(name, c.globals[name])
		var diags diag.Diagnostics
		switch name {
		case blockLogging:
			diags = evalInto(b, root, &c.p.globals.Logging)
		case blockHTTP:
			diags = evalInto(b, root, &c.p.globals.HTTP)
		case blockLiveDebugging:
			diags = evalInto(b, root, &c.p.globals.LiveDebugging)
		}
		c.diags = append(c.diags, diags...)
	}
}

// blocksHolding returns the name offsets of b and of the blocks nested in
// it that contain one of the spans.
func blocksHolding(b *ast.BlockStmt, spans []span) map[int]bool {
	out := make(map[int]bool)
	if len(spans) == 0 {
		return out
	}
	ast.Inspect(b, func(n ast.Node) bool {
		blk, ok := n.(*ast.BlockStmt)
		if !ok {
			return true
		}
		start, end := ast.StartPos(blk).Offset(), ast.EndPos(blk).Offset()
		for _, s := range spans {
			if start <= s.start && s.end <= end {
				out[blk.NamePos.Offset()] = true
				break
			}
		}
		return true
	})
	return out
}

func covered(spans []span, off int) bool {
	for _, s := range spans {
		if s.start <= off && off <= s.end {
			return true
		}
	}
	return false
}

// valueDependent returns the ranges of the expressions in body whose
// success depends on the values, not only the types, of other components'
// exports: function calls, indexing, division and remainder with a
// component reference among their operands. With zero exports these fail
// where real exports would not (`encoding.from_json(local.file.x.content)`
// of an empty file, `targets[0]` of an empty list), so trial evaluation does
// not report errors inside them; the real evaluation does.
func (c *compiler) valueDependent(body ast.Body) []span {
	var out []span
	ast.Inspect(body, func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.CallExpr, *ast.IndexExpr:
		case *ast.BinaryExpr:
			if e.Kind != token.DIV && e.Kind != token.MOD {
				return true
			}
		default:
			return true
		}
		for _, tr := range vm.Traversals(n) {
			if _, ok := c.resolve(tr.Names()); ok {
				out = append(out, span{ast.StartPos(n).Offset(), ast.EndPos(n).Offset()})
				return false
			}
		}
		return true
	})
	// Attributes whose value uses an argument or a custom component's
	// exports, or a key of a component's map export (such as
	// remote.kubernetes.secret.x.data.password): their type, or the keys,
	// are only known at run time.
	ast.Inspect(body, func(n ast.Node) bool {
		a, ok := n.(*ast.AttributeStmt)
		if !ok {
			return true
		}
		for _, tr := range vm.Traversals(a.Value) {
			names := tr.Names()
			if id, ok := c.resolve(names); ok {
				pb := c.p.byID[id]
				if pb == nil {
					continue
				}
				k := strings.Count(id, ".") + 1
				if pb.kind == kindArgument || pb.kind == kindCustom ||
					(pb.kind == kindBuiltin && len(names) > k+1 && isMapExport(pb.reg.Exports, names[k])) {
					out = append(out, span{ast.StartPos(a.Value).Offset(), ast.EndPos(a.Value).Offset()})
					return false
				}
			}
		}
		return true
	})
	return out
}

// isMapExport reports whether the export named name of an Exports value
// is a map, whose keys exist only once the component runs.
func isMapExport(exports any, name string) bool {
	if exports == nil {
		return false
	}
	t := reflect.TypeOf(exports)
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("alloy"), ","); tag == name {
			return f.Type.Kind() == reflect.Map
		}
	}
	return false
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		digit := '0' <= r && r <= '9'
		if !letter && !(digit && i > 0) {
			return false
		}
	}
	return true
}

// suggest returns the registered name closest to name, if close enough to
// be a typo.
func suggest(name string, names []string) string {
	best, bestDist := "", 4
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
