package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// parse parses src, returning the parser's diagnostics.
func parse(filename string, src []byte) (*ast.File, diag.Diagnostics) {
	f, err := parser.ParseFile(filename, src)
	if err == nil {
		return f, nil
	}
	if ds := diag.From(err); ds != nil {
		return f, ds
	}
	return f, diag.Diagnostics{{StartPos: token.Position{Filename: filename}, Message: err.Error()}}
}

// scope is the vm scope in which component blocks are evaluated: the
// components' exports, then the standard library.
func (r *Runtime) scope(vars map[string]any) *vm.Scope {
	return &vm.Scope{Variables: vars, MinStability: r.opts.StabilityLevel}
}

// evalComponent decodes a component block into a new value of its
// Arguments type.
func evalComponent(b *ast.BlockStmt, reg component.Registration, scope *vm.Scope) (component.Arguments, diag.Diagnostics) {
	t := reflect.TypeOf(reg.Args)
	if t.Kind() == reflect.Struct && t.NumField() == 0 {
		return reg.Args, noArguments(b)
	}
	ptr := reflect.New(t)
	if diags := evalInto(b, scope, ptr.Interface()); diags.HasErrors() {
		return nil, diags
	}
	return ptr.Elem().Interface(), nil
}

// noArguments reports every statement of the block of a component that
// takes none.
func noArguments(b *ast.BlockStmt) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, stmt := range b.Body {
		switch s := stmt.(type) {
		case *ast.AttributeStmt:
			diags.Add(diag.Diagnostic{StartPos: s.Name.NamePos.Position(), EndPos: ast.EndPos(s.Name).Position(), Message: fmt.Sprintf("unrecognized attribute name %q", s.Name.Name)})
		case *ast.BlockStmt:
			diags.Add(diag.Diagnostic{StartPos: s.NamePos.Position(), Message: fmt.Sprintf("unrecognized block name %q", s.GetBlockName())})
		}
	}
	return diags
}

// evalInto decodes block b into the struct target points to.
func evalInto(b *ast.BlockStmt, scope *vm.Scope, target any) diag.Diagnostics {
	err := vm.New(b).Evaluate(scope, target)
	if err == nil {
		return nil
	}
	if ds := diag.From(err); ds != nil {
		return ds
	}
	return diag.Diagnostics{{StartPos: b.NamePos.Position(), Message: err.Error()}}
}

// trialExports returns a copy of a zero Exports value whose nil slices and
// maps are empty instead, so that `discovery.file.x.targets` type-checks as
// the empty list it would be at start rather than as null.
func trialExports(e any) any {
	if e == nil {
		return nil
	}
	rv := reflect.New(reflect.TypeOf(e)).Elem()
	rv.Set(reflect.ValueOf(e))
	fillEmpty(rv, 0)
	return rv.Interface()
}

func fillEmpty(rv reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	switch rv.Kind() {
	case reflect.Slice:
		if rv.IsNil() && rv.CanSet() {
			rv.Set(reflect.MakeSlice(rv.Type(), 0, 0))
		}
	case reflect.Map:
		if rv.IsNil() && rv.CanSet() && rv.Type().Key().Kind() == reflect.String {
			rv.Set(reflect.MakeMap(rv.Type()))
		}
	case reflect.Struct:
		for i := range rv.NumField() {
			if rv.Type().Field(i).IsExported() {
				fillEmpty(rv.Field(i), depth+1)
			}
		}
	}
}

// fingerprint hashes the canonical form of the file's statements, without
// comments, so that nodes whose files differ in layout or comments agree.
func fingerprint(f *ast.File, src []byte) string {
	h := sha256.New()
	if err := printer.Fprint(h, f.Body); err != nil {
		h.Reset()
		h.Write(src)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
