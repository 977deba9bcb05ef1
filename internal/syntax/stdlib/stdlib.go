// Package stdlib is the standard library of shoal's configuration language:
// the functions and constants a config can use without declaring them, under
// Alloy's names (sys.env, string.format, array.concat, encoding.from_json,
// constants.hostname, ...) and Alloy's older top-level names (env, format,
// concat, json_decode, ...).
//
// It owns what those names mean. It does not evaluate expressions: the vm
// consults Lookup for every name that the user's scope does not define.
// Nothing here is cached between calls; constants.hostname is read when a
// config refers to it.
package stdlib

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// MaxStringLen bounds the strings that functions build (16 MiB). Functions
// whose output can be much longer than their input (string.replace,
// string.join) refuse to exceed it before doing the work, and the vm rejects
// longer results of any other call, so that a config cannot make the process
// build strings of exponential size by nesting calls.
const MaxStringLen = 16 << 20

// names returns every top-level name of the library.
func names() []string {
	return []string{
		// Namespaces.
		"array", "constants", "convert", "encoding", "string", "sys",
		// Functions still accepted under their old names.
		"coalesce", "concat", "env", "format", "join", "json_decode",
		"nonsensitive", "replace", "split", "to_lower", "to_upper", "trim",
		"trim_prefix", "trim_space", "trim_suffix",
	}
}

// IsName reports whether name is a top-level name of the library. Such names
// are never references to components.
func IsName(name string) bool {
	switch name {
	case "array", "constants", "convert", "encoding", "string", "sys",
		"coalesce", "concat", "env", "format", "join", "json_decode",
		"nonsensitive", "replace", "split", "to_lower", "to_upper", "trim",
		"trim_prefix", "trim_space", "trim_suffix":
		return true
	}
	return false
}

// Names returns the library's top-level names, sorted.
func Names() []string {
	out := names()
	sort.Strings(out)
	return out
}

// Lookup returns the value of a top-level name: a namespace (an object of
// functions and constants) or a function. Each call builds a fresh value.
func Lookup(name string) (any, bool) {
	switch name {
	case "sys":
		return map[string]any{"env": os.Getenv}, true
	case "string":
		return map[string]any{
			"format":      format,
			"join":        join,
			"split":       strings.Split,
			"replace":     replace,
			"to_lower":    strings.ToLower,
			"to_upper":    strings.ToUpper,
			"trim":        strings.Trim,
			"trim_prefix": strings.TrimPrefix,
			"trim_suffix": strings.TrimSuffix,
			"trim_space":  strings.TrimSpace,
		}, true
	case "array":
		return map[string]any{
			"concat":       concat,
			"combine_maps": combineMaps,
		}, true
	case "encoding":
		return map[string]any{
			"from_json":      fromJSON,
			"from_yaml":      fromYAML,
			"from_base64":    fromBase64,
			"from_URLbase64": fromURLBase64,
			"to_json":        toJSON,
			"to_base64":      toBase64,
		}, true
	case "convert":
		return map[string]any{"nonsensitive": nonsensitive}, true
	case "constants":
		host, _ := os.Hostname()
		return map[string]any{
			"hostname": host,
			"os":       runtime.GOOS,
			"arch":     runtime.GOARCH,
		}, true
	case "coalesce":
		return coalesce, true
	case "concat":
		return concat, true
	case "env":
		return os.Getenv, true
	case "format":
		return format, true
	case "join":
		return join, true
	case "json_decode":
		return fromJSON, true
	case "nonsensitive":
		return nonsensitive, true
	case "replace":
		return replace, true
	case "split":
		return strings.Split, true
	case "to_lower":
		return strings.ToLower, true
	case "to_upper":
		return strings.ToUpper, true
	case "trim":
		return strings.Trim, true
	case "trim_prefix":
		return strings.TrimPrefix, true
	case "trim_suffix":
		return strings.TrimSuffix, true
	case "trim_space":
		return strings.TrimSpace, true
	}
	return nil, false
}

// Identifiers returns every top-level name with its value, freshly built.
func Identifiers() map[string]any {
	ns := names()
	out := make(map[string]any, len(ns))
	for _, n := range ns {
		out[n], _ = Lookup(n)
	}
	return out
}

// format is string.format: Go's fmt verbs over the arguments' plain Go
// values. Secrets format as "(secret)".
func format(f string, args ...value.Value) string {
	goArgs := make([]any, len(args))
	for i, a := range args {
		goArgs[i] = a.Interface()
	}
	return fmt.Sprintf(f, goArgs...)
}

// join is string.join, bounded by MaxStringLen.
func join(elems []string, sep string) (string, error) {
	n := len(sep) * max(len(elems)-1, 0)
	for _, e := range elems {
		n += len(e)
		if n > MaxStringLen {
			break
		}
	}
	if n > MaxStringLen {
		return "", errTooLong("join", n)
	}
	return strings.Join(elems, sep), nil
}

// replace is string.replace (every occurrence), bounded by MaxStringLen.
func replace(s, old, new string) (string, error) {
	count := strings.Count(s, old)
	if n := len(s) + count*(len(new)-len(old)); count > 0 && n > MaxStringLen {
		return "", errTooLong("replace", n)
	}
	return strings.ReplaceAll(s, old, new), nil
}

func errTooLong(fn string, n int) error {
	return fmt.Errorf("%s: the result would be %d bytes, more than the limit of %d", fn, n, MaxStringLen)
}

// concat is array.concat: the elements of every array argument, in order.
func concat(arrays ...value.Value) (value.Value, error) {
	var out []value.Value
	for i, a := range arrays {
		if a.Type() != value.TypeArray {
			return value.Null, &value.ArgError{Index: i, Err: &value.TypeError{Value: a, Expected: "array"}}
		}
		for j := range a.Len() {
			out = append(out, a.Index(j))
		}
	}
	return value.Array(out...), nil
}

// combineMaps is array.combine_maps(left, right, keys): for every pair of
// objects from left and right that agree on all keys, the two merged (right
// wins). It joins target lists with metadata lists.
func combineMaps(left, right []map[string]value.Value, keys []string) (value.Value, error) {
	if len(keys) == 0 {
		return value.Null, fmt.Errorf("combine_maps: keys must not be empty")
	}
	var out []value.Value
	for _, l := range left {
		for _, r := range right {
			match := true
			for _, k := range keys {
				lv, lok := l[k]
				rv, rok := r[k]
				if !lok || !rok || !value.Equal(lv, rv) {
					match = false
					break
				}
			}
			if !match {
				continue
			}
			merged := make(map[string]value.Value, len(l)+len(r))
			for k, v := range l {
				merged[k] = v
			}
			for k, v := range r {
				merged[k] = v
			}
			out = append(out, value.Object(merged))
		}
	}
	return value.Array(out...), nil
}

// coalesce returns its first argument that is neither null nor the zero
// value of its type (empty string, 0, false, empty array or object); when
// every argument is, the last one (null without arguments).
func coalesce(args ...value.Value) value.Value {
	for _, a := range args {
		if !isZero(a) {
			return a
		}
	}
	if len(args) == 0 {
		return value.Null
	}
	return args[len(args)-1]
}

func isZero(v value.Value) bool {
	switch v.Type() {
	case value.TypeNull:
		return true
	case value.TypeNumber:
		return v.Number().Float() == 0
	case value.TypeString:
		return v.Text() == ""
	case value.TypeBool:
		return !v.Bool()
	case value.TypeArray, value.TypeObject:
		return v.Len() == 0
	}
	return false
}

// nonsensitive is convert.nonsensitive: the text of a secret (or of a
// string).
func nonsensitive(v value.Value) (string, error) {
	switch {
	case v.Type() == value.TypeString:
		return v.Text(), nil
	case v.IsSecret():
		return string(v.Reflect().Interface().(types.Secret)), nil
	}
	return "", &value.ArgError{Index: 0, Err: &value.TypeError{Value: v, Expected: "secret"}}
}

func fromBase64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("from_base64: %w", err)
	}
	return string(b), nil
}

func fromURLBase64(s string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("from_URLbase64: %w", err)
	}
	return string(b), nil
}

func toBase64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// fromJSON is encoding.from_json: JSON text to a value. Whole numbers stay
// integers.
func fromJSON(s string) (value.Value, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return value.Null, fmt.Errorf("from_json: %w", err)
	}
	if dec.More() {
		return value.Null, fmt.Errorf("from_json: more than one JSON value")
	}
	return fromPlain(v)
}

// fromYAML is encoding.from_yaml: YAML text (one document) to a value.
func fromYAML(s string) (value.Value, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return value.Null, fmt.Errorf("from_yaml: %w", err)
	}
	return fromPlain(v)
}

// fromPlain converts the output of encoding/json or yaml.v3 into a Value.
func fromPlain(v any) (value.Value, error) {
	switch v := v.(type) {
	case nil:
		return value.Null, nil
	case json.Number:
		n, err := value.ParseNumber(v.String())
		if err != nil {
			return value.Null, err
		}
		return n.Value(), nil
	case []any:
		out := make([]value.Value, len(v))
		for i, e := range v {
			ev, err := fromPlain(e)
			if err != nil {
				return value.Null, err
			}
			out[i] = ev
		}
		return value.Array(out...), nil
	case map[string]any:
		out := make(map[string]value.Value, len(v))
		for k, e := range v {
			ev, err := fromPlain(e)
			if err != nil {
				return value.Null, err
			}
			out[k] = ev
		}
		return value.Object(out), nil
	case map[any]any:
		out := make(map[string]value.Value, len(v))
		for k, e := range v {
			ev, err := fromPlain(e)
			if err != nil {
				return value.Null, err
			}
			out[fmt.Sprint(k)] = ev
		}
		return value.Object(out), nil
	}
	return value.Encode(v), nil
}

// toJSON is encoding.to_json. Secrets encode as "(secret)", other capsules
// as their description; functions cannot be encoded.
func toJSON(v value.Value) (string, error) {
	plain, err := toPlain(v)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", fmt.Errorf("to_json: %w", err)
	}
	return string(b), nil
}

func toPlain(v value.Value) (any, error) {
	switch v.Type() {
	case value.TypeNull:
		return nil, nil
	case value.TypeNumber:
		return json.Number(v.Number().String()), nil
	case value.TypeString:
		return v.Text(), nil
	case value.TypeBool:
		return v.Bool(), nil
	case value.TypeArray:
		out := make([]any, v.Len())
		for i := range out {
			e, err := toPlain(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	case value.TypeObject:
		keys := v.Keys()
		out := make(map[string]any, len(keys))
		for _, k := range keys {
			ev, _ := v.Key(k)
			e, err := toPlain(ev)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case value.TypeCapsule:
		return v.Describe(), nil
	}
	return nil, fmt.Errorf("to_json: cannot encode a %s", v.Type())
}
