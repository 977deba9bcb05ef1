package value_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

type inner struct {
	Name  string `alloy:",label"`
	Value int    `alloy:"value,attr,optional"`
}

type common struct {
	Token types.Secret `alloy:"token,attr,optional"`
}

type outer struct {
	URL      string              `alloy:"url,attr"`
	Timeout  time.Duration       `alloy:"timeout,attr,optional"`
	Limit    types.Size          `alloy:"limit,attr,optional"`
	Labels   map[string]string   `alloy:"labels,attr,optional"`
	Receiver sample.Receiver     `alloy:"receiver,attr,optional"`
	Inner    []inner             `alloy:"inner,block,optional"`
	Opt      *inner              `alloy:"opt,block,optional"`
	Common   common              `alloy:",squash"`
	Untagged int                 // not part of the config
	Nested   map[string][]string `alloy:"nested,attr,optional"`
}

func (o *outer) SetToDefault() { *o = outer{Timeout: 10 * time.Second} }

func (o *outer) Validate() error {
	if o.URL == "" {
		return errors.New("url must not be empty")
	}
	return nil
}

func TestEncodeTypes(t *testing.T) {
	recv := sample.ReceiverFunc(func(context.Context, *sample.Batch) error { return nil })
	var nilMap map[string]int
	tests := []struct {
		in       any
		wantType value.Type
		want     string
	}{
		{nil, value.TypeNull, "null"},
		{1, value.TypeNumber, "1"},
		{uint8(7), value.TypeNumber, "7"},
		{-2.5, value.TypeNumber, "-2.5"},
		{"x", value.TypeString, `"x"`},
		{true, value.TypeBool, "true"},
		{[]int{1, 2}, value.TypeArray, "[1, 2]"},
		{[2]string{"a", "b"}, value.TypeArray, `["a", "b"]`},
		{map[string]int{"b": 2, "a": 1}, value.TypeObject, `{"a" = 1, "b" = 2}`},
		{nilMap, value.TypeNull, "null"},
		{90 * time.Second, value.TypeString, `"1m30s"`},
		{types.Size(10 << 20), value.TypeString, `"10MiB"`},
		{types.Secret("pw"), value.TypeCapsule, "(secret)"},
		{types.OptionalSecret{Value: "plain"}, value.TypeString, `"plain"`},
		{types.OptionalSecret{IsSecret: true, Value: "pw"}, value.TypeCapsule, "(secret)"},
		{strings.ToUpper, value.TypeFunction, "function"},
		{make(chan int), value.TypeCapsule, `capsule("chan int")`},
		{&struct{ X int }{1}, value.TypeCapsule, `capsule("*struct { X int }")`},
		{recv, value.TypeFunction, "function"},
		{map[int]string{1: "a"}, value.TypeCapsule, `capsule("map[int]string")`},
		{value.String("v"), value.TypeString, `"v"`},
		{ptr(3), value.TypeNumber, "3"},
	}
	for _, tt := range tests {
		v := value.Encode(tt.in)
		if v.Type() != tt.wantType || v.String() != tt.want {
			t.Errorf("Encode(%#v) = %s %s, want %s %s", tt.in, v.Type(), v, tt.wantType, tt.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestEncodeStructIsAnObject(t *testing.T) {
	recv := sample.ReceiverFunc(func(context.Context, *sample.Batch) error { return nil })
	o := outer{
		URL: "http://x", Labels: map[string]string{"a": "b"},
		Receiver: recv,
		Inner:    []inner{{Name: "one", Value: 1}},
		Common:   common{Token: "pw"},
	}
	v := value.Encode(o)
	if v.Type() != value.TypeObject || !v.OrderedKeys() {
		t.Fatalf("type %s", v.Type())
	}
	wantKeys := []string{"url", "timeout", "limit", "labels", "receiver", "inner", "opt", "token", "nested"}
	if !reflect.DeepEqual(v.Keys(), wantKeys) {
		t.Fatalf("keys %v, want %v", v.Keys(), wantKeys)
	}
	r, _ := v.Key("receiver")
	if r.Type() != value.TypeCapsule || r.Describe() != `capsule("sample.Receiver")` {
		t.Errorf("receiver = %s %s", r.Type(), r.Describe())
	}
	tok, _ := v.Key("token")
	if !tok.IsSecret() || strings.Contains(v.String(), "pw") {
		t.Errorf("token = %s; object %s", tok, v)
	}
	in, _ := v.Key("inner")
	if in.String() != `[{"value" = 1}]` {
		t.Errorf("inner = %s", in)
	}
	if opt, _ := v.Key("opt"); !opt.IsNull() {
		t.Errorf("nil optional block = %s, want null", opt)
	}
	if _, ok := v.Key("Untagged"); ok {
		t.Error("untagged field visible")
	}
}

func TestDecodeObjectIntoStruct(t *testing.T) {
	calls := 0
	recv := sample.ReceiverFunc(func(context.Context, *sample.Batch) error { calls++; return nil })
	exported, _ := value.Encode(struct {
		R sample.Receiver `alloy:"r,attr"`
	}{recv}).Key("r")
	// A plain object (not the struct itself) decodes field by field
	// through the conversions.
	obj := value.Object(map[string]value.Value{
		"url":      value.String("http://x"),
		"limit":    value.String("512KiB"),
		"labels":   value.Encode(map[string]string{"a": "b"}),
		"receiver": exported,
		"inner":    value.Encode([]map[string]int{{"value": 1}, {"value": 2}}),
		"opt":      value.Encode(map[string]int{"value": 3}),
		"token":    value.String("pw"),
		"nested":   value.Encode(map[string]any{"k": []any{"v"}}),
	})
	var got outer
	if err := value.Decode(obj, &got); err != nil {
		t.Fatal(err)
	}
	if got.Receiver == nil {
		t.Fatal("receiver not decoded")
	}
	_ = got.Receiver.Receive(context.Background(), nil)
	got.Receiver = nil
	want := outer{
		URL: "http://x", Timeout: 10 * time.Second, Limit: 512 << 10,
		Labels: map[string]string{"a": "b"},
		Inner:  []inner{{Value: 1}, {Value: 2}},
		Opt:    &inner{Value: 3},
		Common: common{Token: "pw"},
		Nested: map[string][]string{"k": {"v"}},
	}
	if !reflect.DeepEqual(got, want) || calls != 1 {
		t.Fatalf("got %+v (calls %d)\nwant %+v", got, calls, want)
	}

	// The struct's own value decodes back into the same struct as is.
	var again outer
	if err := value.Decode(value.Encode(want), &again); err != nil || !reflect.DeepEqual(again, want) {
		t.Fatalf("round trip: %+v, %v", again, err)
	}
}

func TestDecodeConversions(t *testing.T) {
	var (
		i8  int8
		u   uint
		f32 float32
		s   string
		d   time.Duration
		sec types.Secret
		os  types.OptionalSecret
		sz  types.Size
		a   any
		arr [2]int
		vv  value.Value
		p   *int
	)
	tests := []struct {
		in     value.Value
		target any
		want   any
	}{
		{value.Int(-128), &i8, int8(-128)},
		{value.Float(3), &u, uint(3)},
		{value.String("42"), &u, uint(42)},
		{value.String("-1.5"), &f32, float32(-1.5)},
		{value.Int(7), &s, "7"},
		{value.Float(2.5), &s, "2.5"},
		{value.String("1h30m"), &d, 90 * time.Minute},
		{value.String("2d"), &d, 48 * time.Hour},
		{value.Int(0), &d, time.Duration(0)},
		{value.String("pw"), &sec, types.Secret("pw")},
		{value.Encode(types.Secret("pw")), &sec, types.Secret("pw")},
		{value.String("plain"), &os, types.OptionalSecret{Value: "plain"}},
		{value.Encode(types.Secret("pw")), &os, types.OptionalSecret{IsSecret: true, Value: "pw"}},
		{value.String("1GB"), &sz, types.GiB},
		{value.Int(4096), &sz, types.Size(4096)},
		{value.Array(value.Int(1), value.String("x")), &a, []any{int64(1), "x"}},
		{value.Object(map[string]value.Value{"k": value.Bool(true)}), &a, map[string]any{"k": true}},
		{value.Array(value.Int(1), value.Int(2)), &arr, [2]int{1, 2}},
		{value.Int(5), &vv, value.Int(5)},
		{value.Int(5), &p, ptr(5)},
		{value.Null, &p, (*int)(nil)},
	}
	for _, tt := range tests {
		if err := value.Decode(tt.in, tt.target); err != nil {
			t.Errorf("Decode(%s into %T): %v", tt.in, tt.target, err)
			continue
		}
		got := reflect.ValueOf(tt.target).Elem().Interface()
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Decode(%s into %T) = %#v, want %#v", tt.in, tt.target, got, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var (
		i8   int8
		u    uint16
		n    int
		s    string
		b    bool
		strs []string
		m    map[string]int
		recv sample.Receiver
		d    time.Duration
		arr  [2]int
		o    outer
		fn   func(string) string
	)
	tests := []struct {
		in     value.Value
		target any
		want   string
	}{
		{value.Int(128), &i8, "128 does not fit in int8"},
		{value.Int(-1), &u, "-1 does not fit in uint16"},
		{value.Float(1.5), &n, "1.5 does not fit in an integer"},
		{value.Float(math.Inf(1)), &n, "+Inf does not fit in an integer"},
		{value.String("x1"), &n, "expected number, got string"},
		{value.String("inf"), &n, "expected number, got string"},
		{value.Bool(true), &s, "expected string, got bool"},
		{value.String("true"), &b, "expected bool, got string"},
		{value.String("a"), &strs, "expected array, got string"},
		{value.Array(value.String("a"), value.Int(1), value.Bool(false)), &strs, "[2]: expected string, got bool"},
		{value.Object(map[string]value.Value{"a": value.String("x")}), &m, "a: expected number, got string"},
		{value.Object(map[string]value.Value{"a b": value.Null, "c": value.Array(value.Int(1))}), &m, `c: expected number, got array`},
		{value.String("r"), &recv, `expected capsule("sample.Receiver"), got string`},
		{value.Encode(types.Secret("pw")), &s, "expected string, got secret (convert.nonsensitive turns a secret into a string)"},
		{value.String("soon"), &d, `invalid duration "soon"`},
		{value.Bool(true), &d, "expected string, got bool"},
		{value.Array(value.Int(1)), &arr, "expected an array of 2 elements, got 1"},
		{value.Object(map[string]value.Value{}), &o, `missing required attribute "url"`},
		{value.Object(map[string]value.Value{"url": value.String("")}), &o, "url must not be empty"},
		{value.Object(map[string]value.Value{"url": value.String("x"), "bogus": value.Int(1)}), &o, `unrecognized attribute name "bogus"`},
		{value.Object(map[string]value.Value{"url": value.String("x"), "inner": value.Array(value.Object(map[string]value.Value{"value": value.String("x")}))}), &o, `inner[0].value: expected number, got string`},
		{value.Encode(strings.ToUpper), &fn, ""}, // same type: no error
	}
	for _, tt := range tests {
		err := value.Decode(tt.in, tt.target)
		if tt.want == "" {
			if err != nil {
				t.Errorf("Decode(%s into %T): %v", tt.in, tt.target, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%s into %T) error = %v, want %q", tt.in, tt.target, err, tt.want)
		}
	}
	if err := value.Decode(value.Int(1), n); err == nil {
		t.Error("Decode into a non-pointer must fail")
	}
}

func TestCall(t *testing.T) {
	join := value.Encode(strings.Join)
	got, err := join.Call(value.Array(value.String("a"), value.String("b")), value.String("+"))
	if err != nil || got.String() != `"a+b"` {
		t.Fatalf("join = %s, %v", got, err)
	}
	_, err = join.Call(value.String("a"), value.String("+"))
	var ae *value.ArgError
	if !errors.As(err, &ae) || ae.Index != 0 || err.Error() != "argument 1: expected array, got string" {
		t.Fatalf("error %v", err)
	}
	if _, err := join.Call(); err == nil || err.Error() != "expected 2 args, got 0" {
		t.Fatalf("arity error %v", err)
	}
	failing := value.Func(func(int) (int, error) { return 0, errors.New("boom") })
	if _, err := failing.Call(value.Int(1)); err == nil || err.Error() != "boom" {
		t.Fatalf("error result %v", err)
	}
	panicking := value.Func(func() int { panic("oops") })
	if _, err := panicking.Call(); err == nil || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("panic not turned into an error: %v", err)
	}
}

func TestEqual(t *testing.T) {
	eq := [][2]value.Value{
		{value.Int(1), value.Float(1)},
		{value.Uint(math.MaxUint64), value.Uint(math.MaxUint64)},
		{value.Encode([]int{1, 2}), value.Array(value.Int(1), value.Int(2))},
		{value.Encode(map[string]string{"a": "b"}), value.Object(map[string]value.Value{"a": value.String("b")})},
		{value.Encode(types.Secret("x")), value.Encode(types.Secret("x"))},
		{value.Null, value.Null},
	}
	for _, p := range eq {
		if !value.Equal(p[0], p[1]) {
			t.Errorf("%s != %s", p[0], p[1])
		}
	}
	ne := [][2]value.Value{
		{value.Int(-1), value.Uint(math.MaxUint64)},
		{value.Int(1), value.String("1")},
		{value.Array(value.Int(1)), value.Array(value.Int(1), value.Int(2))},
		{value.Float(math.NaN()), value.Float(math.NaN())},
		{value.Encode(strings.ToUpper), value.Encode(strings.ToUpper)},
	}
	for _, p := range ne {
		if value.Equal(p[0], p[1]) {
			t.Errorf("%s == %s", p[0], p[1])
		}
	}
}

func TestCheckTags(t *testing.T) {
	type bad struct {
		A int `alloy:"a,attribute"`
	}
	type dup struct {
		A int `alloy:"a,attr"`
		B int `alloy:"a,attr,optional"`
	}
	type nested struct {
		In []bad `alloy:"in,block"`
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[bad](), reflect.TypeFor[dup](), reflect.TypeFor[nested]()} {
		if err := value.CheckTags(typ); err == nil {
			t.Errorf("CheckTags(%s) accepted a malformed tag", typ)
		}
	}
	if err := value.CheckTags(reflect.TypeFor[outer]()); err != nil {
		t.Errorf("CheckTags(outer): %v", err)
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "42", "-7", "18446744073709551615", "1.5e3", "1e400", ".5", "1_000", "inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := value.ParseNumber(s)
		if err != nil {
			return
		}
		back, err := value.ParseNumber(n.String())
		if err != nil {
			t.Fatalf("%q -> %s does not parse back: %v", s, n, err)
		}
		if f := n.Float(); !math.IsNaN(f) && value.CompareNumbers(n, back) != 0 {
			t.Fatalf("%q -> %s -> %s", s, n, back)
		}
	})
}
