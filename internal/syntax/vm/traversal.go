package vm

import (
	"strings"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
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
