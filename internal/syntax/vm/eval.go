package vm

import (
	"fmt"
	"strconv"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// maxDepth bounds expression nesting, so that a hostile config cannot
// exhaust the stack.
const maxDepth = 1000

// eval returns the value of expr. Its errors are diag.Diagnostic values
// positioned at the offending node.
func (st *state) eval(expr ast.Expr) (value.Value, error) {
	return st.evalDepth(expr, 0)
}

func (st *state) evalDepth(expr ast.Expr, depth int) (value.Value, error) {
	if depth > maxDepth {
		return value.Null, nodeDiag(expr, "expression nested too deeply")
	}
	depth++
	switch e := expr.(type) {
	case *ast.LiteralExpr:
		return literal(e)

	case *ast.ArrayExpr:
		elems := make([]value.Value, len(e.Elements))
		for i, el := range e.Elements {
			v, err := st.evalDepth(el, depth)
			if err != nil {
				return value.Null, err
			}
			elems[i] = v
		}
		return value.Array(elems...), nil

	case *ast.ObjectExpr:
		fields := make(map[string]value.Value, len(e.Fields))
		for _, f := range e.Fields {
			if _, dup := fields[f.Name.Name]; dup {
				return value.Null, nodeDiag(f.Name, fmt.Sprintf("key %q may only be provided once", f.Name.Name))
			}
			v, err := st.evalDepth(f.Value, depth)
			if err != nil {
				return value.Null, err
			}
			fields[f.Name.Name] = v
		}
		return value.Object(fields), nil

	case *ast.IdentifierExpr:
		v, ok := st.scope.Lookup(e.Ident.Name)
		if !ok {
			return value.Null, nodeDiag(e, fmt.Sprintf("identifier %q does not exist", e.Ident.Name))
		}
		return value.Encode(v), nil

	case *ast.AccessExpr:
		v, err := st.evalDepth(e.Value, depth)
		if err != nil {
			return value.Null, err
		}
		if v.Type() != value.TypeObject {
			return value.Null, nodeDiag(e.Value, fmt.Sprintf("cannot access field %q: expected object, got %s", e.Name.Name, v.Type()))
		}
		field, ok := v.Key(e.Name.Name)
		if !ok {
			return value.Null, nodeDiag(e.Name, fmt.Sprintf("field %q does not exist", e.Name.Name))
		}
		return field, nil

	case *ast.IndexExpr:
		return st.index(e, depth)

	case *ast.CallExpr:
		return st.call(e, depth)

	case *ast.UnaryExpr:
		v, err := st.evalDepth(e.Value, depth)
		if err != nil {
			return value.Null, err
		}
		r, err := unaryOp(e.Kind, v)
		if err != nil {
			return value.Null, nodeDiag(e, err.Error())
		}
		return r, nil

	case *ast.BinaryExpr:
		return st.binary(e, depth)

	case *ast.ParenExpr:
		return st.evalDepth(e.Inner, depth)

	case *ast.BadExpr:
		return value.Null, nodeDiag(e, "invalid expression")
	}
	return value.Null, nodeDiag(expr, fmt.Sprintf("cannot evaluate %T", expr))
}

// literal returns the value of a literal, unquoting strings.
func literal(e *ast.LiteralExpr) (value.Value, error) {
	switch e.Kind {
	case token.NUMBER, token.FLOAT:
		n, err := value.ParseNumber(e.Value)
		if err != nil {
			return value.Null, nodeDiag(e, err.Error())
		}
		if e.Kind == token.FLOAT {
			return value.Float(n.Float()), nil
		}
		return n.Value(), nil
	case token.STRING:
		s, err := strconv.Unquote(e.Value)
		if err != nil {
			return value.Null, nodeDiag(e, fmt.Sprintf("invalid string literal %s", e.Value))
		}
		return value.String(s), nil
	case token.BOOL:
		switch e.Value {
		case "true":
			return value.Bool(true), nil
		case "false":
			return value.Bool(false), nil
		}
	case token.NULL:
		return value.Null, nil
	}
	return value.Null, nodeDiag(e, fmt.Sprintf("invalid literal %q", e.Value))
}

// index evaluates a[i]: an array element (a whole number in range) or an
// object field (null when the key is absent, so that optional keys can be
// tested with coalesce).
func (st *state) index(e *ast.IndexExpr, depth int) (value.Value, error) {
	v, err := st.evalDepth(e.Value, depth)
	if err != nil {
		return value.Null, err
	}
	idx, err := st.evalDepth(e.Index, depth)
	if err != nil {
		return value.Null, err
	}
	switch v.Type() {
	case value.TypeArray:
		if idx.Type() != value.TypeNumber {
			return value.Null, nodeDiag(e.Index, fmt.Sprintf("expected number, got %s", idx.Type()))
		}
		n := idx.Number()
		i := n.Int()
		if n.Kind() == value.NumberFloat && float64(i) != n.Float() {
			return value.Null, nodeDiag(e.Index, fmt.Sprintf("index %s is not a whole number", n))
		}
		if n.Kind() == value.NumberUint && n.Uint() > uint64(v.Len()) {
			i = int64(v.Len())
		}
		if i < 0 || i >= int64(v.Len()) {
			return value.Null, nodeDiag(e.Index, fmt.Sprintf("index %s is out of range of array with length %d", n, v.Len()))
		}
		return v.Index(int(i)), nil
	case value.TypeObject:
		if idx.Type() != value.TypeString {
			return value.Null, nodeDiag(e.Index, fmt.Sprintf("expected string, got %s", idx.Type()))
		}
		field, _ := v.Key(idx.Text())
		return field, nil
	}
	return value.Null, nodeDiag(e.Value, fmt.Sprintf("expected array or object, got %s", v.Type()))
}

// call evaluates f(args...). An argument of the wrong type is reported at
// that argument.
func (st *state) call(e *ast.CallExpr, depth int) (value.Value, error) {
	fn, err := st.evalDepth(e.Value, depth)
	if err != nil {
		return value.Null, err
	}
	if fn.Type() != value.TypeFunction {
		return value.Null, nodeDiag(e.Value, fmt.Sprintf("expected function, got %s", fn.Type()))
	}
	args := make([]value.Value, len(e.Args))
	for i, a := range e.Args {
		v, err := st.evalDepth(a, depth)
		if err != nil {
			return value.Null, err
		}
		args[i] = v
	}
	res, err := fn.Call(args...)
	if err != nil {
		if ae, ok := err.(*value.ArgError); ok && ae.Index < len(e.Args) {
			node, msg := locate(e.Args[ae.Index], ae.Err)
			return value.Null, nodeDiag(node, msg)
		}
		return value.Null, nodeDiag(e, err.Error())
	}
	if res.Type() == value.TypeString && len(res.Text()) > stdlib.MaxStringLen {
		return value.Null, nodeDiag(e, fmt.Sprintf("the result is %d bytes, more than the limit of %d", len(res.Text()), stdlib.MaxStringLen))
	}
	return res, nil
}

// binary evaluates a binary expression; && and || do not evaluate their
// right side when the left decides.
func (st *state) binary(e *ast.BinaryExpr, depth int) (value.Value, error) {
	l, err := st.evalDepth(e.Left, depth)
	if err != nil {
		return value.Null, err
	}
	if e.Kind == token.AND || e.Kind == token.OR {
		if l.Type() != value.TypeBool {
			return value.Null, nodeDiag(e.Left, fmt.Sprintf("expected bool, got %s", l.Type()))
		}
		if (e.Kind == token.AND) != l.Bool() {
			return l, nil
		}
		r, err := st.evalDepth(e.Right, depth)
		if err != nil {
			return value.Null, err
		}
		if r.Type() != value.TypeBool {
			return value.Null, nodeDiag(e.Right, fmt.Sprintf("expected bool, got %s", r.Type()))
		}
		return r, nil
	}
	r, err := st.evalDepth(e.Right, depth)
	if err != nil {
		return value.Null, err
	}
	res, err := binaryOp(e.Kind, l, r)
	if err != nil {
		var node ast.Node = e
		switch err.(type) {
		case *leftError:
			node = e.Left
		case *rightError:
			node = e.Right
		}
		return value.Null, nodeDiag(node, err.Error())
	}
	return res, nil
}
