// Package vm evaluates shoal's configuration language: it gives values to
// expressions (operators, references, indexing, function calls) in a Scope,
// and decodes the attributes and blocks of a body into a Go struct tagged
// with `alloy:"..."`, as Grafana Alloy's vm does. It also lists the
// references an expression makes (Traversals), from which the runtime builds
// its component graph.
//
// Every problem is a diag.Diagnostic at the file:line:col of the node that
// caused it, and evaluation reports all of them rather than stopping at the
// first. The package does not parse (internal/syntax/parser), convert values
// (internal/syntax/value), or know what components exist (internal/runtime).
package vm

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// Scope is a set of named values that expressions can refer to, chained to a
// parent. The values are Go values (tagged structs such as a component's
// Exports, maps, slices, capsules) or value.Value. Names found in no scope
// are looked up in the standard library.
type Scope struct {
	Parent    *Scope
	Variables map[string]any

	// MinStability is the least stable standard-library function the
	// evaluation may use (what --stability.level chose). A reference to a
	// function below it, such as array.group_by (experimental) under the
	// default, is an error at the reference naming the flag that permits
	// it. The zero value (stability.Undefined) defers to the parent scope,
	// and without any means stability.GenerallyAvailable, Alloy's default.
	MinStability stability.Level
}

// Lookup returns the value of name in s, its parents, or the standard
// library.
func (s *Scope) Lookup(name string) (any, bool) {
	v, _, ok := s.lookup(name)
	return v, ok
}

// lookup is Lookup that also says whether the value came from the standard
// library.
func (s *Scope) lookup(name string) (v any, fromStdlib, ok bool) {
	for sc := s; sc != nil; sc = sc.Parent {
		if v, ok := sc.Variables[name]; ok {
			return v, false, true
		}
	}
	v, ok = stdlib.Lookup(name)
	return v, ok, ok
}

// defines reports whether name is defined by s or a parent, rather than by
// the standard library.
func (s *Scope) defines(name string) bool {
	for sc := s; sc != nil; sc = sc.Parent {
		if _, ok := sc.Variables[name]; ok {
			return true
		}
	}
	return false
}

// minStability returns the minimum stability in force for s.
func (s *Scope) minStability() stability.Level {
	for sc := s; sc != nil; sc = sc.Parent {
		if sc.MinStability != stability.Undefined {
			return sc.MinStability
		}
	}
	return stability.GenerallyAvailable
}

// Evaluator evaluates one block or body. It holds no state between calls and
// may be used from several goroutines at once.
type Evaluator struct {
	node ast.Node
}

// New returns an Evaluator for node: a *ast.BlockStmt, an ast.Body or an
// *ast.File.
func New(node ast.Node) *Evaluator { return &Evaluator{node: node} }

// Evaluate decodes the evaluator's block or body into target, which must be
// a pointer to a struct with alloy tags (or to a map with string keys or an
// interface, which take attributes only). The target is first reset to its zero value and
// given its defaults (SetToDefault), and checked at the end (Validate).
// Errors are diag.Diagnostics naming every problem found.
func (e *Evaluator) Evaluate(scope *Scope, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("vm: Evaluate target must be a non-nil pointer, got %T", target)
	}
	into := rv.Elem()
	st := &state{scope: scope}
	var b block
	switch n := e.node.(type) {
	case *ast.BlockStmt:
		b = block{body: n.Body, name: n.GetBlockName(), pos: n.NamePos, label: n.Label, labelPos: n.LabelPos, top: true}
	case ast.Body:
		b = block{body: n, pos: ast.StartPos(n), top: true}
	case *ast.File:
		b = block{body: n.Body, pos: ast.StartPos(n.Body), top: true}
	default:
		return fmt.Errorf("vm: cannot evaluate a %T as a block", e.node)
	}
	switch {
	case into.Kind() == reflect.Struct && value.IsTagged(into.Type()):
		// A malformed tag is a programming error; report it as an error
		// rather than a panic in the middle of a reload.
		if _, err := st.fields(into.Type()); err != nil {
			return err
		}
		into.SetZero()
		if d, ok := into.Addr().Interface().(value.Defaulter); ok {
			d.SetToDefault()
		}
		st.decodeBlock(b, into)
	case into.Kind() == reflect.Map && into.Type().Key().Kind() == reflect.String:
		st.decodeMap(b, into)
	case into.Kind() == reflect.Interface && into.NumMethod() == 0:
		// As in Alloy, a block evaluated into an interface is a
		// map[string]any of its attributes.
		m := reflect.New(reflect.TypeFor[map[string]any]()).Elem()
		st.decodeMap(b, m)
		into.Set(m)
	default:
		return fmt.Errorf("vm: Evaluate target must point to a struct with alloy tags or a map, got %T", target)
	}
	return st.diags.ErrorOrNil()
}

// EvaluateExpr evaluates expr in scope and decodes the result into target
// (a pointer; *value.Value keeps the value as it is). Errors are
// diag.Diagnostics.
func EvaluateExpr(scope *Scope, expr ast.Expr, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("vm: EvaluateExpr target must be a non-nil pointer, got %T", target)
	}
	st := &state{scope: scope}
	st.evalInto(expr, rv.Elem())
	return st.diags.ErrorOrNil()
}

// state is one evaluation: the scope and the diagnostics found so far.
type state struct {
	scope *Scope
	diags diag.Diagnostics
	// structs caches the fields of the struct types met, since a config
	// decodes the same block types many times.
	structs map[reflect.Type][]value.Field
}

func (st *state) fields(t reflect.Type) ([]value.Field, error) {
	if f, ok := st.structs[t]; ok {
		return f, nil
	}
	f, err := value.Fields(t)
	if err != nil {
		return nil, err
	}
	if st.structs == nil {
		st.structs = make(map[reflect.Type][]value.Field)
	}
	st.structs[t] = f
	return f, nil
}

// errorAt records a diagnostic covering node.
func (st *state) errorAt(node ast.Node, format string, args ...any) {
	st.diags.Add(nodeDiag(node, fmt.Sprintf(format, args...)))
}

// errorAtPos records a diagnostic covering n bytes from pos.
func (st *state) errorAtPos(pos token.Pos, n int, format string, args ...any) {
	end := pos
	if n > 1 {
		end = pos.Add(n - 1)
	}
	st.diags.Add(diag.Diagnostic{
		StartPos: pos.Position(),
		EndPos:   end.Position(),
		Message:  fmt.Sprintf(format, args...),
	})
}

func nodeDiag(node ast.Node, msg string) diag.Diagnostic {
	return diag.Diagnostic{
		StartPos: ast.StartPos(node).Position(),
		EndPos:   ast.EndPos(node).Position(),
		Message:  msg,
	}
}

// evalInto evaluates expr and decodes it into into, recording a diagnostic
// at the most precise node a decoding error can be traced to.
func (st *state) evalInto(expr ast.Expr, into reflect.Value) bool {
	v, err := st.eval(expr)
	if err != nil {
		st.addErr(err)
		return false
	}
	if err := value.DecodeReflect(v, into); err != nil {
		st.addErr(describe(expr, err))
		return false
	}
	return true
}

// addErr records an evaluation error, which is a diag.Diagnostic already.
func (st *state) addErr(err error) {
	if ds := diag.From(err); ds != nil {
		st.diags = append(st.diags, ds...)
		return
	}
	st.diags.Add(diag.Diagnostic{Message: err.Error()})
}

// describe turns a conversion error about the value of expr into a
// diagnostic worded as Alloy's: it follows the error's path (array
// elements, object fields) into the literal that produced the value, so
// that the diagnostic points at the element that is wrong and quotes it
// (`"Hello" should be number, got string`). What cannot be followed (a
// value that came from a reference) is reported on the last node reached,
// with the rest of the path after its text (`key_value.object.field1[2]
// should be number, got string`).
func describe(expr ast.Expr, err error) error {
	var node ast.Node = expr
	var path strings.Builder
	for {
		if p, ok := node.(*ast.ParenExpr); ok && path.Len() == 0 {
			node = p.Inner
			continue
		}
		switch e := err.(type) {
		case *value.ElementError:
			if arr, ok := node.(*ast.ArrayExpr); ok && path.Len() == 0 && e.Index < len(arr.Elements) {
				node, err = arr.Elements[e.Index], e.Err
				continue
			}
			fmt.Fprintf(&path, "[%d]", e.Index)
			err = e.Err
			continue
		case *value.FieldError:
			if obj, ok := node.(*ast.ObjectExpr); ok && path.Len() == 0 {
				if f := objectField(obj, e.Key); f != nil {
					node, err = f.Value, e.Err
					continue
				}
			}
			path.WriteString("." + e.Key)
			err = e.Err
			continue
		case *value.UnknownKeyError:
			if obj, ok := node.(*ast.ObjectExpr); ok && path.Len() == 0 {
				if f := objectField(obj, e.Key); f != nil {
					return nodeDiag(f.Name, err.Error())
				}
			}
		}
		break
	}
	text, msg := exprText(node)+path.String(), leafMessage(err)
	if _, isType := err.(*value.TypeError); !isType && strings.Contains(msg, text) {
		// A message that quotes the value already ("-1 does not fit in
		// an unsigned integer") is not prefixed with it a second time.
		return nodeDiag(node, msg)
	}
	return nodeDiag(node, text+" "+msg)
}

// leafMessage words the innermost conversion error as Alloy does.
func leafMessage(err error) string {
	te, ok := err.(*value.TypeError)
	if !ok {
		return err.Error()
	}
	if te.Value.IsSecret() && te.Expected == value.TypeString.String() {
		return "secrets may not be converted into strings"
	}
	if strings.HasPrefix(te.Expected, "capsule(") {
		return fmt.Sprintf("expected %s, got %s", te.Expected, te.Value.Describe())
	}
	return fmt.Sprintf("should be %s, got %s", te.Expected, te.Value.Type())
}

func objectField(obj *ast.ObjectExpr, key string) *ast.ObjectField {
	var found *ast.ObjectField
	for _, f := range obj.Fields {
		if f.Name.Name == key {
			found = f // the last one wins, as in evaluation
		}
	}
	return found
}
