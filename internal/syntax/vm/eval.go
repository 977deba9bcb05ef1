package vm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// maxDepth bounds expression nesting, so that a hostile config cannot
// exhaust the stack.
const maxDepth = 1000

// maxExprText bounds the source text of an expression quoted in a message.
const maxExprText = 1000

// eval returns the value of expr. Its errors are diag.Diagnostic values
// positioned at the offending node.
func (st *state) eval(expr ast.Expr) (value.Value, error) {
	return st.evalDepth(expr, 0)
}

// valueErr is an error about the value of node: as in Alloy, the message
// starts with the node's source text ("1 should be bool, got number").
func valueErr(node ast.Node, msg string) error {
	return nodeDiag(node, exprText(node)+" "+msg)
}

// exprText returns node's canonical source text, as Alloy quotes it in its
// messages.
func exprText(node ast.Node) string {
	var b strings.Builder
	if err := printer.Fprint(&b, node); err != nil {
		return "expression"
	}
	s := b.String()
	if len(s) > maxExprText {
		s = s[:maxExprText] + "..."
	}
	return s
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
			// As in Alloy, a key given twice takes its last value.
			v, err := st.evalDepth(f.Value, depth)
			if err != nil {
				return value.Null, err
			}
			fields[f.Name.Name] = v
		}
		return value.Object(fields), nil

	case *ast.IdentifierExpr:
		v, fromStdlib, ok := st.scope.lookup(e.Ident.Name)
		if !ok {
			return value.Null, nodeDiag(e, fmt.Sprintf("identifier %q does not exist", e.Ident.Name))
		}
		if fromStdlib {
			if err := st.checkStability(e, e.Ident.Name); err != nil {
				return value.Null, err
			}
		}
		return value.Encode(v), nil

	case *ast.AccessExpr:
		if id, ok := e.Value.(*ast.IdentifierExpr); ok && stdlib.IsNamespace(id.Ident.Name) && !st.scope.defines(id.Ident.Name) {
			if err := st.checkStability(e, id.Ident.Name+"."+e.Name.Name); err != nil {
				return value.Null, err
			}
		}
		v, err := st.evalDepth(e.Value, depth)
		if err != nil {
			return value.Null, err
		}
		switch v.Type() {
		case value.TypeObject:
		case value.TypeCapsule:
			return value.Null, valueErr(e.Value, "expected object or array or a capsule convertible to an object, got capsule")
		default:
			return value.Null, valueErr(e.Value, fmt.Sprintf("cannot access field %q on value of type %s", e.Name.Name, v.Type()))
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
			return value.Null, valueErr(e.Value, err.Error())
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

// checkStability refuses a reference to a standard-library name whose
// stability is below the scope's minimum.
func (st *state) checkStability(node ast.Node, fullName string) error {
	have := stdlib.Level(fullName)
	if have == stability.Undefined {
		return nil
	}
	if err := stability.Check(st.scope.minStability(), have, fmt.Sprintf("function %q", fullName)); err != nil {
		return nodeDiag(node, err.Error())
	}
	return nil
}

// literal returns the value of a literal as Alloy reads it: a NUMBER is an
// int64 when it fits (read as Go reads integer literals, so 010 is 8), a
// uint64 when only that fits, and a float otherwise.
func literal(e *ast.LiteralExpr) (value.Value, error) {
	switch e.Kind {
	case token.NUMBER:
		if i, err := strconv.ParseInt(e.Value, 0, 64); err == nil {
			return value.Int(i), nil
		}
		if u, err := strconv.ParseUint(e.Value, 0, 64); err == nil {
			return value.Uint(u), nil
		}
		fallthrough
	case token.FLOAT:
		f, err := strconv.ParseFloat(e.Value, 64)
		if err != nil || strings.ContainsAny(e.Value, "xXpP_nN") {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return value.Null, nodeDiag(e, fmt.Sprintf("number %s is out of range", e.Value))
			}
			return value.Null, nodeDiag(e, fmt.Sprintf("invalid number %q", e.Value))
		}
		return value.Float(f), nil
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

// index evaluates a[i] as Alloy does: an array element (a number index,
// truncated toward zero, in range) or an object field (null when the key is
// absent, so that optional keys can be tested with coalesce).
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
			return value.Null, valueErr(e.Index, fmt.Sprintf("should be number, got %s", idx.Type()))
		}
		i := int(idx.Number().Int())
		if i < 0 || i >= v.Len() {
			return value.Null, valueErr(e.Index, fmt.Sprintf("index %d is out of range of array with length %d", i, v.Len()))
		}
		return v.Index(i), nil
	case value.TypeObject:
		if idx.Type() != value.TypeString {
			return value.Null, valueErr(e.Index, fmt.Sprintf("should be string, got %s", idx.Type()))
		}
		field, _ := v.Key(idx.Text())
		return field, nil
	}
	if v.Type() == value.TypeCapsule {
		return value.Null, valueErr(e.Value, "expected object or array or a capsule convertible to an object, got capsule")
	}
	return value.Null, valueErr(e.Value, fmt.Sprintf("expected object or array, got %s", v.Type()))
}

// call evaluates f(args...). An argument of the wrong type is reported at
// that argument (or the element of it that is wrong); an error the function
// returns is reported at the function, after its name, as in Alloy.
func (st *state) call(e *ast.CallExpr, depth int) (value.Value, error) {
	fn, err := st.evalDepth(e.Value, depth)
	if err != nil {
		return value.Null, err
	}
	if fn.Type() != value.TypeFunction {
		return value.Null, valueErr(e.Value, fmt.Sprintf("should be function, got %s", fn.Type()))
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
			return value.Null, describe(e.Args[ae.Index], ae.Err)
		}
		return value.Null, valueErr(e.Value, err.Error())
	}
	if res.Type() == value.TypeString && len(res.Text()) > stdlib.MaxStringLen {
		return value.Null, valueErr(e.Value, fmt.Sprintf("the result is %d bytes, more than the limit of %d", len(res.Text()), stdlib.MaxStringLen))
	}
	return res, nil
}

// binary evaluates a binary expression. As in Alloy, both operands are
// evaluated whatever the operator: && and || do not short-circuit.
func (st *state) binary(e *ast.BinaryExpr, depth int) (value.Value, error) {
	l, err := st.evalDepth(e.Left, depth)
	if err != nil {
		return value.Null, err
	}
	r, err := st.evalDepth(e.Right, depth)
	if err != nil {
		return value.Null, err
	}
	res, err := binaryOp(e.Kind, l, r)
	if err != nil {
		if oe, ok := err.(*operandError); ok {
			node := e.Left
			if oe.right {
				node = e.Right
			}
			return value.Null, valueErr(node, oe.msg)
		}
		return value.Null, nodeDiag(e, err.Error())
	}
	return res, nil
}
