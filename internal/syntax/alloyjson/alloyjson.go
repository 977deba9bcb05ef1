// Package alloyjson encodes configuration values in Grafana Alloy's typed
// JSON, the format of the HTTP API (/api/v0/web/components/{id}): a
// component's arguments, exports and debug info become a body, a list of
// attributes and blocks,
//
//	{"name": "url", "type": "attr", "value": {"type": "string", "value": "http://..."}}
//	{"name": "endpoint", "type": "block", "label": "a", "body": [...]}
//
// and every value carries its type:
//
//	{"type": "number", "value": 1}
//	{"type": "array", "value": [{"type": "string", "value": "a"}]}
//	{"type": "object", "value": [{"key": "k", "value": {"type": "bool", "value": true}}]}
//	{"type": "capsule", "value": "capsule(\"sample.Receiver\")"}
//	{"type": "null"}
//
// Secrets are capsules that encode as "(secret)"; their text never reaches
// the output. The package owns this format only; the value rules come from
// internal/syntax/value and the HTTP handlers from internal/web.
package alloyjson

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"

	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// jsonAttr is an attribute of a body.
type jsonAttr struct {
	Name  string    `json:"name"`
	Type  string    `json:"type"` // always "attr"
	Value jsonValue `json:"value"`
}

// jsonBlock is a block of a body.
type jsonBlock struct {
	Name  string `json:"name"`
	Type  string `json:"type"` // always "block"
	Label string `json:"label,omitempty"`
	Body  []any  `json:"body"`
}

// jsonValue is a typed value; Value is absent for null.
type jsonValue struct {
	Type  string `json:"type"`
	Value any    `json:"value,omitempty"`
}

// jsonField is one key of an object.
type jsonField struct {
	Key   string    `json:"key"`
	Value jsonValue `json:"value"`
}

// MarshalBody encodes v, a struct with alloy tags such as a component's
// Arguments or Exports (or a pointer to one), as a body: its attributes in
// declaration order, every one listed even when it holds its zero value, and
// its blocks, one per element for a repeated block and none for an absent
// optional pointer block. A map with string keys encodes as attributes in
// key order; nil encodes as an empty body.
//
// A slice of tagged structs, as prometheus.scrape returns for its debug
// info, encodes as one block per element, named by the elements'
// AlloyBlockName() string method if they have one, else DefaultBlockName
// ("target", as in Alloy's debug info); see MarshalBlocks to choose.
func MarshalBody(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		return MarshalBlocks(blockNameOf(rv.Type().Elem()), rv.Interface())
	}
	body, err := bodyOf(reflect.ValueOf(v))
	if err != nil {
		return nil, err
	}
	return json.Marshal(body)
}

// DefaultBlockName names the blocks of a slice given to MarshalBody whose
// elements do not name themselves.
const DefaultBlockName = "target"

// blockNamer is implemented by element types of slices given to MarshalBody
// that want another block name than DefaultBlockName.
type blockNamer interface{ AlloyBlockName() string }

func blockNameOf(t reflect.Type) string {
	if t.Implements(reflect.TypeFor[blockNamer]()) {
		return reflect.Zero(t).Interface().(blockNamer).AlloyBlockName()
	}
	return DefaultBlockName
}

// MarshalBlocks encodes each element of slice (tagged structs, such as the
// per-target debug info of prometheus.scrape) as a block called name, and
// returns the list of blocks.
func MarshalBlocks(name string, slice any) ([]byte, error) {
	rv := reflect.ValueOf(slice)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return []byte("[]"), nil
	}
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("alloyjson: MarshalBlocks needs a slice, got %s", rv.Type())
	}
	out := make([]any, 0, rv.Len())
	for i := range rv.Len() {
		b, err := blockOf(name, rv.Index(i))
		if err != nil {
			return nil, err
		}
		if b != nil {
			out = append(out, b)
		}
	}
	return json.Marshal(out)
}

// MarshalValue encodes one value (any Go value, or a value.Value) in the
// typed form.
func MarshalValue(v any) ([]byte, error) {
	jv, err := valueOf(value.Encode(v))
	if err != nil {
		return nil, err
	}
	return json.Marshal(jv)
}

func bodyOf(rv reflect.Value) ([]any, error) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		rv = rv.Elem()
	}
	body := []any{}
	if !rv.IsValid() {
		return body, nil
	}
	switch {
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		obj := value.FromReflect(rv)
		if obj.IsNull() {
			return body, nil
		}
		for _, k := range obj.Keys() {
			e, _ := obj.Key(k)
			jv, err := valueOf(e)
			if err != nil {
				return nil, err
			}
			body = append(body, jsonAttr{Name: k, Type: "attr", Value: jv})
		}
		return body, nil
	case rv.Kind() != reflect.Struct || !value.IsTagged(rv.Type()):
		return nil, fmt.Errorf("alloyjson: cannot encode a %s as a body", rv.Type())
	}
	for _, f := range value.StructFields(rv.Type()) {
		fv := rv.FieldByIndex(f.Index)
		switch f.Kind {
		case value.FieldAttr:
			jv, err := valueOf(value.FromReflect(fv))
			if err != nil {
				return nil, fmt.Errorf("alloyjson: attribute %q: %w", f.Name, err)
			}
			body = append(body, jsonAttr{Name: f.Name, Type: "attr", Value: jv})
		case value.FieldBlock:
			if fv.Kind() == reflect.Slice || fv.Kind() == reflect.Array {
				for i := range fv.Len() {
					b, err := blockOf(f.Name, fv.Index(i))
					if err != nil {
						return nil, err
					}
					if b != nil {
						body = append(body, b)
					}
				}
				continue
			}
			b, err := blockOf(f.Name, fv)
			if err != nil {
				return nil, err
			}
			if b != nil {
				body = append(body, b)
			}
		}
	}
	return body, nil
}

// blockOf encodes one block, or returns nil for a nil pointer.
func blockOf(name string, rv reflect.Value) (any, error) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, nil
		}
		rv = rv.Elem()
	}
	body, err := bodyOf(rv)
	if err != nil {
		return nil, fmt.Errorf("alloyjson: block %q: %w", name, err)
	}
	return jsonBlock{Name: name, Type: "block", Label: value.FromReflect(rv).Label(), Body: body}, nil
}

func valueOf(v value.Value) (jsonValue, error) {
	switch v.Type() {
	case value.TypeNull:
		return jsonValue{Type: "null"}, nil
	case value.TypeNumber:
		n := v.Number()
		if f := n.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no spelling for these; Prometheus writes them so.
			return jsonValue{Type: "number", Value: formatSpecial(f)}, nil
		}
		return jsonValue{Type: "number", Value: json.Number(n.String())}, nil
	case value.TypeString:
		return jsonValue{Type: "string", Value: v.Text()}, nil
	case value.TypeBool:
		return jsonValue{Type: "bool", Value: v.Bool()}, nil
	case value.TypeArray:
		elems := make([]jsonValue, v.Len())
		for i := range elems {
			e, err := valueOf(v.Index(i))
			if err != nil {
				return jsonValue{}, err
			}
			elems[i] = e
		}
		return jsonValue{Type: "array", Value: elems}, nil
	case value.TypeObject:
		keys := v.Keys()
		fields := make([]jsonField, 0, len(keys))
		for _, k := range keys {
			e, _ := v.Key(k)
			jv, err := valueOf(e)
			if err != nil {
				return jsonValue{}, err
			}
			fields = append(fields, jsonField{Key: k, Value: jv})
		}
		return jsonValue{Type: "object", Value: fields}, nil
	case value.TypeFunction:
		return jsonValue{Type: "function", Value: v.Describe()}, nil
	case value.TypeCapsule:
		return jsonValue{Type: "capsule", Value: v.Describe()}, nil
	}
	return jsonValue{}, fmt.Errorf("alloyjson: unknown value type %s", v.Type())
}

func formatSpecial(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "+Inf"
	}
	return "-Inf"
}
