package value

import (
	"fmt"
	"reflect"
	"strings"
)

// FieldKind says how a struct field appears in the configuration.
type FieldKind uint8

// The field kinds of an alloy tag.
const (
	FieldAttr  FieldKind = iota + 1 // `alloy:"name,attr"`
	FieldBlock                      // `alloy:"name,block"`
	FieldLabel                      // `alloy:",label"`
)

func (k FieldKind) String() string {
	switch k {
	case FieldAttr:
		return "attr"
	case FieldBlock:
		return "block"
	case FieldLabel:
		return "label"
	}
	return "unknown"
}

// Field is one configuration field of a Go struct, read from its alloy tag.
// Fields of structs tagged `alloy:",squash"` are listed as fields of the
// outer struct, with the full index path.
type Field struct {
	Name     string // attribute or block name; blocks may be dotted ("a.b")
	Kind     FieldKind
	Optional bool
	Index    []int // for reflect.Value.FieldByIndex
}

// Defaulter is implemented (on the pointer) by structs that have default
// values: SetToDefault is called on a zero value before a block or object is
// decoded into it.
type Defaulter interface {
	SetToDefault()
}

// Validator is implemented (on the pointer) by structs that check their
// fields together once decoded. A Validate error is reported at the block.
type Validator interface {
	Validate() error
}

// StructFields returns the configuration fields of struct type t in
// declaration order. It panics if a tag is malformed, which is a programming
// error; CheckTags reports the same problems as an error for tests.
func StructFields(t reflect.Type) []Field {
	fields, err := structFields(t, nil, nil)
	if err != nil {
		panic(err)
	}
	return fields
}

// Fields is StructFields returning malformed tags as an error instead of
// panicking.
func Fields(t reflect.Type) ([]Field, error) { return structFields(t, nil, nil) }

// CheckTags reports malformed alloy tags in struct type t (and the block
// types it contains): unknown options, duplicate names, a label that is not
// a string, squash of a non-struct. Components may call it in tests.
func CheckTags(t reflect.Type) error {
	return checkTags(t, map[reflect.Type]bool{})
}

func checkTags(t reflect.Type, seen map[reflect.Type]bool) error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	fields, err := structFields(t, nil, nil)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if f.Kind == FieldBlock {
			if err := checkTags(t.FieldByIndex(f.Index).Type, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// IsTagged reports whether struct type t has at least one alloy tag, which
// makes its values objects rather than capsules.
func IsTagged(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if tag, ok := t.Field(i).Tag.Lookup("alloy"); ok && tag != "-" {
			return true
		}
	}
	return false
}

func structFields(t reflect.Type, prefix []int, names map[string]bool) ([]Field, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("value: %s is not a struct", t)
	}
	if names == nil {
		names = map[string]bool{}
	}
	var out []Field
	label := false
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("alloy")
		if !ok || tag == "-" {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		parts := strings.Split(tag, ",")
		name, opts := parts[0], parts[1:]
		if !sf.IsExported() {
			return nil, fmt.Errorf("value: %s.%s: alloy tag on unexported field", t, sf.Name)
		}
		if len(opts) == 1 && opts[0] == "squash" {
			if name != "" || sf.Type.Kind() != reflect.Struct {
				return nil, fmt.Errorf("value: %s.%s: squash needs an unnamed struct field", t, sf.Name)
			}
			inner, err := structFields(sf.Type, index, names)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		f := Field{Name: name, Index: index}
		switch {
		case len(opts) == 1 && opts[0] == "label":
			if name != "" || sf.Type.Kind() != reflect.String {
				return nil, fmt.Errorf("value: %s.%s: a label is an unnamed string field", t, sf.Name)
			}
			if label {
				return nil, fmt.Errorf("value: %s: more than one label field", t)
			}
			label = true
			f.Kind = FieldLabel
			out = append(out, f)
			continue
		case len(opts) >= 1 && opts[0] == "attr":
			f.Kind = FieldAttr
		case len(opts) >= 1 && opts[0] == "block":
			f.Kind = FieldBlock
		default:
			return nil, fmt.Errorf("value: %s.%s: tag %q needs attr, block, label or squash", t, sf.Name, tag)
		}
		switch {
		case len(opts) == 1:
		case len(opts) == 2 && opts[1] == "optional":
			f.Optional = true
		default:
			return nil, fmt.Errorf("value: %s.%s: unknown options in tag %q", t, sf.Name, tag)
		}
		if name == "" {
			return nil, fmt.Errorf("value: %s.%s: tag %q has no name", t, sf.Name, tag)
		}
		if names[name] {
			return nil, fmt.Errorf("value: %s: name %q used twice", t, name)
		}
		names[name] = true
		out = append(out, f)
	}
	return out, nil
}
