package stdlib_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// experimental is a scope that permits every function, as
// --stability.level=experimental does.
var experimental = &vm.Scope{MinStability: stability.Experimental}

func evalIn(t *testing.T, scope *vm.Scope, src string, target any) error {
	t.Helper()
	e, err := parser.ParseExpression(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return vm.EvaluateExpr(scope, e, target)
}

func eval(t *testing.T, src string) (value.Value, error) {
	t.Helper()
	var v value.Value
	err := evalIn(t, experimental, src, &v)
	return v, err
}

// decodeCase evaluates expr and decodes it into a new value of want's type,
// the way Alloy's stdlib tests check their results.
type decodeCase struct {
	name string
	expr string
	want any
}

func runDecodeCases(t *testing.T, scope *vm.Scope, cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got any
			var err error
			if c.want == nil {
				err = evalIn(t, scope, c.expr, &got)
			} else {
				p := reflect.New(reflect.TypeOf(c.want))
				err = evalIn(t, scope, c.expr, p.Interface())
				got = p.Elem().Interface()
			}
			if err != nil {
				t.Fatalf("%s: %v", c.expr, err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("%s\n got %#v\nwant %#v", c.expr, got, c.want)
			}
		})
	}
}

// TestAlloyStdlibCases pins the cases of Alloy's TestVM_Stdlib.
func TestAlloyStdlibCases(t *testing.T) {
	t.Setenv("TEST_VAR", "Hello!")
	runDecodeCases(t, experimental, []decodeCase{
		{"env", `env("TEST_VAR")`, "Hello!"},
		{"concat", `concat([true, "foo"], [], [false, 1])`, []any{true, "foo", false, int64(1)}},
		{"json_decode object", `json_decode("{\"foo\": \"bar\"}")`, map[string]any{"foo": "bar"}},
		{"yaml_decode object", "yaml_decode(`foo: bar`)", map[string]any{"foo": "bar"}},
		{"base64_decode", `base64_decode("Zm9vYmFyMTIzIT8kKiYoKSctPUB+")`, `foobar123!?$*&()'-=@~`},
		{"sys.env", `sys.env("TEST_VAR")`, "Hello!"},
		{"array.concat", `array.concat([true, "foo"], [], [false, 1])`, []any{true, "foo", false, int64(1)}},
		{"from_json object", `encoding.from_json("{\"foo\": \"bar\"}")`, map[string]any{"foo": "bar"}},
		{"from_json array gives floats", `encoding.from_json("[0, 1, 2]")`, []any{float64(0), float64(1), float64(2)}},
		{"from_json null field", `encoding.from_json("{\"foo\": null}")`, map[string]any{"foo": nil}},
		{"from_json null element", `encoding.from_json("[0, null]")`, []any{float64(0), nil}},
		{"from_yaml object", "encoding.from_yaml(`foo: bar`)", map[string]any{"foo": "bar"}},
		{"from_yaml array keeps integers", "encoding.from_yaml(`[0, 1, 2]`)", []any{int64(0), int64(1), int64(2)}},
		{"from_yaml array float", "encoding.from_yaml(`[0.0, 1.0, 2.0]`)", []any{float64(0), float64(1), float64(2)}},
		{"from_yaml null field", "encoding.from_yaml(`foo: null`)", map[string]any{"foo": nil}},
		{"from_yaml null element", `encoding.from_yaml("[0, null]")`, []any{int64(0), nil}},
		{"from_base64", `encoding.from_base64("Zm9vYmFyMTIzIT8kKiYoKSctPUB+")`, `foobar123!?$*&()'-=@~`},
		{"from_URLbase64", `encoding.from_URLbase64("c3RyaW5nMTIzIT8kKiYoKSctPUB-")`, `string123!?$*&()'-=@~`},
		{"to_base64", `encoding.to_base64("string123!?$*&()'-=@~")`, `c3RyaW5nMTIzIT8kKiYoKSctPUB+`},
		{"to_URLbase64", `encoding.to_URLbase64("string123!?$*&()'-=@~")`, `c3RyaW5nMTIzIT8kKiYoKSctPUB-`},
		{"url_encode", `encoding.url_encode("string123!?$*&()'-=@~")`, `string123%21%3F%24%2A%26%28%29%27-%3D%40~`},
		{"url_decode", `encoding.url_decode("string123%21%3F%24%2A%26%28%29%27-%3D%40~")`, `string123!?$*&()'-=@~`},
		{"to_json object",
			`encoding.to_json({"modules"={"http_2xx"={"prober"="http","timeout"="5s","http"={"headers"={"Authorization"=sys.env("TEST_VAR")}}}}})`,
			`{"modules":{"http_2xx":{"http":{"headers":{"Authorization":"Hello!"}},"prober":"http","timeout":"5s"}}}`},
	})
}

// TestAlloyCombineMaps pins Alloy's array.combine_maps cases.
func TestAlloyCombineMaps(t *testing.T) {
	type m = map[string]any
	runDecodeCases(t, experimental, []decodeCase{
		{"basic", `array.combine_maps([{"a" = "a1", "b" = "b1"}], [{"a" = "a1", "c" = "c1"}], ["a"])`,
			[]m{{"a": "a1", "b": "b1", "c": "c1"}}},
		{"two equal left maps", `array.combine_maps([{"a" = "a1", "b" = "b1"}, {"a" = "a1", "b" = "b1"}], [{"a" = "a1", "c" = "c1"}], ["a"])`,
			[]m{{"a": "a1", "b": "b1", "c": "c1"}, {"a": "a1", "b": "b1", "c": "c1"}}},
		{"non-unique criteria", `array.combine_maps([{"pod" = "a", "lbl" = "q"}, {"pod" = "b", "lbl" = "q"}], [{"pod" = "c", "lbl" = "q"}, {"pod" = "d", "lbl" = "q"}], ["lbl"])`,
			[]m{{"lbl": "q", "pod": "c"}, {"lbl": "q", "pod": "d"}, {"lbl": "q", "pod": "c"}, {"lbl": "q", "pod": "d"}}},
		{"numbers", `array.combine_maps([{"a" = 1, "b" = 2.2}], [{"a" = 1, "c" = "c1"}], ["a"])`,
			[]m{{"a": int64(1), "b": 2.2, "c": "c1"}}},
		{"right overrides", `array.combine_maps([{"a" = 1, "b" = 2.2}], [{"a" = 1, "b" = "3.3"}], ["a"])`,
			[]m{{"a": int64(1), "b": "3.3"}}},
		{"no match", `array.combine_maps([{"a" = 1, "b" = 2.2}], [{"a" = 2, "b" = "3.3"}], ["a"])`, []m{}},
		{"passthrough without match", `array.combine_maps([{"a" = 1, "b" = 4.2, "c" = 5}, {"d" = "asdf"}], [{"a" = 2, "b" = "5.3"}], ["a"], true)`,
			[]m{{"a": int64(1), "b": 4.2, "c": int64(5)}, {"d": "asdf"}}},
		{"passthrough with one match", `array.combine_maps([{"a" = 1, "b" = 4.2, "c" = 5}, {"d" = "asdf"}, {"a" = 2, "b" = "1", "z" = "z1"}], [{"a" = 2, "b" = "5.3"}], ["a"], true)`,
			[]m{{"a": int64(1), "b": 4.2, "c": int64(5)}, {"d": "asdf"}, {"a": int64(2), "z": "z1", "b": "5.3"}}},
		{"different types do not match", `array.combine_maps([{"a" = 1, "b" = 2.2}], [{"a" = "1", "b" = "3.3"}], ["a"])`, []m{}},
		{"1 does not match 1.0", `array.combine_maps([{"a" = 1}], [{"a" = 1.0}], ["a"])`, []m{}},
		{"nested values", `array.combine_maps([{"a" = 1, "b" = [1,2,3]}], [{"a" = 1, "c" = {"d" = {"e" = 10}}}], ["a"])`,
			[]m{{"a": int64(1), "b": []any{int64(1), int64(2), int64(3)}, "c": m{"d": m{"e": int64(10)}}}}},
		{"key missing on the right", `array.combine_maps([{"a" = 1, "n" = 1.1}], [{"a" = 1, "n" = 2.1}, {"n" = 2.2}], ["a"])`,
			[]m{{"a": int64(1), "n": 2.1}}},
		{"key missing on the left", `array.combine_maps([{"a" = 1, "n" = 1.1}, {"n" = 1.2}], [{"a" = 1, "n" = 2.1}], ["a"])`,
			[]m{{"a": int64(1), "n": 2.1}}},
		{"two keys", `array.combine_maps([{"a" = 1, "b" = 3, "n" = 1.1}], [{"a" = 1, "b" = 3, "n" = 2.1}], ["a", "b"])`,
			[]m{{"a": int64(1), "b": int64(3), "n": 2.1}}},
		{"two keys, partial maps", `array.combine_maps([{"a" = 1, "n" = 1.1}, {"a" = 1, "b" = 3, "n" = 1.1}, {"b" = 3, "n" = 1.1}], [{"a" = 1, "n" = 2.3}, {"b" = 1, "n" = 2.3}, {"a" = 1, "b" = 3, "n" = 2.1}], ["a", "b"])`,
			[]m{{"a": int64(1), "b": int64(3), "n": 2.1}}},
		{"a key nobody has", `array.combine_maps([{"a" = 1, "n" = 1.1}, {"a" = 1, "b" = 3, "n" = 1.1}, {"b" = 3, "n" = 1.1}], [{"a" = 1, "n" = 2.3}, {"b" = 1, "n" = 2.3}, {"a" = 1, "b" = 3, "n" = 2.1}], ["a", "b", "c"])`,
			[]m{}},
		{"every pair", `array.combine_maps([{"a" = 1, "n" = 1.1}, {"a" = 1, "n" = 1.2}, {"a" = 1, "n" = 1.3}], [{"a" = 1, "n" = 2.1}, {"a" = 1, "n" = 2.2}, {"a" = 1, "n" = 2.3}], ["a"])`,
			[]m{{"a": int64(1), "n": 2.1}, {"a": int64(1), "n": 2.2}, {"a": int64(1), "n": 2.3},
				{"a": int64(1), "n": 2.1}, {"a": int64(1), "n": 2.2}, {"a": int64(1), "n": 2.3},
				{"a": int64(1), "n": 2.1}, {"a": int64(1), "n": 2.2}, {"a": int64(1), "n": 2.3}}},
		{"docs: instance", `array.combine_maps([{"instance"="1.1.1.1", "team"="A"}], [{"instance"="1.1.1.1", "team"="B"}], ["instance"])`,
			[]m{{"instance": "1.1.1.1", "team": "B"}}},
	})
}

// TestAlloyGroupBy pins Alloy's array.group_by cases. Alloy leaves the
// order of the groups unspecified; shoal gives them in order of first
// appearance.
func TestAlloyGroupBy(t *testing.T) {
	type m = map[string]any
	runDecodeCases(t, experimental, []decodeCase{
		{"basic grouping", `array.group_by([{"type" = "fruit", "name" = "apple"}, {"type" = "fruit", "name" = "banana"}, {"type" = "vegetable", "name" = "carrot"}], "type", false)`,
			[]m{
				{"type": "fruit", "items": []any{m{"type": "fruit", "name": "apple"}, m{"type": "fruit", "name": "banana"}}},
				{"type": "vegetable", "items": []any{m{"type": "vegetable", "name": "carrot"}}},
			}},
		{"drop missing keys", `array.group_by([{"name" = "alice", "age" = "20"}, {"name" = "bob"}, {"name" = "charlie", "age" = "30"}], "age", true)`,
			[]m{
				{"age": "20", "items": []any{m{"name": "alice", "age": "20"}}},
				{"age": "30", "items": []any{m{"name": "charlie", "age": "30"}}},
			}},
		{"keep missing keys", `array.group_by([{"name" = "alice", "age" = "20"}, {"name" = "bob"}, {"name" = "charlie", "age" = "30"}], "age", false)`,
			[]m{
				{"age": "20", "items": []any{m{"name": "alice", "age": "20"}}},
				{"age": "", "items": []any{m{"name": "bob"}}},
				{"age": "30", "items": []any{m{"name": "charlie", "age": "30"}}},
			}},
		{"empty array", `array.group_by([], "age", false)`, []m{}},
		{"all missing", `array.group_by([{"name" = "alice"}, {"name" = "bob"}], "age", false)`,
			[]m{{"age": "", "items": []any{m{"name": "alice"}, m{"name": "bob"}}}}},
		{"dotted key is a top-level key", `array.group_by([{"name" = "alice", "age" = 20, "address" = {"city" = "New York", "state" = "NY"}}], "address.city", false)`,
			[]m{{"address.city": "", "items": []any{m{"name": "alice", "age": int64(20), "address": m{"city": "New York", "state": "NY"}}}}}},
	})
}

// TestAlloyStdlibErrors pins the error cases of Alloy's
// TestVM_Stdlib_Errors and TestStdlibGroupBy_Errors: each message holds
// Alloy's text, and the position is the argument or function at fault.
func TestAlloyStdlibErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`array.combine_maps([{"a" = "a1", "b" = "b1"}], "a", ["a"])`, `1:48: "a" should be array, got string`},
		{`array.combine_maps([{"a" = "a1", "b" = "b1"}], ["a"], ["a"])`, `1:49: "a" should be object, got string`},
		{`array.combine_maps([{"a" = "a1", "b" = "b1"}], [{"a" = "a1", "c" = "b1"}], [])`, `1:76: [] combine_maps: merge conditions must not be empty`},
		{`array.combine_maps([], [], [1])`, `1:29: 1 should be string, got number`},
		{`array.combine_maps([], [])`, `1:1: array.combine_maps combine_maps: expected 3 or 4 arguments, got 2`},
		{`array.combine_maps([], [], ["a"], 1)`, `1:35: 1 should be bool, got number`},
		{`encoding.to_json(12)`, `1:1: encoding.to_json jsonEncode only supports map`},
		{`array.group_by([{"name" = "alice"}], "age")`, `1:1: array.group_by group_by: expected 3 arguments, got 2`},
		{`array.group_by("not an array", "age", false)`, `1:16: "not an array" should be array, got string`},
		{`array.group_by([{"name" = "alice"}], 123, false)`, `1:38: 123 should be string, got number`},
		{`array.group_by([{"name" = "alice"}], "age", "not a bool")`, `1:45: "not a bool" should be bool, got string`},
		{`array.group_by(["not an object"], "age", false)`, `1:17: "not an object" should be object, got string`},
		{`array.group_by([{"name" = "alice", "age" = 20}], "age", false)`, `1:44: 20 should be string, got number`},
		{`encoding.from_base64("!!")`, `1:1: encoding.from_base64 illegal base64 data at input byte 0`},
		{`encoding.from_yaml("a: [")`, `1:1: encoding.from_yaml yaml: line 1: did not find expected node content`},
		{`encoding.from_json("1 2")`, `1:1: encoding.from_json invalid character '2' after top-level value`},
		{`encoding.url_decode("%zz")`, `1:1: encoding.url_decode invalid URL escape "%zz"`},
		{`encoding.to_json({f = string.join})`, `1:1: encoding.to_json json: unsupported type: function`},
		{`json_path("{", ".a")`, `1:1: json_path unexpected EOF`},
		{`json_path("[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", "$..*..*..*..*..*..*")`, `1:1: json_path the JSONPath expression has 6 descendant segments over a document of 20 values, too much work`},
		{`json_path("{}", "$[")`, `1:1: json_path jsonpath: unexpected eof at position 3`},
	}
	for _, tt := range tests {
		_, err := eval(t, tt.expr)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.expr, err, tt.want)
		}
	}
}

// TestAlloyCoalesce pins Alloy's TestStdlibCoalesce.
func TestAlloyCoalesce(t *testing.T) {
	t.Setenv("TEST_VAR2", "Hello!")
	scope := &vm.Scope{Variables: map[string]any{
		"optionalSecretStr": types.OptionalSecret{Value: "bar"},
		"optionalSecretInt": types.OptionalSecret{Value: "123"},
	}}
	runDecodeCases(t, scope, []decodeCase{
		{"no arguments", `coalesce()`, nil},
		{"string", `coalesce("Hello!")`, "Hello!"},
		{"env first", `coalesce(sys.env("TEST_VAR2"), "World!")`, "Hello!"},
		{"env fallback", `coalesce(sys.env("NON_DEFINED"), "World!")`, "World!"},
		{"list, list", `coalesce([], ["fallback"])`, []string{"fallback"}},
		{"list, list with value", `coalesce(array.concat(["item"]), ["fallback"])`, []string{"item"}},
		{"int", `coalesce(0, 1, 2)`, 1},
		{"bool, int", `coalesce(false, 1, 2)`, 1},
		{"bool, bool", `coalesce(false, true)`, true},
		{"empty json list", `coalesce(encoding.from_json("[]"), true)`, true},
		{"empty json object, true", `coalesce(encoding.from_json("{}"), true)`, true},
		{"empty json object, false", `coalesce(encoding.from_json("{}"), false)`, false},
		{"list, null", `coalesce([],null)`, nil},
		{"optional secret first", `coalesce(optionalSecretStr, 1)`, "bar"},
		{"optional secret second", `coalesce("foo", optionalSecretStr)`, "foo"},
		{"optional secret int first", `coalesce(optionalSecretInt, 1)`, 123},
		{"optional secret int second", `coalesce(1, optionalSecretInt)`, 1},
		{"docs: empty string", `coalesce("", "b")`, "b"},
	})
}

// TestAlloyJSONPath pins Alloy's TestStdlibJsonPath and the examples of its
// json_path reference.
func TestAlloyJSONPath(t *testing.T) {
	runDecodeCases(t, nil, []decodeCase{
		{"simple", `json_path("{\"a\": \"b\"}", ".a")`, []string{"b"}},
		{"no result", `json_path("{\"a\": \"b\"}", ".nonexists")`, []string{}},
		{"filter", `json_path("[{\"name\": \"Department\",\"value\": \"IT\"},{\"name\":\"ReferenceNumber\",\"value\":\"123456\"},{\"name\":\"TestStatus\",\"value\":\"Pending\"}]", "[?(@.name == \"Department\")].value")`, []string{"IT"}},
		{"first result", `json_path("{\"a\": \"b\"}", ".a")[0]`, "b"},
		{"rooted path", `json_path("{\"a\": {\"b\": [1, 2]}}", "$.a.b[1]")`, []any{int64(2)}},
		{"bare path", `json_path("{\"a\": {\"b\": 3}}", "a.b")`, []any{int64(3)}},
	})
}

// TestAlloyNonsensitive pins Alloy's TestStdlib_Nonsensitive.
func TestAlloyNonsensitive(t *testing.T) {
	scope := &vm.Scope{Variables: map[string]any{
		"secret":         types.Secret("foo"),
		"optionalSecret": types.OptionalSecret{Value: "bar"},
	}}
	runDecodeCases(t, scope, []decodeCase{
		{"deprecated", `nonsensitive(secret)`, "foo"},
		{"secret", `convert.nonsensitive(secret)`, "foo"},
		{"optional secret", `convert.nonsensitive(optionalSecret)`, "bar"},
	})
}

// TestAlloyStringFunctions pins Alloy's TestStdlib_StringFunc, under the
// old names and the string namespace alike, and the reference's examples.
func TestAlloyStringFunctions(t *testing.T) {
	cases := []decodeCase{
		{"to_lower", `to_lower("String")`, "string"},
		{"to_upper", `to_upper("string")`, "STRING"},
		{"trim_space", `trim_space("   string \n\n")`, "string"},
		{"nested", `to_lower(to_upper(trim_space("   String   ")))`, "string"},
		{"split", `split("/aaa/bbb/ccc/ddd", "/")`, []string{"", "aaa", "bbb", "ccc", "ddd"}},
		{"split+index", `split("/aaa/bbb/ccc/ddd", "/")[0]`, ""},
		{"join+split", `join(split("/aaa/bbb/ccc/ddd", "/"), "/")`, "/aaa/bbb/ccc/ddd"},
		{"join", `join(["foo", "bar", "baz"], ", ")`, "foo, bar, baz"},
		{"join numbers", `join([0, 0, 1], ", ")`, "0, 0, 1"},
		{"format", `format("Hello %s", "World")`, "Hello World"},
		{"format %#v int", `format("%#v", 1)`, "1"},
		{"format %#v bool", `format("%#v", true)`, "true"},
		{"format %q", `format("%q", "hello")`, `"hello"`},
		{"replace", `replace("Hello World", " World", "!")`, "Hello!"},
		{"trim", `trim("?!hello?!", "!?")`, "hello"},
		{"trim2", `trim("   hello! world.!  ", "! ")`, "hello! world."},
		{"trim_prefix", `trim_prefix("helloworld", "hello")`, "world"},
		{"trim_suffix", `trim_suffix("helloworld", "world")`, "hello"},
	}
	var all []decodeCase
	for _, c := range cases {
		all = append(all, c)
		ns := c
		ns.name = "string." + c.name
		for _, f := range []string{"to_lower", "to_upper", "trim_space", "split", "join", "format", "replace", "trim_prefix", "trim_suffix", "trim"} {
			ns.expr = strings.ReplaceAll(ns.expr, f+"(", "string."+f+"(")
		}
		// Undo the double prefix "string.trim_" gets from "trim(".
		ns.expr = strings.ReplaceAll(ns.expr, "string.string.", "string.")
		all = append(all, ns)
	}
	all = append(all,
		decodeCase{"docs format %d", `string.format("There are %d lights", 4)`, "There are 4 lights"},
		decodeCase{"integer division formats with %d", `string.format("%d", 7/2)`, "3"},
		decodeCase{"docs trim", `string.trim("foobar", "far")`, "oob"},
		decodeCase{"docs split empty", `string.split("", ",")`, []string{""}},
		decodeCase{"docs replace", `string.replace("1 + 2 + 3", "+", "-")`, "1 - 2 - 3"},
	)
	runDecodeCases(t, nil, all)
}

// TestAlloyFileFunctions pins Alloy's TestStdlibFileFunc.
func TestAlloyFileFunctions(t *testing.T) {
	runDecodeCases(t, nil, []decodeCase{
		{"path_join", `file.path_join("this/is", "a/path")`, filepath.Join("this", "is", "a", "path")},
		{"path_join empty", `file.path_join()`, ""},
	})
}

func TestConstants(t *testing.T) {
	old := stdlib.Version
	defer func() { stdlib.Version = old }()
	for _, c := range []struct{ set, want string }{{"", "v0.0.0"}, {"1.2.3", "v1.2.3"}, {"v1.4.0", "v1.4.0"}, {"dev-abc", "dev-abc"}} {
		stdlib.Version = c.set
		var got string
		if err := evalIn(t, nil, `constants.version`, &got); err != nil || got != c.want {
			t.Errorf("version %q: got %q, %v; want %q", c.set, got, err, c.want)
		}
	}
}

func TestStringGrowthIsBounded(t *testing.T) {
	// Each replace multiplies the length by 17; unbounded, six levels
	// would build gigabytes.
	expr := `"0123456789abcdef"`
	for range 6 {
		expr = `string.replace(` + expr + `, "", "0123456789abcdef")`
	}
	_, err := eval(t, expr)
	if err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Fatalf("got %v, want the size limit", err)
	}
	_, err = eval(t, `string.join(string.split("`+strings.Repeat("x", 1<<12)+`", ""), "`+strings.Repeat("y", 1<<13)+`")`)
	if err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Fatalf("join: got %v, want the size limit", err)
	}
}

// TestEveryName checks the list of names against Alloy's at the pinned
// commit: every function and constant of its stdlib.go, with its
// stability, and nothing else.
func TestEveryName(t *testing.T) {
	want := map[string]stability.Level{
		"array.concat": stability.GenerallyAvailable, "array.combine_maps": stability.Experimental, "array.group_by": stability.Experimental,
		"constants.hostname": stability.GenerallyAvailable, "constants.os": stability.GenerallyAvailable, "constants.arch": stability.GenerallyAvailable, "constants.version": stability.GenerallyAvailable,
		"convert.nonsensitive": stability.GenerallyAvailable,
		"encoding.from_json":   stability.GenerallyAvailable, "encoding.from_yaml": stability.GenerallyAvailable, "encoding.from_base64": stability.GenerallyAvailable,
		"encoding.from_URLbase64": stability.GenerallyAvailable, "encoding.to_json": stability.GenerallyAvailable, "encoding.to_base64": stability.GenerallyAvailable,
		"encoding.to_URLbase64": stability.GenerallyAvailable, "encoding.url_encode": stability.GenerallyAvailable, "encoding.url_decode": stability.GenerallyAvailable,
		"file.path_join": stability.GenerallyAvailable,
		"string.format":  stability.GenerallyAvailable, "string.join": stability.GenerallyAvailable, "string.replace": stability.GenerallyAvailable,
		"string.split": stability.GenerallyAvailable, "string.to_lower": stability.GenerallyAvailable, "string.to_upper": stability.GenerallyAvailable,
		"string.trim": stability.GenerallyAvailable, "string.trim_prefix": stability.GenerallyAvailable, "string.trim_suffix": stability.GenerallyAvailable,
		"string.trim_space": stability.GenerallyAvailable,
		"sys.env":           stability.GenerallyAvailable,
		"coalesce":          stability.GenerallyAvailable, "json_path": stability.GenerallyAvailable,
	}
	deprecated := []string{"base64_decode", "concat", "env", "format", "join", "json_decode", "nonsensitive", "replace", "split",
		"to_lower", "to_upper", "trim", "trim_prefix", "trim_space", "trim_suffix", "yaml_decode"}
	for _, d := range deprecated {
		want[d] = stability.GenerallyAvailable
	}
	got := map[string]stability.Level{}
	for _, info := range stdlib.All() {
		got[info.Name] = info.Level
		if _, dep := stdlib.Deprecated(info.Name); dep != info.Deprecated {
			t.Errorf("%s: Deprecated mismatch", info.Name)
		}
		if l := stdlib.Level(info.Name); l != info.Level {
			t.Errorf("Level(%s) = %v, All says %v", info.Name, l, info.Level)
		}
		// Every name evaluates under the most permissive level.
		if _, err := eval(t, info.Name); err != nil {
			t.Errorf("%s: %v", info.Name, err)
		}
	}
	if !reflect.DeepEqual(got, want) {
		var extra, missing []string
		for n := range got {
			if _, ok := want[n]; !ok {
				extra = append(extra, n)
			}
		}
		for n := range want {
			if _, ok := got[n]; !ok {
				missing = append(missing, n)
			}
		}
		sort.Strings(extra)
		sort.Strings(missing)
		t.Fatalf("names differ: extra %v, missing %v (or a level differs)", extra, missing)
	}
	for _, n := range stdlib.Names() {
		if !stdlib.IsName(n) {
			t.Errorf("IsName(%q) = false", n)
		}
	}
	for _, n := range []string{"discovery", "prometheus", "local", "", "array.nope"} {
		if stdlib.IsName(n) || stdlib.Level(n) != stability.Undefined {
			t.Errorf("%q is taken for a library name", n)
		}
	}
	if r, ok := stdlib.Deprecated("json_decode"); !ok || r != "encoding.from_json" {
		t.Errorf("Deprecated(json_decode) = %q, %v", r, ok)
	}
}

// TestDocsListEveryName checks docs/stdlib.md against the code: every
// function and constant with its stability, every old name with the name
// that replaces it, and nothing more.
func TestDocsListEveryName(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "stdlib.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // name -> stability cell
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		name, _, _ = strings.Cut(name, "(")
		rows[name] = strings.TrimSpace(cells[2])
	}
	text := strings.Join(strings.Fields(string(doc)), " ")
	n := 0
	for _, info := range stdlib.All() {
		if info.Deprecated {
			r, _ := stdlib.Deprecated(info.Name)
			if !strings.Contains(text, "`"+info.Name+"` (`"+r+"`)") {
				t.Errorf("docs/stdlib.md does not list the old name %s as %s", info.Name, r)
			}
			continue
		}
		n++
		if got, ok := rows[info.Name]; !ok || got != info.Level.String() {
			t.Errorf("docs/stdlib.md: %s has stability %q, want %q", info.Name, got, info.Level)
		}
	}
	if len(rows) != n {
		t.Errorf("docs/stdlib.md has %d rows, the library %d names", len(rows), n)
	}
}
