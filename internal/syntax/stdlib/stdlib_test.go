package stdlib_test

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/stdlib"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

func eval(t *testing.T, src string) (value.Value, error) {
	t.Helper()
	e, err := parser.ParseExpression(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	var v value.Value
	err = vm.EvaluateExpr(nil, e, &v)
	return v, err
}

func TestFunctions(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`array.combine_maps([{a = "1", x = "l"}, {a = "2"}], [{a = "1", y = "r"}, {a = "3"}], ["a"])`, `[{"a" = "1", "x" = "l", "y" = "r"}]`},
		{`encoding.to_base64("hello")`, `"aGVsbG8="`},
		{`encoding.from_URLbase64("aGk_")`, `"hi?"`},
		{`encoding.from_json("18446744073709551615")`, `18446744073709551615`},
		{`encoding.from_yaml("- 1\n- x: true\n")`, `[1, {"x" = true}]`},
		{`coalesce()`, `null`},
		{`coalesce([], {}, 0)`, `0`},
		{`string.split("", ",")`, `[""]`},
		{`trim_space(" a ")`, `"a"`},
		{`replace("aaa", "a", "b")`, `"bbb"`},
		{`nonsensitive("plain")`, `"plain"`},
		{`encoding.to_json([1.5, "a", {b = null}])`, `"[1.5,\"a\",{\"b\":null}]"`},
	}
	for _, tt := range tests {
		v, err := eval(t, tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if v.String() != tt.want {
			t.Errorf("%s = %s, want %s", tt.expr, v, tt.want)
		}
	}
}

func TestFunctionErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`encoding.from_base64("!!")`, `1:1: from_base64: illegal base64 data at input byte 0`},
		{`encoding.from_yaml("a: [")`, `1:1: from_yaml: yaml: line 1: did not find expected node content`},
		{`encoding.from_json("1 2")`, `1:1: from_json: more than one JSON value`},
		{`encoding.to_json(string.join)`, `1:1: to_json: cannot encode a function`},
		{`array.combine_maps([], [], [])`, `1:1: combine_maps: keys must not be empty`},
	}
	for _, tt := range tests {
		_, err := eval(t, tt.expr)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.expr, err, tt.want)
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

func TestNames(t *testing.T) {
	ids := stdlib.Identifiers()
	for _, n := range stdlib.Names() {
		if !stdlib.IsName(n) {
			t.Errorf("IsName(%q) = false", n)
		}
		if _, ok := ids[n]; !ok {
			t.Errorf("Identifiers lacks %q", n)
		}
	}
	for _, n := range []string{"discovery", "prometheus", "local", ""} {
		if stdlib.IsName(n) {
			t.Errorf("IsName(%q) = true", n)
		}
	}
	// Every name the design promises.
	for _, expr := range []string{"sys.env", "string.format", "string.join", "array.concat", "coalesce", "encoding.from_json", "constants.hostname", "env", "concat", "format", "json_decode"} {
		if _, err := eval(t, expr); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
}
