package vm_test

import (
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

func evalExpr(t testing.TB, scope *vm.Scope, src string) (value.Value, error) {
	t.Helper()
	e, err := parser.ParseExpression(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	var v value.Value
	err = vm.EvaluateExpr(scope, e, &v)
	return v, err
}

func TestExpressions(t *testing.T) {
	t.Setenv("SHOAL_TEST_ENV", "from-env")
	host, _ := os.Hostname()
	tests := []struct {
		expr string
		want string // the value in the language's syntax
	}{
		// Arithmetic with Alloy's precedence.
		{`1 + 2 * 3`, `7`},
		{`(1 + 2) * 3`, `9`},
		{`2 ^ 3 ^ 2`, `512`},
		{`-2 ^ 2`, `4`},
		{`7 / 2`, `3`},
		{`7 / 2.0`, `3.5`},
		{`8 / 2`, `4`},
		{`7 % 3`, `1`},
		{`7.5 % 2`, `1.5`},
		{`1.5 + 1`, `2.5`},
		{`9223372036854775807 + 1`, `-9223372036854775808`},
		{`-9223372036854775808`, `-9223372036854775808`},
		{`2 ^ 100`, `0`},
		{`2 ^ -1`, `2`},
		{`2.0 ^ -1`, `0.5`},
		// Strings.
		{`"a" + "b"`, `"ab"`},
		{"`raw \\n`", `"raw \\n"`},
		{`"tab\there"`, `"tab\there"`},
		// Comparison and logic.
		{`1 < 2 && "a" < "b"`, `true`},
		{`1 == 1.0`, `true`},
		{`"1" == 1`, `false`},
		{`[1, {a = 2}] == [1, {a = 2}]`, `true`},
		{`null == null`, `true`},
		{`!(1 >= 2) || false`, `true`},
		// Collections, indexing and access.
		{`[1, 2, 3][1]`, `2`},
		{`{a = {b = [10, 20]}}.a.b[1]`, `20`},
		{`{"k-1" = 1}["k-1"]`, `1`},
		{`{a = 1}["missing"]`, `null`},
		{`[1, 2,]`, `[1, 2]`},
		{`{}`, `{}`},
		// Standard library.
		{`sys.env("SHOAL_TEST_ENV")`, `"from-env"`},
		{`env("SHOAL_TEST_ENV")`, `"from-env"`},
		{`string.format("%s:%d", "host", 9100)`, `"host:9100"`},
		{`format("%v/%q", true, "x")`, `"true/\"x\""`},
		{`string.format("%.1f", 2.25)`, `"2.2"`},
		{`string.join(["a", "b"], ",")`, `"a,b"`},
		{`join(["a", "b"], "-")`, `"a-b"`},
		{`string.split("a,b,c", ",")`, `["a", "b", "c"]`},
		{`string.replace("a-b-c", "-", "+")`, `"a+b+c"`},
		{`string.to_lower("AbC")`, `"abc"`},
		{`to_upper("abc")`, `"ABC"`},
		{`string.trim("xxhixx", "x")`, `"hi"`},
		{`string.trim_prefix("prefix_name", "prefix_")`, `"name"`},
		{`string.trim_suffix("name.alloy", ".alloy")`, `"name"`},
		{`string.trim_space("  x  ")`, `"x"`},
		{`array.concat([1], [], [2, 3])`, `[1, 2, 3]`},
		{`concat(["a"], ["b"])`, `["a", "b"]`},
		{`coalesce("", null, [], "x", "y")`, `"x"`},
		{`coalesce(0, false)`, `false`},
		{`encoding.from_json("{\"a\": [1, 2.5, null], \"b\": \"x\"}")`, `{"a" = [1, 2.5, null], "b" = "x"}`},
		{`json_decode("[true]")`, `[true]`},
		{`encoding.from_yaml("a: 1\nb: [x, y]\n")`, `{"a" = 1, "b" = ["x", "y"]}`},
		{`encoding.from_base64("aGVsbG8=")`, `"hello"`},
		{`encoding.to_json({b = [1, "x"], a = null})`, `"{\"a\":null,\"b\":[1,\"x\"]}"`},
		{`convert.nonsensitive(local.file.token.content)`, `"s3cr3t-token"`},
		{`constants.os`, `"` + runtime.GOOS + `"`},
		{`constants.arch`, `"` + runtime.GOARCH + `"`},
		{`constants.hostname`, `"` + host + `"`},
		// References to exports.
		{`discovery.file.nodes.targets[1]["__address__"]`, `"10.0.0.2:9100"`},
		{`string.format("%s", local.file.token.content)`, `"(secret)"`},
		{`encoding.to_json({t = local.file.token.content})`, `"{\"t\":\"(secret)\"}"`},
	}
	scope := testScope(nil)
	for _, tt := range tests {
		v, err := evalExpr(t, scope, tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := v.String(); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
		}
	}
}

func TestExpressionErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string
	}{
		{`1 + "a"`, `1:5: "a" should be number, got string`},
		{`"a" + 1`, `1:7: 1 should be string, got number`},
		{`true + 1`, `1:1: true should be one of [number string capsule] for binop +, got bool`},
		{`1 / 0`, `1:5: 0 divide by zero error`},
		{`5 % 0`, `1:5: 0 divide by zero error`},
		{`1.0 / 0.0`, `1:7: 0.0 divide by zero error`},
		{`!1`, `1:2: 1 should be bool, got number`},
		{`-"a"`, `1:2: "a" should be number, got string`},
		{`1 && true`, `1:1: 1 should be one of [bool] for binop &&, got number`},
		{`true && 1`, `1:9: 1 should be one of [bool] for binop &&, got number`},
		{`true || x`, `1:9: identifier "x" does not exist`}, // no short-circuit
		{`false && x`, `1:10: identifier "x" does not exist`},
		{`[1, 2][2]`, `1:8: 2 index 2 is out of range of array with length 2`},
		{`[1, 2][-1]`, `1:8: -1 index -1 is out of range of array with length 2`},
		{`[1, 2]["a"]`, `1:8: "a" should be number, got string`},
		{`{a = 1}[0]`, `1:9: 0 should be string, got number`},
		{`"abc"[0]`, `1:1: "abc" expected object or array, got string`},
		{`1.a`, `1:1: 1 cannot access field "a" on value of type number`},
		{`{a = 1}.b`, `1:9: field "b" does not exist`},
		{`nope`, `1:1: identifier "nope" does not exist`},
		{`"x"(1)`, `1:1: "x" should be function, got string`},
		{`string.join("a", ",")`, `1:13: "a" should be array, got string`},
		{`string.join(["a", 1, true], ",")`, `1:22: true should be string, got bool`},
		{`string.to_lower()`, `1:1: string.to_lower expected 1 args, got 0`},
		{`string.format()`, `1:1: string.format expected at least 1 args, got 0`},
		{`array.concat([1], 2)`, `1:19: 2 should be array, got number`},
		{`encoding.from_json("{")`, `1:1: encoding.from_json unexpected end of JSON input`},
		{`convert.nonsensitive(1)`, `1:22: 1 should be capsule, got number`},
		{`1 < "a"`, `1:5: "a" should be number, got string`},
		{`null < 1`, `1:1: null should be one of [number string] for binop <, got null`},
	}
	for _, tt := range tests {
		_, err := evalExpr(t, testScope(nil), tt.expr)
		ds := diag.From(err)
		if len(ds) != 1 {
			t.Errorf("%s: want one diagnostic, got %v", tt.expr, err)
			continue
		}
		if got := ds[0].Error(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func TestEvaluateExprDecodesIntoGoTypes(t *testing.T) {
	e, err := parser.ParseExpression(`{ password = "pw", limit = "1GB", every = "1d" }`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Password types.Secret `alloy:"password,attr"`
		Limit    types.Size   `alloy:"limit,attr"`
		Every    string       `alloy:"every,attr"`
	}
	if err := vm.EvaluateExpr(nil, e, &got); err != nil {
		t.Fatal(err)
	}
	if got.Password != "pw" || got.Limit != types.GiB || got.Every != "1d" {
		t.Fatalf("got %+v", got)
	}
}

func TestScopeChain(t *testing.T) {
	parent := &vm.Scope{Variables: map[string]any{"a": 1, "b": 2}}
	child := &vm.Scope{Parent: parent, Variables: map[string]any{"a": 10}}
	v, err := evalExpr(t, child, `a + b`)
	if err != nil || v.String() != "12" {
		t.Fatalf("a + b = %v, %v; want 12", v, err)
	}
	// A user variable shadows the standard library.
	shadow := &vm.Scope{Variables: map[string]any{"env": "mine"}}
	v, err = evalExpr(t, shadow, `env`)
	if err != nil || v.String() != `"mine"` {
		t.Fatalf("env = %v, %v", v, err)
	}
}

func TestTraversals(t *testing.T) {
	src := `prometheus.scrape "x" {
	targets    = array.concat(discovery.file.nodes.targets, discovery.relabel.x.output[0].labels)
	forward_to = [prometheus.remote_write.default.receiver, local_var]
	job_name   = string.format("%s", sys.env("JOB"), coalesce(local.file.job.content, "x"))
	params     = { key = [constants.hostname, f(arg.value)] }

	basic_auth {
		password = local.file.token.content
	}
}`
	b := parseBlock(t, src)
	var got []string
	for _, tr := range vm.Traversals(b) {
		got = append(got, tr.String()+"@"+tr[0].NamePos.String())
	}
	want := []string{
		"discovery.file.nodes.targets@test.alloy:2:28",
		"discovery.relabel.x.output@test.alloy:2:58",
		"prometheus.remote_write.default.receiver@test.alloy:3:16",
		"local_var@test.alloy:3:58",
		"local.file.job.content@test.alloy:4:60",
		"f@test.alloy:5:44",
		"arg.value@test.alloy:5:46",
		"local.file.token.content@test.alloy:8:14",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Each step has its own position, so a dangling reference can be
	// reported at the name that does not exist.
	tr := vm.Traversals(b)[0]
	if p := tr[2].NamePos.Position(); p.Line != 2 || p.Column != 43 {
		t.Fatalf("position of %q = %v", tr[2].Name, p)
	}
	if n := vm.Traversals(ast.Body(nil)); len(n) != 0 {
		t.Fatalf("empty body has traversals %v", n)
	}
}

func TestLongFunctionResultsAreRejected(t *testing.T) {
	scope := &vm.Scope{Variables: map[string]any{
		"big": func() string { return strings.Repeat("x", stdlib.MaxStringLen+1) },
	}}
	_, err := evalExpr(t, scope, `big()`)
	if err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Fatalf("got %v", err)
	}
}
