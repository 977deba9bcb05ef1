package vm

import (
	"fmt"
	"strings"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
)

// Traversal is one reference made by an expression: an identifier and the
// field names accessed after it, each with its position. For
// `discovery.file.x.targets[0]` it is discovery, file, x, targets.
type Traversal []*ast.Ident

// Names returns the traversal's names.
func (t Traversal) Names() []string {
	out := make([]string, len(t))
	for i, id := range t {
		out[i] = id.Name
	}
	return out
}

// String joins the names with dots: "discovery.file.x.targets".
func (t Traversal) String() string { return strings.Join(t.Names(), ".") }

// Traversals lists the references in node (a block, body, statement or
// expression) in source order. Names of the standard library (sys,
// string, encoding, coalesce, ...) are not references and are left out.
func Traversals(node ast.Node) []Traversal {
	var out []Traversal
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.IdentifierExpr:
			if !stdlib.IsName(e.Ident.Name) {
				out = append(out, Traversal{e.Ident})
			}
			return false
		case *ast.AccessExpr:
			var names []*ast.Ident
			var base ast.Expr = e
			for {
				a, ok := base.(*ast.AccessExpr)
				if !ok {
					break
				}
				names = append(names, a.Name)
				base = a.Value
			}
			id, ok := base.(*ast.IdentifierExpr)
			if !ok {
				ast.Inspect(base, visit)
				return false
			}
			if stdlib.IsName(id.Ident.Name) {
				return false
			}
			t := make(Traversal, 0, len(names)+1)
			t = append(t, id.Ident)
			for i := len(names) - 1; i >= 0; i-- {
				t = append(t, names[i])
			}
			out = append(out, t)
			return false
		}
		return true
	}
	ast.Inspect(node, visit)
	return out
}

// CheckStability lists the references in node (a file, block, body or
// expression) to standard-library functions whose stability is below the
// minimum of scope (generally available for a nil scope or a zero
// MinStability), without evaluating anything: what Alloy checks when it
// loads a config, so that a function in a branch that is never evaluated is
// refused too. Names the scope defines are not the library's.
func CheckStability(node ast.Node, scope *Scope) diag.Diagnostics {
	min := scope.minStability()
	var ds diag.Diagnostics
	check := func(n ast.Node, full string) {
		have := stdlib.Level(full)
		if have == stability.Undefined {
			return
		}
		if err := stability.Check(min, have, fmt.Sprintf("function %q", full)); err != nil {
			ds.Add(nodeDiag(n, err.Error()))
		}
	}
	ast.Inspect(node, func(n ast.Node) bool {
		switch e := n.(type) {
		case *ast.AccessExpr:
			if id, ok := e.Value.(*ast.IdentifierExpr); ok && stdlib.IsNamespace(id.Ident.Name) && !scope.defines(id.Ident.Name) {
				check(e, id.Ident.Name+"."+e.Name.Name)
				return false
			}
		case *ast.IdentifierExpr:
			if !scope.defines(e.Ident.Name) {
				check(e, e.Ident.Name)
			}
		}
		return true
	})
	return ds
}
