package runtime

import (
	"fmt"
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

// plan is a validated config, ready to be applied.
type plan struct {
	byID        map[string]*planBlock
	graph       *graph
	order       []string // topological
	globals     config.Globals
	fingerprint string
}

// planBlock is one component block of a plan.
type planBlock struct {
	id, name, label string
	block           *ast.BlockStmt
	reg             component.Registration
	pos             token.Position
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
	c := &compiler{
		reg:       r.opts.Registry,
		p:         &plan{byID: make(map[string]*planBlock), graph: newGraph(), globals: config.DefaultGlobals()},
		declared:  make(map[string]token.Position),
		roots:     make(map[string]bool),
		level:     r.opts.StabilityLevel,
		community: r.opts.CommunityComponents,
	}
	for _, name := range c.reg.Names() {
		c.roots[strings.SplitN(name, ".", 2)[0]] = true
	}
	c.collect(file.Body)
	// Functions below --stability.level are refused where they are
	// written, even in a branch that is never evaluated, as Alloy does.
	c.diags = append(c.diags, vm.CheckStability(file, &vm.Scope{MinStability: c.level})...)
	c.link()
	c.checkCycles()
	c.trialEvaluate(r)
	c.diags.Sort()
	c.diags = c.diags.Dedup()
	if c.diags.HasErrors() {
		return nil, c.diags
	}
	c.p.order = c.p.graph.topoOrder()
	c.p.fingerprint = fingerprint(file, src)
	return c.p, c.diags
}

type compiler struct {
	reg   *component.Registry
	p     *plan
	diags diag.Diagnostics

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
	pb := &planBlock{id: id, name: name, label: b.Label, block: b, reg: reg, pos: b.NamePos.Position()}
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
// values are checked without running anything.
func (c *compiler) trialEvaluate(r *Runtime) {
	vars := make(map[string]any)
	for _, pb := range c.blocks {
		setVar(vars, pb.id, trialExports(pb.reg.Exports))
	}
	scope := r.scope(vars)
	for _, pb := range c.blocks {
		_, diags := evalComponent(pb.block, pb.reg, scope)
		if len(diags) == 0 {
			continue
		}
		soft := c.valueDependent(pb.block.Body)
		for _, d := range diags {
			if !covered(c.badRefs[pb.id], d.StartPos.Offset) && !covered(soft, d.StartPos.Offset) {
				c.diags.Add(d)
			}
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
	return out
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
