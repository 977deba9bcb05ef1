package vm

import (
	"reflect"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// block is a body to decode together with where it came from.
type block struct {
	body     ast.Body
	name     string // dotted block name; "" for a bare body
	pos      token.Pos
	label    string
	labelPos token.Pos
	// top is the block handed to Evaluate: its label belongs to the runtime
	// (a component's name) unless the struct has a label field.
	top bool
}

// errorAtBlock records a diagnostic on the block's name, or at the start of
// the file for a bare body.
func (st *state) errorAtBlock(b block, format string, args ...any) {
	pos := b.pos
	if b.name == "" && pos.IsValid() {
		pos = pos.File().Pos(0)
	}
	st.errorAtPos(pos, len(b.name), format, args...)
}

// decodeBlock decodes b's statements into into, a settable tagged struct
// that already holds its defaults; then checks required fields and, if the
// block had no errors, calls Validate.
func (st *state) decodeBlock(b block, into reflect.Value) {
	before := len(st.diags)
	fields, err := st.fields(into.Type())
	if err != nil {
		st.errorAtBlock(b, "%s", err.Error())
		return
	}

	if lf, ok := findField(fields, "", value.FieldLabel); ok {
		if b.label == "" && !b.top {
			st.errorAtBlock(b, "block %q requires non-empty label", b.name)
		}
		into.FieldByIndex(lf.Index).SetString(b.label)
	} else if b.label != "" && !b.top {
		st.errorAtPos(b.labelPos, len(b.label)+2, "block %q does not support specifying labels", b.name)
	}

	attrSeen := make(map[string]bool, len(fields))
	blockSeen := make(map[string]bool)
	blockCount := make(map[string]int)
	for _, stmt := range b.body {
		switch s := stmt.(type) {
		case *ast.AttributeStmt:
			name := s.Name.Name
			f, ok := findField(fields, name, value.FieldAttr)
			if !ok {
				if _, isBlock := findField(fields, name, value.FieldBlock); isBlock {
					st.errorAt(s.Name, "%q must be a block, but is used as an attribute", name)
				} else {
					st.errorAt(s.Name, "unrecognized attribute name %q", name)
				}
				continue
			}
			if attrSeen[name] {
				st.errorAt(s.Name, "attribute %q may only be provided once", name)
				continue
			}
			attrSeen[name] = true
			st.evalInto(s.Value, into.FieldByIndex(f.Index))
		case *ast.BlockStmt:
			name := s.GetBlockName()
			f, ok := findField(fields, name, value.FieldBlock)
			if !ok {
				if _, isAttr := findField(fields, name, value.FieldAttr); isAttr {
					st.errorAtPos(s.NamePos, len(name), "%q must be an attribute, but is used as a block", name)
				} else {
					st.errorAtPos(s.NamePos, len(name), "unrecognized block name %q", name)
				}
				continue
			}
			st.decodeNested(s, name, into.FieldByIndex(f.Index), blockSeen[name], blockCount[name])
			blockSeen[name] = true
			blockCount[name]++
		}
	}

	for _, f := range fields {
		if f.Optional {
			continue
		}
		switch {
		case f.Kind == value.FieldAttr && !attrSeen[f.Name]:
			st.errorAtBlock(b, "missing required attribute %q", f.Name)
		case f.Kind == value.FieldBlock && !blockSeen[f.Name]:
			st.errorAtBlock(b, "missing required block %q", f.Name)
		}
	}

	if len(st.diags) > before {
		return
	}
	if v, ok := into.Addr().Interface().(value.Validator); ok {
		if err := v.Validate(); err != nil {
			st.errorAtBlock(b, "%s", err.Error())
		}
	}
}

// decodeNested decodes block s into field: appended to a slice (the first
// block replaces any default elements), or into a struct or pointer, which
// may be given only once.
func (st *state) decodeNested(s *ast.BlockStmt, name string, field reflect.Value, seenBefore bool, count int) {
	if field.Kind() == reflect.Array {
		// A fixed number of blocks, filled in order.
		if count >= field.Len() {
			st.errorAtPos(s.NamePos, len(name), "block %q may only be specified %d times", name, field.Len())
			return
		}
		st.decodeBlockValue(s, name, field.Index(count), false)
		return
	}
	if field.Kind() == reflect.Slice {
		if !seenBefore {
			field.Set(reflect.MakeSlice(field.Type(), 0, 1))
		}
		elem := reflect.New(field.Type().Elem()).Elem()
		st.decodeBlockValue(s, name, elem, false)
		field.Set(reflect.Append(field, elem))
		return
	}
	if seenBefore {
		st.errorAtPos(s.NamePos, len(name), "block %q may only be specified once", name)
		return
	}
	st.decodeBlockValue(s, name, field, true)
}

// decodeBlockValue decodes s into target, a struct or pointer to struct (or
// map). The new value starts from its type's SetToDefault; a type without
// one starts, when inherit is set, from what target holds already, so that
// defaults the enclosing struct gave the block survive for the attributes
// the block leaves out.
func (st *state) decodeBlockValue(s *ast.BlockStmt, name string, target reflect.Value, inherit bool) {
	t := target.Type()
	isPtr := t.Kind() == reflect.Pointer
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	b := block{body: s.Body, name: name, pos: s.NamePos, label: s.Label, labelPos: s.LabelPos}
	fresh := reflect.New(t)
	switch {
	case t.Kind() == reflect.Interface && t.NumMethod() == 0:
		// As in Alloy, a block decoded into an interface becomes a
		// map[string]any of its attributes.
		m := reflect.New(reflect.TypeFor[map[string]any]()).Elem()
		st.decodeMap(b, m)
		fresh.Elem().Set(m)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		st.decodeMap(b, fresh.Elem())
	case t.Kind() == reflect.Struct && value.IsTagged(t):
		if d, ok := fresh.Interface().(value.Defaulter); ok {
			d.SetToDefault()
		} else if inherit {
			switch {
			case isPtr:
				v := target
				for v.Kind() == reflect.Pointer && !v.IsNil() {
					v = v.Elem()
				}
				if v.Kind() != reflect.Pointer {
					fresh.Elem().Set(v)
				}
			case !isPtr:
				fresh.Elem().Set(target)
			}
		}
		st.decodeBlock(b, fresh.Elem())
	case t.Kind() == reflect.Struct && t.NumField() == 0:
		// A block that takes no arguments (discovery.azure's
		// workload_identity): anything inside it is unknown.
		st.decodeBlock(b, fresh.Elem())
	default:
		st.errorAtPos(s.NamePos, len(name), "block %q cannot be decoded into a %s", name, target.Type())
		return
	}
	if isPtr {
		setThroughPointers(target, fresh)
	} else {
		target.Set(fresh.Elem())
	}
}

// setThroughPointers stores p, a pointer to a decoded value, into target, a
// pointer of one or more levels (**T: a new *T pointing to it).
func setThroughPointers(target, p reflect.Value) {
	for target.Type() != p.Type() {
		q := reflect.New(p.Type())
		q.Elem().Set(p)
		p = q
	}
	target.Set(p)
}

// decodeMap decodes a body of attributes into a map with string keys.
// The label of the top block is the caller's (a component's), as for
// structs; a nested map block may not have one.
func (st *state) decodeMap(b block, into reflect.Value) {
	t := into.Type()
	m := reflect.MakeMap(t)
	if b.label != "" && !b.top {
		st.errorAtBlock(b, "block %q requires empty label", b.name)
	}
	seen := map[string]bool{}
	for _, stmt := range b.body {
		switch s := stmt.(type) {
		case *ast.AttributeStmt:
			name := s.Name.Name
			if seen[name] {
				st.errorAt(s.Name, "attribute %q may only be provided once", name)
				continue
			}
			seen[name] = true
			e := reflect.New(t.Elem()).Elem()
			if st.evalInto(s.Value, e) {
				m.SetMapIndex(reflect.ValueOf(name).Convert(t.Key()), e)
			}
		case *ast.BlockStmt:
			name := s.GetBlockName()
			st.errorAtPos(s.NamePos, len(name), "nested blocks not supported here")
		}
	}
	into.Set(m)
}

func findField(fields []value.Field, name string, kind value.FieldKind) (value.Field, bool) {
	for _, f := range fields {
		if f.Kind == kind && f.Name == name {
			return f, true
		}
	}
	return value.Field{}, false
}
