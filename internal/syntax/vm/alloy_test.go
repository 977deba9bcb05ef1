package vm_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// The tests in this file pin the cases of Alloy's own evaluator tests at
// the commit shoal follows (syntax/vm/vm_test.go, op_binary_test.go,
// vm_errors_test.go, vm_block_test.go), in shoal's words.

// decodeExpr evaluates src in scope and decodes the result into a new
// value of want's type (any when want is nil).
func decodeExpr(t *testing.T, scope *vm.Scope, src string, want any) (any, error) {
	t.Helper()
	e, err := parser.ParseExpression(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	typ := reflect.TypeOf(want)
	if typ == nil {
		typ = reflect.TypeFor[any]()
	}
	p := reflect.New(typ)
	err = vm.EvaluateExpr(scope, e, p.Interface())
	return p.Elem().Interface(), err
}

type exprCase struct {
	src  string
	want any
}

func checkExprCases(t *testing.T, scope *vm.Scope, cases []exprCase) {
	t.Helper()
	for _, c := range cases {
		got, err := decodeExpr(t, scope, c.src, c.want)
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.src, got, c.want)
		}
	}
}

// TestAlloyLiterals pins TestVM_Evaluate_Literals: a literal decodes into
// every Go number kind and into strings, and a numeric string into numbers.
func TestAlloyLiterals(t *testing.T) {
	checkExprCases(t, nil, []exprCase{
		{`12`, int(12)}, {`13`, int8(13)}, {`14`, int16(14)}, {`15`, int32(15)}, {`16`, int64(16)},
		{`17`, uint(17)}, {`18`, uint8(18)}, {`19`, uint16(19)}, {`20`, uint32(20)}, {`21`, uint64(21)},
		{`22`, float32(22)}, {`23`, float64(23)}, {`24`, "24"},
		{`3.2`, float32(3.2)}, {`3.5`, float64(3.5)}, {`3.9`, "3.9"},
		{`.2`, float32(0.2)}, {`.5`, float64(0.5)}, {`.9`, "0.9"},
		{`"Hello, world!"`, "Hello, world!"}, {`"12"`, int(12)}, {`"12"`, float64(12)},
	})
}

// TestAlloySecrets pins TestVM_Evaluate_Secrets.
func TestAlloySecrets(t *testing.T) {
	scope := &vm.Scope{Variables: map[string]any{
		"secretSecret":           types.Secret("foo"),
		"optionalSecretStr":      types.OptionalSecret{Value: "bar"},
		"optionalSecretInt":      types.OptionalSecret{Value: "123"},
		"optionalSecretNegative": types.OptionalSecret{Value: "-123"},
		"optionalSecretFloat":    types.OptionalSecret{Value: "23.5"},
	}}
	checkExprCases(t, scope, []exprCase{
		{`optionalSecretStr`, "bar"},
		{`optionalSecretInt`, int(123)},
		{`optionalSecretNegative`, int(-123)},
		{`optionalSecretFloat`, float64(23.5)},
	})
	_, err := decodeExpr(t, scope, `secretSecret`, "")
	if err == nil || err.Error() != "1:1: secretSecret secrets may not be converted into strings" {
		t.Fatalf("secret into string: %v", err)
	}
}

// TestAlloyEvaluate pins TestVM_Evaluate, TestVM_Evaluate_Null and the
// lookups of TestVM_Evaluate_IdentifierExpr and _AccessExpr.
func TestAlloyEvaluate(t *testing.T) {
	type person struct {
		Name    string `alloy:"name,attr"`
		Age     int    `alloy:"age,attr"`
		Country string `alloy:"country,attr,optional"`
	}
	type optional struct {
		Name string `alloy:"name,attr,optional"`
	}
	scope := &vm.Scope{Variables: map[string]any{"foobar": int(42), "person": optional{}}}
	checkExprCases(t, scope, []exprCase{
		{`true || false`, true}, {`false || false`, false}, {`true && false`, false}, {`true && true`, true},
		{`3 == 5`, false}, {`3 == 3`, true}, {`3 != 5`, true},
		{`3 < 5`, true}, {`3 <= 5`, true}, {`3 > 5`, false}, {`3 >= 5`, false},
		{`3 + 5`, int(8)}, {`3 - 5`, int(-2)}, {`3 * 5`, int(15)}, {`3.0 / 5.0`, float64(0.6)},
		{`5 % 3`, int(2)}, {`3 ^ 5`, int(243)}, {`3 ^ 0`, int(1)}, {`3 ^ 1`, int(3)}, {`0 ^ 1`, int(0)},
		{`3 + 5 * 2`, int(13)}, {`42.0^-2`, float64(0.0005668934240362812)},
		{`foobar`, int(42)},
		{`[]`, []int{}}, {`[0, 1, 2]`, []int{0, 1, 2}}, {`[true, false]`, []bool{true, false}},
		{`{ a = 5, b = 10 }`, map[string]int{"a": 5, "b": 10}},
		{"{\n\tname = \"John Doe\",\n\tage = 42,\n}", person{Name: "John Doe", Age: 42}},
		{`{ a = 15 }.a`, int(15)}, {`{ a = { b = 12 } }.a.b`, int(12)}, {`{}["foo"]`, nil},
		{`[0, 1, 2][1]`, int(1)}, {`[[1,2,3]][0][2]`, int(3)}, {`[true, false][0]`, true},
		{`(15)`, int(15)},
		{`!true`, false}, {`!false`, true}, {`-15`, int(-15)},
		{`null`, nil},
		{`person.name`, ""},
	})
	for src, want := range map[string]string{
		`nope`:         `1:1: identifier "nope" does not exist`,
		`{ a = 15 }.b`: `1:12: field "b" does not exist`,
	} {
		if _, err := decodeExpr(t, nil, src, nil); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", src, err, want)
		}
	}
}

// TestAlloySemantics pins what Alloy's evaluator does beyond its own test
// cases, read from its source: operand kinds, wrap-around, comparison and
// equality across types, indexing.
func TestAlloySemantics(t *testing.T) {
	scope := &vm.Scope{Variables: map[string]any{
		"u8":     uint8(200),
		"u64":    uint64(math.MaxUint64),
		"f32":    float32(1.5),
		"i":      int(7),
		"secret": types.Secret("x"),
		"empty": struct {
			A string `alloy:"a,attr,optional"`
		}{},
		"objA": map[string]any{"x": 1, "y": []any{1, "a"}, "z": []any{1, true}},
	}}
	checkExprCases(t, scope, []exprCase{
		// Integer division truncates; a float on either side makes it float.
		{`7 / 2`, int64(3)}, {`-7 / 2`, int64(-3)}, {`7 / 2.0`, 3.5}, {`7.0 / 2`, 3.5},
		{`7 % -3`, int64(1)}, {`-7 % 3`, int64(-1)}, {`7.5 % 2`, 1.5},
		// uint < int < float: the wider kind wins.
		{`u8 + 100`, int64(300)}, {`u8 + u8`, uint64(400)}, {`u8 / 3`, int64(66)}, {`f32 * 2`, float64(3)},
		{`18446744073709551615 + 0`, int64(-1)}, {`u64 + 1`, uint64(0)},
		{`9223372036854775807 + 1`, int64(math.MinInt64)},
		{`-9223372036854775808 - 1`, int64(math.MaxInt64)},
		{`-18446744073709551615`, int64(1)},
		{`2 ^ 63`, int64(math.MinInt64)}, {`2 ^ 64`, int64(0)}, {`3 ^ 40`, int64(-6289078614652622815)},
		{`2 ^ -1`, int64(2)}, {`1 ^ -5`, int64(1)}, {`0 ^ -1`, int64(0)}, {`2.0 ^ -1`, 0.5},
		{`2 ^ 3 ^ 2`, int64(512)},
		// Literals are read as Go reads integers: a leading 0 is octal.
		{`010`, int64(8)}, {`09`, float64(9)},
		// Comparison: numbers in the wider kind, strings bytewise.
		{`1 < 1.5`, true}, {`u64 > 1`, false}, {`"a" < "b"`, true}, {`"B" < "a"`, true}, {`"" >= ""`, true},
		// Equality never fails across types.
		{`1 == "1"`, false}, {`null == null`, true}, {`null == 0`, false}, {`3 == 3.0`, true},
		{`u64 == -1`, true},
		{`[1, [2]] == [1, [2]]`, true}, {`[1] == [1, 2]`, false},
		{`{a = 1, b = [true]} == {b = [true], a = 1.0}`, true}, {`{a = 1} == {b = 1}`, false},
		{`objA == {x = 1, y = [1, "a"], z = [1, true]}`, true},
		{`string.format == string.format`, false},
		// && and || evaluate both sides.
		{`true || false && false`, true},
		// A key given twice takes its last value.
		{`{a = 1, a = 2}.a`, int64(2)},
		// Indexing truncates a fractional index; a missing key is null.
		{`[10, 20, 30][1.9]`, int64(20)}, {`[10, 20][-0.5]`, int64(10)}, {`{a = 1}["b"]`, nil},
		// coalesce skips what Alloy's reflect.Value.IsZero calls zero.
		{`coalesce(empty, -0.0, 1)`, int64(1)}, {`coalesce(0.0, "", false, 2)`, int64(2)},
		// A number becomes a string as Alloy writes it: no exponent.
		{`1e21`, "1000000000000000000000"}, {`0.000001`, "0.000001"}, {`string.join([1.5e3, 2], ",")`, "1500,2"},
		{`string.format("%d", 7/2)`, "3"}, {`string.format("%d", i / 2)`, "3"},
	})
	errs := map[string]string{
		`true || 1`:               `1:9: 1 should be one of [bool] for binop ||, got number`,
		`false && "x"`:            `1:10: "x" should be one of [bool] for binop &&, got string`,
		`true || nope`:            `1:9: identifier "nope" does not exist`,
		`1 + 1.0 + "a"`:           `1:11: "a" should be number, got string`,
		`[1] + [2]`:               `1:1: [1] should be one of [number string capsule] for binop +, got array`,
		`{} < {}`:                 `1:1: {} should be one of [number string] for binop <, got object`,
		`"a" < 1`:                 `1:7: 1 should be string, got number`,
		`1.5 % 0.0`:               `1:7: 0.0 divide by zero error`,
		`u8 / 0`:                  `1:6: 0 divide by zero error`,
		`[1][u64]`:                `1:5: u64 index -1 is out of range of array with length 1`,
		`[1][true]`:               `1:5: true should be number, got bool`,
		`null[0]`:                 `1:1: null expected object or array, got null`,
		`secret.a`:                `1:1: secret expected object or array or a capsule convertible to an object, got capsule`,
		`secret[0]`:               `1:1: secret expected object or array or a capsule convertible to an object, got capsule`,
		`null.a`:                  `1:1: null cannot access field "a" on value of type null`,
		`-true`:                   `1:2: true should be number, got bool`,
		`!"x"`:                    `1:2: "x" should be bool, got string`,
		`string.format(true)`:     `1:15: true should be string, got bool`,
		`objA.y[1] + 1`:           `1:13: 1 should be string, got number`,
		`string.join(objA.z, "")`: `1:13: objA.z[1] should be string, got bool`,
	}
	for src, want := range errs {
		if _, err := decodeExpr(t, scope, src, nil); err == nil || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", src, err, want)
		}
	}
}

// TestAlloyCapsuleConversion pins TestVM_Capsule_Conversion: strings and
// secrets under + and ==.
func TestAlloyCapsuleConversion(t *testing.T) {
	scope := &vm.Scope{Variables: map[string]any{
		"string_val":      "hello",
		"non_secret_val":  types.OptionalSecret{Value: "world"},
		"secret_val":      types.OptionalSecret{IsSecret: true, Value: "secret"},
		"secret_type_val": types.Secret("welcome"),
	}}
	checkExprCases(t, scope, []exprCase{
		{`string_val + non_secret_val`, "helloworld"},
		{`non_secret_val + string_val`, "worldhello"},
		{`"world" == non_secret_val`, true},
		{`non_secret_val == "world"`, true},
		{`secret_val == secret_val`, true},
		{`non_secret_val == non_secret_val`, true},
		{`non_secret_val == secret_val`, false},
		{`secret_val + string_val`, types.OptionalSecret{Value: "secrethello", IsSecret: true}},
		{`non_secret_val + string_val`, "worldhello"},
		{`non_secret_val + non_secret_val`, types.Secret("worldworld")},
		{`secret_val + non_secret_val`, types.Secret("secretworld")},
		{`non_secret_val + secret_val`, types.Secret("worldsecret")},
		{`non_secret_val + secret_type_val`, types.Secret("worldwelcome")},
		{`secret_type_val + string_val`, types.Secret("welcomehello")},
		{`secret_type_val + non_secret_val`, types.Secret("welcomeworld")},
		{`secret_type_val + secret_val`, types.Secret("welcomesecret")},
		{`secret_type_val + secret_type_val`, types.Secret("welcomewelcome")},
		{`string_val + secret_val`, types.OptionalSecret{Value: "hellosecret", IsSecret: true}},
		{`string_val + non_secret_val`, "helloworld"},
		{`string_val + string_val`, "hellohello"},
		{`string_val + secret_type_val`, types.Secret("hellowelcome")},
		{`"welcome" == secret_type_val`, true},
	})
	for src, want := range map[string]string{
		`secret_val - string_val`: `1:1: secret_val should be one of [number] for binop -, got capsule`,
		`string_val - secret_val`: `1:1: string_val should be one of [number] for binop -, got capsule`,
	} {
		if _, err := decodeExpr(t, scope, src, nil); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", src, err, want)
		}
	}
	// A secret sum stays secret: it cannot be read as a string.
	if _, err := decodeExpr(t, scope, `string_val + secret_type_val`, ""); err == nil {
		t.Fatal("a string plus a secret decoded into a string")
	}
}

// TestAlloyExprErrors pins TestVM_ExprErrors: the message quotes the
// expression at fault, or the reference and the path into its value.
func TestAlloyExprErrors(t *testing.T) {
	type target struct {
		Key struct {
			Object struct {
				Field1 []int `alloy:"field1,attr"`
			} `alloy:"object,attr"`
		} `alloy:"key,attr"`
	}
	tests := []struct {
		name, src string
		into      any
		scope     *vm.Scope
		want      string
	}{
		{"basic wrong type", `key = true`, &target{}, nil, "test:1:7: true should be object, got bool"},
		{"deeply nested literal", "\n\t\t\t\tkey = {\n\t\t\t\t\tobject = {\n\t\t\t\t\t\tfield1 = [15, 30, \"Hello, world!\"],\n\t\t\t\t\t},\n\t\t\t\t}\n\t\t\t", &target{}, nil,
			`test:4:25: "Hello, world!" should be number, got string`},
		{"deeply nested indirect", `key = key_value`, &target{}, &vm.Scope{Variables: map[string]any{
			"key_value": map[string]any{"object": map[string]any{"field1": []any{15, 30, "Hello, world!"}}},
		}}, `test:1:7: key_value.object.field1[2] should be number, got string`},
		{"complex expr", `key = [0, 1, 2]`, &struct {
			Key string `alloy:"key,attr"`
		}{}, nil, `test:1:7: [0, 1, 2] should be string, got array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parser.ParseFile("test", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			err = vm.New(f).Evaluate(tt.scope, tt.into)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
		})
	}
}

// TestAlloyBlockMaps pins TestVM_Block_UnmarshalToMap and
// TestVM_Block_UnmarshalToAny, and the "interface" cases of
// TestVM_Block_Attributes.
func TestAlloyBlockMaps(t *testing.T) {
	type toMap struct {
		Settings map[string]any `alloy:"some.settings,block"`
	}
	type toAny struct {
		Settings any `alloy:"some.settings,block"`
	}
	src := "some.settings {\n\tfield_a = 12345\n\tfield_b = \"helloworld\"\n}\n"
	want := map[string]any{"field_a": int64(12345), "field_b": "helloworld"}
	for _, into := range []any{&toMap{}, &toAny{}} {
		f, err := parser.ParseFile("t.alloy", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.New(f).Evaluate(nil, into); err != nil {
			t.Fatal(err)
		}
		var got any
		switch v := into.(type) {
		case *toMap:
			got = v.Settings
		case *toAny:
			got = v.Settings
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%T: got %#v", into, got)
		}
	}
	for src, want := range map[string]string{
		"some.settings \"foo\" {\n\tfield_a = 12345\n}\n":               `t.alloy:1:1: block "some.settings" requires empty label`,
		"some.settings {\n\tinner_map {\n\t\tfield_a = 12345\n\t}\n}\n": `t.alloy:2:2: nested blocks not supported here`,
	} {
		f, err := parser.ParseFile("t.alloy", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		err = vm.New(f).Evaluate(nil, &toMap{})
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	}

	// Numbers keep the kind Alloy reads them as when decoded into any.
	type anything struct {
		Anything any `alloy:"anything,attr"`
	}
	for lit, kind := range map[string]reflect.Kind{
		"15": reflect.Int64, "-15": reflect.Int64,
		fmt.Sprint(math.MaxInt64): reflect.Int64, fmt.Sprint(math.MinInt64): reflect.Int64,
		fmt.Sprint(uint64(math.MaxInt64) + 1): reflect.Uint64, fmt.Sprint(uint64(math.MaxUint64)): reflect.Uint64,
		fmt.Sprint(math.MinInt64) + "9": reflect.Float64, fmt.Sprint(uint64(math.MaxUint64)) + "9": reflect.Float64,
		"16.0": reflect.Float64,
	} {
		b := parseBlock(t, "some_block {\n\tanything = "+lit+"\n}")
		var got anything
		if err := vm.New(b).Evaluate(nil, &got); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if k := reflect.TypeOf(got.Anything).Kind(); k != kind {
			t.Errorf("%s decoded as %v, want %v", lit, k, kind)
		}
	}
}

// TestStability checks that a function below the scope's minimum stability
// is refused where it is referenced, with the flag that permits it, and
// that the zero value of the option means generally available.
func TestStability(t *testing.T) {
	src := `array.group_by([{a = "x"}], "a", false)`
	for _, tt := range []struct {
		name  string
		scope *vm.Scope
		ok    bool
	}{
		{"nil scope", nil, false},
		{"zero option", &vm.Scope{}, false},
		{"generally available", &vm.Scope{MinStability: stability.GenerallyAvailable}, false},
		{"public preview", &vm.Scope{MinStability: stability.PublicPreview}, false},
		{"experimental", &vm.Scope{MinStability: stability.Experimental}, true},
		{"inherited", &vm.Scope{Parent: &vm.Scope{MinStability: stability.Experimental}, Variables: map[string]any{"x": 1}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeExpr(t, tt.scope, src, nil)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := `1:1: function "array.group_by" is at stability level "experimental", below the minimum "generally-available"; run with --stability.level=experimental to use it`
			if tt.name == "public preview" {
				want = strings.Replace(want, `minimum "generally-available"`, `minimum "public-preview"`, 1)
			}
			if err == nil || err.Error() != want {
				t.Fatalf("got %v\nwant %s", err, want)
			}
			ds := diag.From(err)
			if len(ds) != 1 || ds[0].EndPos.Column != len("array.group_by") {
				t.Fatalf("diagnostic does not cover the reference: %#v", ds)
			}
		})
	}
	// A reference that is not called is refused too, as in Alloy.
	if _, err := decodeExpr(t, nil, `array.combine_maps`, nil); err == nil {
		t.Fatal("a reference to array.combine_maps was accepted")
	}
	// A user variable that shadows the namespace is not the library.
	shadow := &vm.Scope{Variables: map[string]any{"array": map[string]any{"group_by": 1}}}
	if v, err := decodeExpr(t, shadow, `array.group_by`, 0); err != nil || v != 1 {
		t.Fatalf("shadowed namespace: %v, %v", v, err)
	}
	// Generally available functions need nothing.
	if _, err := decodeExpr(t, nil, `array.concat([1])`, nil); err != nil {
		t.Fatal(err)
	}
}

// TestCheckStability checks the load-time check that finds references to
// functions below the minimum without evaluating anything.
func TestCheckStability(t *testing.T) {
	f, err := parser.ParseFile("c.alloy", []byte(`x "y" {
	a = array.concat([1])
	b = [array.group_by([], "k", true), coalesce(array.combine_maps, 1)]
}
`))
	if err != nil {
		t.Fatal(err)
	}
	ds := vm.CheckStability(f, nil)
	var got []string
	for _, d := range ds {
		got = append(got, d.Error())
	}
	want := []string{
		`c.alloy:3:7: function "array.group_by" is at stability level "experimental", below the minimum "generally-available"; run with --stability.level=experimental to use it`,
		`c.alloy:3:47: function "array.combine_maps" is at stability level "experimental", below the minimum "generally-available"; run with --stability.level=experimental to use it`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ds := vm.CheckStability(f, &vm.Scope{MinStability: stability.Experimental}); len(ds) != 0 {
		t.Fatalf("experimental level still refuses: %v", ds)
	}
	if ds := vm.CheckStability(ast.Body(nil), nil); len(ds) != 0 {
		t.Fatal(ds)
	}
}

var _ = value.Null
