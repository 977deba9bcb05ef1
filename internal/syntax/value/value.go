// Package value is the value model of shoal's configuration language
// (Grafana Alloy's): every value is a number, string, bool, array, object,
// function, capsule or null. It converts Go values into language values
// (Encode) and back (Decode), following the `alloy:"..."` struct tags that
// components use for their Arguments and Exports, and it calls Go functions
// with language values.
//
// A Value wraps the Go value it came from without copying it, so passing a
// component's large exports (a list of ten thousand targets) to another
// component costs nothing until it is decoded, and decoding into the same Go
// type shares the data: receivers must treat decoded maps and slices as
// read-only.
//
// It owns the conversion rules and their error messages ("expected array, got
// string"). It does not know about source positions, scopes or operators:
// that is internal/syntax/vm.
package value

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Type is the type of a Value as the language sees it.
type Type uint8

// The language's types.
const (
	TypeNull Type = iota
	TypeNumber
	TypeString
	TypeBool
	TypeArray
	TypeObject
	TypeFunction
	TypeCapsule
)

var typeNames = [...]string{
	TypeNull:     "null",
	TypeNumber:   "number",
	TypeString:   "string",
	TypeBool:     "bool",
	TypeArray:    "array",
	TypeObject:   "object",
	TypeFunction: "function",
	TypeCapsule:  "capsule",
}

// String returns the type's name as used in messages: "number", "array", ...
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// Value is one value of the language. The zero Value is null.
type Value struct {
	ty Type
	rv reflect.Value
}

var (
	typeValue          = reflect.TypeFor[Value]()
	typeDuration       = reflect.TypeFor[time.Duration]()
	typeSecret         = reflect.TypeFor[types.Secret]()
	typeOptionalSecret = reflect.TypeFor[types.OptionalSecret]()
	typeCapsule        = reflect.TypeFor[types.Capsule]()
	typeTextMarshaler  = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	typeTextUnmarsh    = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
	typeDefaulter      = reflect.TypeFor[Defaulter]()
	typeValidator      = reflect.TypeFor[Validator]()
	typeError          = reflect.TypeFor[error]()
)

// Null is the null value.
var Null = Value{}

// Int returns a number holding a signed integer.
func Int(i int64) Value { return Value{ty: TypeNumber, rv: reflect.ValueOf(i)} }

// Uint returns a number holding an unsigned integer.
func Uint(u uint64) Value { return Value{ty: TypeNumber, rv: reflect.ValueOf(u)} }

// Float returns a number holding a float.
func Float(f float64) Value { return Value{ty: TypeNumber, rv: reflect.ValueOf(f)} }

// String returns a string value.
func String(s string) Value { return Value{ty: TypeString, rv: reflect.ValueOf(s)} }

// Bool returns a bool value.
func Bool(b bool) Value { return Value{ty: TypeBool, rv: reflect.ValueOf(b)} }

// Array returns an array of the given elements.
func Array(elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{ty: TypeArray, rv: reflect.ValueOf(elems)}
}

// Object returns an object with the given fields. Its keys are listed in
// sorted order.
func Object(fields map[string]Value) Value {
	if fields == nil {
		fields = map[string]Value{}
	}
	return Value{ty: TypeObject, rv: reflect.ValueOf(fields)}
}

// Func returns a function value for the Go function f. Calling it decodes
// each argument into the parameter's type; f may return one value, or one
// value and an error.
func Func(f any) Value {
	rv := reflect.ValueOf(f)
	if rv.Kind() != reflect.Func {
		panic(fmt.Sprintf("value.Func: %T is not a function", f))
	}
	return Value{ty: TypeFunction, rv: rv}
}

// Encapsulate returns v as a capsule, whatever its Go type.
func Encapsulate(v any) Value {
	if v == nil {
		return Null
	}
	return Value{ty: TypeCapsule, rv: reflect.ValueOf(v)}
}

// Encode returns the language value of the Go value v:
//   - nil, nil pointers, maps and interfaces: null;
//   - bools, integers and floats (including named ones): bool and number;
//   - strings, time.Duration ("1m30s") and types with a MarshalText method
//     (types.Size, Prometheus' model.Duration, ...): string;
//   - slices and arrays: array; maps with string keys and structs with alloy
//     tags: object (pointers are followed);
//   - funcs: function;
//   - types.Secret, types.OptionalSecret with IsSecret set, types.Capsule
//     implementations, values held in non-empty interfaces (such as
//     sample.Receiver), channels, untagged structs and maps with other keys:
//     capsule. An OptionalSecret that is not secret is a string.
//
// A Value passed in is returned as is.
func Encode(v any) Value {
	if v, ok := v.(Value); ok {
		return v
	}
	return makeValue(reflect.ValueOf(v))
}

// FromReflect is Encode for a reflect.Value; an interface-typed rv (such as
// a struct field of type sample.Receiver) keeps its static type, which
// capsules use to describe themselves.
func FromReflect(rv reflect.Value) Value { return makeValue(rv) }

func makeValue(rv reflect.Value) Value {
	if !rv.IsValid() {
		return Null
	}
	t := rv.Type()
	if t == typeValue {
		return rv.Interface().(Value)
	}
	switch t {
	case typeSecret:
		return Value{ty: TypeCapsule, rv: rv}
	case typeOptionalSecret:
		os := rv.Interface().(types.OptionalSecret)
		if os.IsSecret {
			return Value{ty: TypeCapsule, rv: reflect.ValueOf(types.Secret(os.Value))}
		}
		return String(os.Value)
	case typeDuration:
		return String(time.Duration(rv.Int()).String())
	}
	k := t.Kind()
	switch k {
	case reflect.Interface:
		if rv.IsNil() {
			return Null
		}
		if t.NumMethod() == 0 {
			return makeValue(rv.Elem())
		}
		return Value{ty: TypeCapsule, rv: rv}
	case reflect.Pointer:
		if rv.IsNil() {
			return Null
		}
		if t.Implements(typeCapsule) {
			return Value{ty: TypeCapsule, rv: rv}
		}
		switch e := t.Elem(); e.Kind() {
		case reflect.Struct:
			if !IsTagged(e) && !isTextMarshaler(e) {
				return Value{ty: TypeCapsule, rv: rv}
			}
		case reflect.Bool, reflect.String, reflect.Slice, reflect.Map, reflect.Array,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64, reflect.Pointer:
		default:
			return Value{ty: TypeCapsule, rv: rv}
		}
		if isTextMarshaler(t) {
			return marshalText(rv)
		}
		return makeValue(rv.Elem())
	}
	if t.Implements(typeCapsule) {
		return Value{ty: TypeCapsule, rv: rv}
	}
	if k != reflect.Struct || !IsTagged(t) {
		if isTextMarshaler(t) || isTextMarshaler(reflect.PointerTo(t)) {
			return marshalText(rv)
		}
	}
	switch k {
	case reflect.Bool:
		return Value{ty: TypeBool, rv: rv}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return Value{ty: TypeNumber, rv: rv}
	case reflect.String:
		return Value{ty: TypeString, rv: rv}
	case reflect.Slice:
		if rv.IsNil() {
			return Null
		}
		return Value{ty: TypeArray, rv: rv}
	case reflect.Array:
		return Value{ty: TypeArray, rv: rv}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return Value{ty: TypeCapsule, rv: rv}
		}
		if rv.IsNil() {
			return Null
		}
		return Value{ty: TypeObject, rv: rv}
	case reflect.Struct:
		if IsTagged(t) {
			return Value{ty: TypeObject, rv: rv}
		}
		return Value{ty: TypeCapsule, rv: rv}
	case reflect.Func:
		if rv.IsNil() {
			return Null
		}
		return Value{ty: TypeFunction, rv: rv}
	}
	return Value{ty: TypeCapsule, rv: rv}
}

func isTextMarshaler(t reflect.Type) bool { return t.Implements(typeTextMarshaler) }

// marshalText turns a value with a MarshalText method into a string; a
// method on the pointer is reached through an addressable copy.
func marshalText(rv reflect.Value) Value {
	if !rv.Type().Implements(typeTextMarshaler) {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		rv = p
	}
	b, err := rv.Interface().(interface{ MarshalText() ([]byte, error) }).MarshalText()
	if err != nil {
		return Value{ty: TypeCapsule, rv: rv}
	}
	return String(string(b))
}

// Type returns v's type.
func (v Value) Type() Type { return v.ty }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.ty == TypeNull }

// Number returns v's number. It panics if v is not a number.
func (v Value) Number() Number {
	v.must(TypeNumber)
	return numberOf(v.rv)
}

// Text returns v's string. It panics if v is not a string.
func (v Value) Text() string {
	v.must(TypeString)
	return v.rv.String()
}

// Bool returns v's bool. It panics if v is not a bool.
func (v Value) Bool() bool {
	v.must(TypeBool)
	return v.rv.Bool()
}

// Len returns the number of elements of an array or keys of an object. It
// panics for other types.
func (v Value) Len() int {
	switch v.ty {
	case TypeArray:
		return v.rv.Len()
	case TypeObject:
		if v.rv.Kind() == reflect.Map {
			return v.rv.Len()
		}
		return len(v.Keys())
	}
	panic("value: Len of " + v.ty.String())
}

// Index returns element i of an array. It panics if v is not an array or i
// is out of range.
func (v Value) Index(i int) Value {
	v.must(TypeArray)
	return makeValue(v.rv.Index(i))
}

// Keys returns the keys of an object: sorted for maps, in declaration order
// for structs (see OrderedKeys). It panics if v is not an object.
func (v Value) Keys() []string {
	v.must(TypeObject)
	if v.rv.Kind() == reflect.Map {
		keys := make([]string, 0, v.rv.Len())
		iter := v.rv.MapRange()
		for iter.Next() {
			keys = append(keys, iter.Key().String())
		}
		sort.Strings(keys)
		return keys
	}
	var keys []string
	for _, f := range StructFields(v.rv.Type()) {
		if f.Kind != FieldLabel {
			keys = append(keys, f.Name)
		}
	}
	return keys
}

// OrderedKeys reports whether the object's keys have an order of their own
// (a struct's declaration order) rather than the sorted order of a map.
func (v Value) OrderedKeys() bool {
	return v.ty == TypeObject && v.rv.Kind() == reflect.Struct
}

// Key returns the field k of an object and whether it exists. It panics if
// v is not an object.
func (v Value) Key(k string) (Value, bool) {
	v.must(TypeObject)
	if v.rv.Kind() == reflect.Map {
		e := v.rv.MapIndex(reflect.ValueOf(k).Convert(v.rv.Type().Key()))
		if !e.IsValid() {
			return Null, false
		}
		return makeValue(e), true
	}
	for _, f := range StructFields(v.rv.Type()) {
		if f.Kind != FieldLabel && f.Name == k {
			return makeValue(v.rv.FieldByIndex(f.Index)), true
		}
	}
	return Null, false
}

// Label returns the label of a struct-backed object (its `alloy:",label"`
// field), or "".
func (v Value) Label() string {
	if v.ty != TypeObject || v.rv.Kind() != reflect.Struct {
		return ""
	}
	for _, f := range StructFields(v.rv.Type()) {
		if f.Kind == FieldLabel {
			return v.rv.FieldByIndex(f.Index).String()
		}
	}
	return ""
}

// Reflect returns the Go value behind v: the struct behind an object built
// from a struct, the interface-typed field behind a capsule, and so on. It
// is invalid for null.
func (v Value) Reflect() reflect.Value { return v.rv }

// Interface returns v as a plain Go value: nil, int64, uint64 or float64,
// string, bool, []any, map[string]any, the function, or the capsule's Go
// value. It is what decoding into an `any` yields.
func (v Value) Interface() any {
	switch v.ty {
	case TypeNull:
		return nil
	case TypeNumber:
		n := v.Number()
		switch n.Kind() {
		case NumberInt:
			return n.Int()
		case NumberUint:
			return n.Uint()
		}
		return n.Float()
	case TypeString:
		return v.Text()
	case TypeBool:
		return v.Bool()
	case TypeArray:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = v.Index(i).Interface()
		}
		return out
	case TypeObject:
		keys := v.Keys()
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			e, _ := v.Key(k)
			out[k] = e.Interface()
		}
		return out
	}
	return v.rv.Interface()
}

// Describe returns how a function or capsule is shown to users: "function",
// "(secret)" for a secret, and `capsule("sample.Receiver")` (the Go type)
// for other capsules. For other types it returns the type's name.
func (v Value) Describe() string {
	switch v.ty {
	case TypeCapsule:
		if v.IsSecret() {
			return types.Redacted
		}
		return fmt.Sprintf("capsule(%q)", v.rv.Type().String())
	case TypeFunction:
		return "function"
	}
	return v.ty.String()
}

// IsSecret reports whether v is a secret capsule.
func (v Value) IsSecret() bool {
	return v.ty == TypeCapsule && v.rv.Type() == typeSecret
}

// GoString renders v for debugging; secrets stay hidden.
func (v Value) GoString() string { return v.String() }

// String renders v in the language's syntax, for messages and tests:
// `"a"`, `1.5`, `[1, 2]`, `{a = 1}`; functions and capsules are described.
func (v Value) String() string {
	switch v.ty {
	case TypeNull:
		return "null"
	case TypeNumber:
		return v.Number().String()
	case TypeString:
		return strconv.Quote(v.Text())
	case TypeBool:
		return strconv.FormatBool(v.Bool())
	case TypeArray:
		s := "["
		for i := range v.Len() {
			if i > 0 {
				s += ", "
			}
			s += v.Index(i).String()
		}
		return s + "]"
	case TypeObject:
		s := "{"
		for i, k := range v.Keys() {
			if i > 0 {
				s += ", "
			}
			e, _ := v.Key(k)
			s += strconv.Quote(k) + " = " + e.String()
		}
		return s + "}"
	}
	return v.Describe()
}

func (v Value) must(t Type) {
	if v.ty != t {
		panic("value: " + t.String() + " operation on " + v.ty.String())
	}
}
