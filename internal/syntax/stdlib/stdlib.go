// Package stdlib is the standard library of shoal's configuration language:
// the functions and constants a config can use without declaring them, under
// Alloy's names (sys.env, string.format, array.concat, encoding.from_json,
// constants.hostname, json_path, file.path_join, ...) and Alloy's older
// top-level names that Alloy still accepts (env, format, concat, json_decode,
// yaml_decode, base64_decode, nonsensitive, ...).
//
// It owns what those names mean, their results and error messages (Alloy's),
// and the stability level of each (Level): array.combine_maps and
// array.group_by are experimental, as in Alloy. It does not evaluate
// expressions nor refuse anything: the vm consults Lookup for every name that
// the user's scope does not define, and Level to decide whether the chosen
// --stability.level permits a function. Nothing here is cached between calls;
// constants.hostname is read when a config refers to it.
package stdlib

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// MaxStringLen bounds the strings that functions build (16 MiB). Functions
// whose output can be much longer than their input (string.replace,
// string.join) refuse to exceed it before doing the work, and the vm rejects
// longer results of any other call, so that a config cannot make the process
// build strings of exponential size by nesting calls.
const MaxStringLen = 16 << 20

// Version is what constants.version reports, normalized as Alloy does
// ("v0.0.0" when unset). The binary sets it at start-up.
var Version string

// Info describes one name of the library.
type Info struct {
	Name       string          // full name: "string.format", "coalesce", "constants.os"
	Level      stability.Level // its stability
	Deprecated bool            // an old top-level name kept for compatibility
	Constant   bool            // a value rather than a function
}

// namespaces lists each namespace's members in documentation order.
var namespaces = map[string][]string{
	"array":     {"concat", "combine_maps", "group_by"},
	"constants": {"hostname", "os", "arch", "version"},
	"convert":   {"nonsensitive"},
	"encoding":  {"from_json", "from_yaml", "from_base64", "from_URLbase64", "to_json", "to_base64", "to_URLbase64", "url_encode", "url_decode"},
	"file":      {"path_join"},
	"string":    {"format", "join", "replace", "split", "to_lower", "to_upper", "trim", "trim_prefix", "trim_suffix", "trim_space"},
	"sys":       {"env"},
}

// topLevel are the functions that are not in a namespace.
var topLevel = []string{"coalesce", "json_path"}

// deprecated maps each old top-level name to the function it still names.
var deprecated = map[string]string{
	"env":           "sys.env",
	"nonsensitive":  "convert.nonsensitive",
	"concat":        "array.concat",
	"json_decode":   "encoding.from_json",
	"yaml_decode":   "encoding.from_yaml",
	"base64_decode": "encoding.from_base64",
	"format":        "string.format",
	"join":          "string.join",
	"replace":       "string.replace",
	"split":         "string.split",
	"to_lower":      "string.to_lower",
	"to_upper":      "string.to_upper",
	"trim":          "string.trim",
	"trim_prefix":   "string.trim_prefix",
	"trim_suffix":   "string.trim_suffix",
	"trim_space":    "string.trim_space",
}

// experimental lists the members below general availability, as Alloy's
// ExperimentalIdentifiers does.
var experimental = map[string]bool{
	"array.combine_maps": true,
	"array.group_by":     true,
}

// Level returns the stability of a library name given in full
// ("array.group_by", "coalesce"): Undefined for names that are not in the
// library.
func Level(fullName string) stability.Level {
	if experimental[fullName] {
		return stability.Experimental
	}
	if ns, member, ok := strings.Cut(fullName, "."); ok {
		for _, m := range namespaces[ns] {
			if m == member {
				return stability.GenerallyAvailable
			}
		}
		return stability.Undefined
	}
	if IsName(fullName) {
		return stability.GenerallyAvailable
	}
	return stability.Undefined
}

// Deprecated reports whether name is an old top-level name, and which name
// replaces it.
func Deprecated(name string) (replacement string, ok bool) {
	r, ok := deprecated[name]
	return r, ok
}

// IsNamespace reports whether name is a namespace (array, string, ...).
func IsNamespace(name string) bool {
	_, ok := namespaces[name]
	return ok
}

// IsName reports whether name is a top-level name of the library. Such names
// are never references to components.
func IsName(name string) bool {
	if _, ok := namespaces[name]; ok {
		return true
	}
	if _, ok := deprecated[name]; ok {
		return true
	}
	return name == "coalesce" || name == "json_path"
}

// Names returns the library's top-level names, sorted.
func Names() []string {
	var out []string
	for ns := range namespaces {
		out = append(out, ns)
	}
	for d := range deprecated {
		out = append(out, d)
	}
	out = append(out, topLevel...)
	sort.Strings(out)
	return out
}

// All describes every name of the library, namespaced members first, sorted
// by full name.
func All() []Info {
	var out []Info
	for ns, members := range namespaces {
		for _, m := range members {
			full := ns + "." + m
			out = append(out, Info{Name: full, Level: Level(full), Constant: ns == "constants"})
		}
	}
	for _, n := range topLevel {
		out = append(out, Info{Name: n, Level: stability.GenerallyAvailable})
	}
	for d := range deprecated {
		out = append(out, Info{Name: d, Level: stability.GenerallyAvailable, Deprecated: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the value of a top-level name: a namespace (an object of
// functions and constants) or a function. Each call builds a fresh value.
func Lookup(name string) (any, bool) {
	if members, ok := namespaces[name]; ok {
		obj := make(map[string]any, len(members))
		for _, m := range members {
			obj[m] = member(name, m)
		}
		return obj, true
	}
	if full, ok := deprecated[name]; ok {
		ns, m, _ := strings.Cut(full, ".")
		return member(ns, m), true
	}
	switch name {
	case "coalesce":
		return coalesce, true
	case "json_path":
		return jsonPath, true
	}
	return nil, false
}

// member returns the value of ns.m.
func member(ns, m string) any {
	switch ns + "." + m {
	case "array.concat":
		return concat
	case "array.combine_maps":
		return combineMaps
	case "array.group_by":
		return groupBy
	case "constants.hostname":
		host, _ := os.Hostname()
		return host
	case "constants.os":
		return runtime.GOOS
	case "constants.arch":
		return runtime.GOARCH
	case "constants.version":
		return normalizeVersion(Version)
	case "convert.nonsensitive":
		return nonsensitive
	case "encoding.from_json":
		return fromJSON
	case "encoding.from_yaml":
		return fromYAML
	case "encoding.from_base64":
		return fromBase64
	case "encoding.from_URLbase64":
		return fromURLBase64
	case "encoding.to_json":
		return toJSON
	case "encoding.to_base64":
		return toBase64
	case "encoding.to_URLbase64":
		return toURLBase64
	case "encoding.url_encode":
		return url.QueryEscape
	case "encoding.url_decode":
		return url.QueryUnescape
	case "file.path_join":
		return filepath.Join
	case "string.format":
		return format
	case "string.join":
		return join
	case "string.replace":
		return replace
	case "string.split":
		return strings.Split
	case "string.to_lower":
		return strings.ToLower
	case "string.to_upper":
		return strings.ToUpper
	case "string.trim":
		return strings.Trim
	case "string.trim_prefix":
		return strings.TrimPrefix
	case "string.trim_suffix":
		return strings.TrimSuffix
	case "string.trim_space":
		return strings.TrimSpace
	case "sys.env":
		return os.Getenv
	}
	panic("stdlib: no member " + ns + "." + m)
}

// Identifiers returns every top-level name with its value, freshly built.
func Identifiers() map[string]any {
	ns := Names()
	out := make(map[string]any, len(ns))
	for _, n := range ns {
		out[n], _ = Lookup(n)
	}
	return out
}

// normalizeVersion gives a version a "v" prefix when it is a semantic
// version, "v0.0.0" when it is empty, and leaves anything else as it is.
func normalizeVersion(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "v0.0.0"
	case v[0] >= '0' && v[0] <= '9':
		return "v" + v
	}
	return v
}

// format is string.format: Go's fmt verbs over the arguments' plain Go
// values, so that integers format with %d and floats with %f as in Alloy.
// Secrets format as "(secret)".
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
		return "", errTooLong(n)
	}
	return strings.Join(elems, sep), nil
}

// replace is string.replace (every occurrence), bounded by MaxStringLen.
func replace(s, old, new string) (string, error) {
	count := strings.Count(s, old)
	if n := len(s) + count*(len(new)-len(old)); count > 0 && n > MaxStringLen {
		return "", errTooLong(n)
	}
	return strings.ReplaceAll(s, old, new), nil
}

func errTooLong(n int) error {
	return fmt.Errorf("the result would be %d bytes, more than the limit of %d", n, MaxStringLen)
}

// argErr says that argument i (or, with elem >= 0, element elem of argument
// i) should have been of type want.
func argErr(i, elem int, v value.Value, want string) error {
	var err error = &value.TypeError{Value: v, Expected: want}
	if elem >= 0 {
		err = &value.ElementError{Index: elem, Err: err}
	}
	return &value.ArgError{Index: i, Err: err}
}

// concat is array.concat: the elements of every array argument, in order.
func concat(arrays ...value.Value) (value.Value, error) {
	n := 0
	for i, a := range arrays {
		if a.Type() != value.TypeArray {
			return value.Null, argErr(i, -1, a, "array")
		}
		n += a.Len()
	}
	if len(arrays) == 1 {
		return arrays[0], nil
	}
	out := make([]value.Value, 0, n)
	for _, a := range arrays {
		for j := range a.Len() {
			out = append(out, a.Index(j))
		}
	}
	return value.Array(out...), nil
}

// combineMaps is array.combine_maps(left, right, keys[, passthrough]): for
// every pair of objects from left and right that hold equal values under all
// keys, the two merged (right wins). With passthrough, each pair that does
// not match contributes the left object unchanged, as Alloy's does.
func combineMaps(args ...value.Value) (value.Value, error) {
	if len(args) != 3 && len(args) != 4 {
		return value.Null, fmt.Errorf("combine_maps: expected 3 or 4 arguments, got %d", len(args))
	}
	for i := range 2 {
		if args[i].Type() != value.TypeArray {
			return value.Null, argErr(i, -1, args[i], "array")
		}
		for j := range args[i].Len() {
			if e := args[i].Index(j); e.Type() != value.TypeObject {
				return value.Null, argErr(i, j, e, "object")
			}
		}
	}
	keys := args[2]
	if keys.Type() != value.TypeArray {
		return value.Null, argErr(2, -1, keys, "array")
	}
	if keys.Len() == 0 {
		return value.Null, &value.ArgError{Index: 2, Err: fmt.Errorf("combine_maps: merge conditions must not be empty")}
	}
	conds := make([]string, keys.Len())
	for i := range conds {
		k := keys.Index(i)
		if k.Type() != value.TypeString {
			return value.Null, argErr(2, i, k, "string")
		}
		conds[i] = k.Text()
	}
	passthrough := false
	if len(args) == 4 {
		if args[3].Type() != value.TypeBool {
			return value.Null, argErr(3, -1, args[3], "bool")
		}
		passthrough = args[3].Bool()
	}
	left, right := args[0], args[1]
	out := []value.Value{}
	for i := range left.Len() {
		l := left.Index(i)
		for j := range right.Len() {
			r := right.Index(j)
			if joins(l, r, conds) {
				out = append(out, merge(l, r))
			} else if passthrough {
				out = append(out, l)
			}
		}
	}
	return value.Array(out...), nil
}

// joins reports whether l and r hold the same value under every key. As in
// Alloy, numbers match only when held the same way: 1 does not match 1.0.
func joins(l, r value.Value, keys []string) bool {
	for _, k := range keys {
		lv, ok := l.Key(k)
		if !ok {
			return false
		}
		rv, ok := r.Key(k)
		if !ok {
			return false
		}
		if lv.Type() == value.TypeNumber && rv.Type() == value.TypeNumber && lv.Number().Kind() != rv.Number().Kind() {
			return false
		}
		if !value.Equal(lv, rv) {
			return false
		}
	}
	return true
}

func merge(l, r value.Value) value.Value {
	out := make(map[string]value.Value, l.Len()+r.Len())
	for _, k := range l.Keys() {
		out[k], _ = l.Key(k)
	}
	for _, k := range r.Keys() {
		out[k], _ = r.Key(k)
	}
	return value.Object(out)
}

// groupBy is array.group_by(objects, key, drop_missing): one object
// {<key> = value, items = [...]} per distinct string value of key, in the
// order each value first appears (Alloy leaves the order unspecified).
// Objects without the key are dropped, or grouped under "" when drop_missing
// is false.
func groupBy(args ...value.Value) (value.Value, error) {
	if len(args) != 3 {
		return value.Null, fmt.Errorf("group_by: expected 3 arguments, got %d", len(args))
	}
	arr, keyV, dropV := args[0], args[1], args[2]
	if arr.Type() != value.TypeArray {
		return value.Null, argErr(0, -1, arr, "array")
	}
	if keyV.Type() != value.TypeString {
		return value.Null, argErr(1, -1, keyV, "string")
	}
	if dropV.Type() != value.TypeBool {
		return value.Null, argErr(2, -1, dropV, "bool")
	}
	key, drop := keyV.Text(), dropV.Bool()
	var order []string
	groups := map[string][]value.Value{}
	for i := range arr.Len() {
		item := arr.Index(i)
		if item.Type() != value.TypeObject {
			return value.Null, argErr(0, i, item, "object")
		}
		v, ok := item.Key(key)
		g := ""
		switch {
		case !ok && drop:
			continue
		case ok && v.Type() != value.TypeString:
			return value.Null, &value.ArgError{Index: 0, Err: &value.ElementError{Index: i,
				Err: &value.FieldError{Key: key, Err: &value.TypeError{Value: v, Expected: "string"}}}}
		case ok:
			g = v.Text()
		}
		if _, seen := groups[g]; !seen {
			order = append(order, g)
		}
		groups[g] = append(groups[g], item)
	}
	out := make([]value.Value, 0, len(order))
	for _, g := range order {
		out = append(out, value.Object(map[string]value.Value{
			key:     value.String(g),
			"items": value.Array(groups[g]...),
		}))
	}
	return value.Array(out...), nil
}

// coalesce returns its first argument that is neither null nor the zero
// value of its Go type (empty string, 0, false, a struct with every field
// zero, an empty secret) nor an empty array or object, as Alloy's does; when
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
	if v.IsNull() || v.Reflect().IsZero() {
		return true
	}
	switch v.Type() {
	case value.TypeArray, value.TypeObject:
		return v.Len() == 0
	}
	return false
}

// nonsensitive is convert.nonsensitive: the text of a secret (or of a
// string, which Alloy converts into a secret on the way in).
func nonsensitive(v value.Value) (string, error) {
	switch {
	case v.Type() == value.TypeString:
		return v.Text(), nil
	case v.IsSecret():
		return string(v.Reflect().Interface().(types.Secret)), nil
	}
	return "", &value.ArgError{Index: 0, Err: &value.TypeError{Value: v, Expected: "capsule"}}
}

func fromBase64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return string(b), err
}

func fromURLBase64(s string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	return string(b), err
}

func toBase64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func toURLBase64(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

// fromJSON is encoding.from_json: JSON text to a value. As in Alloy, every
// JSON number becomes a float (encoding/json's reading), so [1] decodes to
// [1.0], which still prints and compares as 1.
func fromJSON(s string) (value.Value, error) {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return value.Null, err
	}
	return fromPlain(v)
}

// fromYAML is encoding.from_yaml: YAML text (one document) to a value.
// Integers stay integers.
func fromYAML(s string) (value.Value, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return value.Null, err
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

// toJSON is encoding.to_json: an object to JSON text, keys sorted. As in
// Alloy only objects are accepted. Secrets encode as "(secret)", other
// capsules as their description; functions cannot be encoded.
func toJSON(v value.Value) (string, error) {
	if v.Type() != value.TypeObject {
		return "", fmt.Errorf("jsonEncode only supports map")
	}
	plain, err := toPlain(v)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", err
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
	return nil, fmt.Errorf("json: unsupported type: %s", v.Type())
}
