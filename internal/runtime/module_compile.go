package runtime

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/shoal-dev/shoal/internal/importsource"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// The blocks of Alloy's module system.
const (
	blockDeclare  = "declare"
	blockArgument = "argument"
	blockExport   = "export"
	// modulePathVar is the variable holding the directory of the file (or
	// module) being evaluated, as in Alloy.
	modulePathVar = "module_path"
	// maxModuleDepth bounds the nesting of custom component instances, so
	// that a module that instantiates itself through imports cannot recurse
	// without end.
	maxModuleDepth = 32
)

// argumentBlock is the body of an argument block.
type argumentBlock struct {
	Optional bool        `alloy:"optional,attr,optional"`
	Default  value.Value `alloy:"default,attr,optional"`
	Comment  string      `alloy:"comment,attr,optional"`
}

// exportBlock is the body of an export block.
type exportBlock struct {
	Value value.Value `alloy:"value,attr"`
}

// argumentExports is what `argument.NAME` holds for the expressions of a
// declare body.
type argumentExports struct {
	Value value.Value `alloy:"value,attr"`
}

// stringImportArgs are the arguments of import.string.
type stringImportArgs struct {
	Content types.OptionalSecret `alloy:"content,attr"`
}

// importArguments returns a new arguments value (or a pointer to one) for
// an import block kind: import.string's is the runtime's own, the other
// kinds' are their sources' (tests may replace it).
var importArguments = func(kind string) any {
	if kind == "import.string" {
		return &stringImportArgs{}
	}
	return importsource.Arguments(kind)
}

// importArgsFor returns a pointer to a new arguments value for kind,
// whether importArguments gives a value or a pointer.
func importArgsFor(kind string) any {
	a := importArguments(kind)
	if a == nil {
		return &map[string]value.Value{}
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() == reflect.Pointer {
		return a
	}
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	return p.Interface()
}

func isImportBlock(name string) bool {
	for _, k := range importsource.Kinds {
		if k == name {
			return true
		}
	}
	return false
}

// declTemplate is a declare block: the definition of a custom component.
type declTemplate struct {
	name  string
	block *ast.BlockStmt
	plan  *plan
	// scope is the scope the declare was defined in, used by the static
	// checks of the bodies that instantiate it.
	scope *staticScope
}

// staticScope is what the compiler knows of the custom components in scope
// of a body: its declares and import namespaces, then those of the
// enclosing bodies. It mirrors Alloy's custom component registry.
type staticScope struct {
	parent   *staticScope
	declares map[string]*declTemplate
	imports  map[string]bool
}

// knows reports whether name is a declare or an import namespace in s or
// its parents.
func (s *staticScope) knows(name string) bool {
	for sc := s; sc != nil; sc = sc.parent {
		if _, ok := sc.declares[name]; ok || sc.imports[name] {
			return true
		}
	}
	return false
}

func (s *staticScope) findDeclare(name string) *declTemplate {
	for sc := s; sc != nil; sc = sc.parent {
		if t, ok := sc.declares[name]; ok {
			return t
		}
	}
	return nil
}

func (s *staticScope) hasImport(ns string) bool {
	for sc := s; sc != nil; sc = sc.parent {
		if sc.imports[ns] {
			return true
		}
	}
	return false
}

func sortedTemplateNames(m map[string]*declTemplate) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// collectModuleBlock handles declare, argument, export and import blocks,
// reporting whether b was one.
func (c *compiler) collectModuleBlock(b *ast.BlockStmt) bool {
	name := b.GetBlockName()
	nameEnd := b.NamePos.Add(len(name) - 1)
	switch {
	case name == blockDeclare, name == blockArgument, name == blockExport, isImportBlock(name):
	default:
		return false
	}
	if b.Label == "" {
		c.errorf(b.NamePos, nameEnd, "%s block must have a label", name)
		return true
	}
	if !isIdentifier(b.Label) {
		c.errorf(b.LabelPos, b.LabelPos.Add(len(b.Label)+1), "%s label %q is not a valid identifier: use letters, digits and underscores", name, b.Label)
		return true
	}
	id := name + "." + b.Label
	if first, dup := c.others[id]; dup {
		c.errorf(b.NamePos, nameEnd, "block %s already declared at %s", id, first)
		return true
	}
	c.others[id] = b.NamePos.Position()
	switch {
	case name == blockDeclare:
		if b.Label == blockDeclare {
			c.errorf(b.NamePos, nameEnd, "'declare' is not a valid label for a declare block")
			return true
		}
		c.p.declares[b.Label] = &declTemplate{name: b.Label, block: b}
		return true
	case name == blockArgument || name == blockExport:
		if c.kind == bodyRoot {
			c.errorf(b.NamePos, nameEnd, "%s blocks only allowed inside a module", name)
			return true
		}
	case isImportBlock(name):
		if c.scope.imports[b.Label] {
			c.errorf(b.NamePos, nameEnd, "import namespace %q already declared", b.Label)
			return true
		}
		c.scope.imports[b.Label] = true
	}
	kind := map[string]nodeKind{blockArgument: kindArgument, blockExport: kindExport}[name]
	if isImportBlock(name) {
		kind = kindImport
	}
	pb := &planBlock{id: id, name: name, label: b.Label, kind: kind, block: b, pos: b.NamePos.Position()}
	c.blocks = append(c.blocks, pb)
	c.p.byID[id] = pb
	c.p.graph.add(id)
	if kind == kindArgument {
		c.declared[id] = b.NamePos.Position()
		c.p.arguments[b.Label] = pb
	}
	return true
}

// isCustom reports whether b instantiates a custom component: its first
// name fragment is a declare or an import namespace in scope, as in
// Alloy, where such a name hides a built-in component of the same prefix.
// Declares are collected before this is asked, since collect sees them in
// source order: a declare further down the body counts too.
func (c *compiler) isCustom(b *ast.BlockStmt) bool {
	first := b.Name[0]
	// A one-word name can only be a declare: built-in names have a dot.
	return len(b.Name) == 1 || c.scope.knows(first) || c.pendingDeclares[first] || c.pendingImports[first]
}

// collectInstance records an instance of a custom component.
func (c *compiler) collectInstance(b *ast.BlockStmt) {
	name := b.GetBlockName()
	nameEnd := b.NamePos.Add(len(name) - 1)
	var ns, decl string
	switch len(b.Name) {
	case 1:
		decl = b.Name[0]
		if c.scope.findDeclare(decl) == nil && !c.pendingDeclares[decl] {
			c.errorf(b.NamePos, nameEnd, "cannot find the definition of component name %q", name)
			return
		}
	case 2:
		ns, decl = b.Name[0], b.Name[1]
		if !c.scope.hasImport(ns) && !c.pendingImports[ns] {
			c.errorf(b.NamePos, nameEnd, "cannot find the definition of component name %q", name)
			return
		}
	default:
		c.errorf(b.NamePos, nameEnd, "cannot find the definition of component name %q", name)
		return
	}
	if b.Label == "" {
		c.errorf(b.NamePos, nameEnd, "component %q must have a label", name)
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
	pb := &planBlock{id: id, name: name, label: b.Label, kind: kindCustom, block: b, pos: b.NamePos.Position(), namespace: ns, declName: decl}
	c.blocks = append(c.blocks, pb)
	c.p.byID[id] = pb
	c.p.graph.add(id)
}

// linkImports adds an edge from every instance to the import blocks of this
// body whose content it uses, directly or through the declares it
// instantiates, so that new module content re-evaluates it.
func (c *compiler) linkImports() {
	importIDs := make(map[string]string) // namespace -> node ID
	for _, pb := range c.blocks {
		if pb.kind == kindImport {
			importIDs[pb.label] = pb.id
		}
	}
	if len(importIDs) == 0 {
		return
	}
	for _, pb := range c.blocks {
		if pb.kind != kindCustom {
			continue
		}
		used := make(map[string]bool)
		c.namespacesUsed(pb, c.scope, used, make(map[*declTemplate]bool))
		for ns := range used {
			if id, ok := importIDs[ns]; ok {
				c.p.graph.addEdge(pb.id, id)
			}
		}
	}
}

// namespacesUsed collects the import namespaces an instance depends on.
func (c *compiler) namespacesUsed(pb *planBlock, scope *staticScope, used map[string]bool, seen map[*declTemplate]bool) {
	if pb.namespace != "" {
		used[pb.namespace] = true
		return
	}
	t := scope.findDeclare(pb.declName)
	if t == nil || seen[t] || t.plan == nil {
		return
	}
	seen[t] = true
	for _, inner := range t.plan.byID {
		if inner.kind == kindCustom {
			c.namespacesUsed(inner, &staticScope{parent: t.scope, declares: t.plan.declares}, used, seen)
		}
	}
}

// trialValue is what a block exports for trial evaluation.
func (c *compiler) trialValue(pb *planBlock) any {
	switch pb.kind {
	case kindBuiltin:
		return trialExports(pb.reg.Exports)
	case kindArgument:
		return argumentExports{Value: value.Null}
	case kindCustom:
		out := map[string]value.Value{}
		if t := c.scope.findDeclare(pb.declName); pb.namespace == "" && t != nil && t.plan != nil {
			for _, e := range t.plan.byID {
				if e.kind == kindExport {
					out[e.label] = value.Null
				}
			}
		}
		return out
	}
	return nil
}

// trialInstance checks an instance's block against the arguments of its
// declare, when the declare is local (an imported one is only known at run
// time).
func (c *compiler) trialInstance(pb *planBlock, scope *vm.Scope) diag.Diagnostics {
	var args map[string]value.Value
	diags := evalInto(pb.block, scope, &args)
	if pb.namespace != "" {
		return diags
	}
	t := c.scope.findDeclare(pb.declName)
	if t == nil || t.plan == nil {
		return diags
	}
	return append(diags, checkInstanceArgs(pb.block, t.plan, scope)...)
}

// checkInstanceArgs reports the attributes of an instance block that name no
// argument of the declare, and the required arguments it leaves out.
func checkInstanceArgs(b *ast.BlockStmt, p *plan, scope *vm.Scope) diag.Diagnostics {
	var diags diag.Diagnostics
	given := make(map[string]bool)
	for _, stmt := range b.Body {
		a, ok := stmt.(*ast.AttributeStmt)
		if !ok {
			continue
		}
		given[a.Name.Name] = true
		if _, ok := p.arguments[a.Name.Name]; !ok {
			diags.Add(diag.Diagnostic{StartPos: a.Name.NamePos.Position(), EndPos: ast.EndPos(a.Name).Position(),
				Message: fmt.Sprintf("unrecognized attribute name %q", a.Name.Name)})
		}
	}
	labels := make([]string, 0, len(p.arguments))
	for l := range p.arguments {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		if given[l] {
			continue
		}
		var a argumentBlock
		if evalInto(p.arguments[l].block, scope, &a) != nil || a.Optional {
			continue
		}
		diags.Add(diag.Diagnostic{StartPos: b.NamePos.Position(), EndPos: b.NamePos.Add(len(b.GetBlockName()) - 1).Position(),
			Message: fmt.Sprintf("missing required attribute %q", l)})
	}
	return diags
}

// checkDeclareCycles reports declares that instantiate themselves, directly
// or through others, which would nest without end.
func checkDeclareCycles(root *plan, diags *diag.Diagnostics) {
	const (
		visiting = 1
		done     = 2
	)
	state := make(map[*declTemplate]int)
	var visit func(t *declTemplate, path []*declTemplate)
	visit = func(t *declTemplate, path []*declTemplate) {
		switch state[t] {
		case done:
			return
		case visiting:
			start := 0
			for i, p := range path {
				if p == t {
					start = i
				}
			}
			names := make([]string, 0, len(path)-start)
			for _, p := range path[start:] {
				names = append(names, fmt.Sprintf("declare.%s (%s)", p.name, p.block.NamePos.Position()))
			}
			msg := "cycle between declares " + strings.Join(names, ", ")
			if len(names) == 1 {
				msg = "declare." + t.name + " instantiates itself"
			}
			diags.Add(diag.Diagnostic{StartPos: t.block.NamePos.Position(), EndPos: t.block.NamePos.Add(len(blockDeclare) - 1).Position(), Message: msg})
			return
		}
		state[t] = visiting
		path = append(path, t)
		if t.plan != nil {
			for _, id := range sortedPlanIDs(t.plan) {
				pb := t.plan.byID[id]
				if pb.kind != kindCustom || pb.namespace != "" {
					continue
				}
				inner := (&staticScope{parent: t.scope, declares: t.plan.declares}).findDeclare(pb.declName)
				if inner != nil {
					visit(inner, path)
				}
			}
			for _, name := range sortedTemplateNames(t.plan.declares) {
				visit(t.plan.declares[name], nil)
			}
		}
		state[t] = done
	}
	for _, name := range sortedTemplateNames(root.declares) {
		visit(root.declares[name], nil)
	}
}

func sortedPlanIDs(p *plan) []string {
	out := make([]string, 0, len(p.byID))
	for id := range p.byID {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// compileModule checks the content of an imported module: its files may
// hold only declare and import blocks. Its declares see each other and its
// imports, and nothing of the importer.
func (r *Runtime) compileModule(files map[string][]byte) (*plan, diag.Diagnostics) {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var all diag.Diagnostics
	var body ast.Body
	for _, name := range names {
		f, diags := parse(name, files[name])
		all = append(all, diags...)
		if f == nil || diags.HasErrors() {
			continue
		}
		for _, stmt := range f.Body {
			b, ok := stmt.(*ast.BlockStmt)
			if !ok || (b.GetBlockName() != blockDeclare && !isImportBlock(b.GetBlockName())) {
				start := ast.StartPos(stmt)
				what := "an attribute"
				if ok {
					what = b.GetBlockName()
				}
				all.Add(diag.Diagnostic{StartPos: start.Position(), EndPos: start.Position(),
					Message: fmt.Sprintf("only declare and import blocks are allowed in a module, got %s", what)})
				continue
			}
			body = append(body, b)
		}
	}
	if all.HasErrors() {
		all.Sort()
		return nil, all
	}
	p := r.compileBody(body, bodyModule, nil, &all)
	checkDeclareCycles(p, &all)
	all.Sort()
	if all.HasErrors() {
		return nil, all
	}
	return p, all
}
