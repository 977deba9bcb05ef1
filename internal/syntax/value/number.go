package value

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// NumberKind is how a number is held: as a signed or unsigned integer or as
// a float. Arithmetic keeps integers exact and falls back to floats.
type NumberKind uint8

// The number kinds.
const (
	NumberInt NumberKind = iota
	NumberUint
	NumberFloat
)

// Number is a language number.
type Number struct {
	kind NumberKind
	i    int64
	u    uint64
	f    float64
}

func numberOf(rv reflect.Value) Number {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Number{kind: NumberInt, i: rv.Int()}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return Number{kind: NumberUint, u: rv.Uint()}
	case reflect.Float32, reflect.Float64:
		return Number{kind: NumberFloat, f: rv.Float()}
	}
	panic("value: not a number: " + rv.Type().String())
}

// Kind returns how n is held.
func (n Number) Kind() NumberKind { return n.kind }

// Int returns n as an int64, truncating a float and wrapping a large uint.
func (n Number) Int() int64 {
	switch n.kind {
	case NumberUint:
		return int64(n.u)
	case NumberFloat:
		return int64(n.f)
	}
	return n.i
}

// Uint returns n as a uint64, truncating a float and wrapping a negative int.
func (n Number) Uint() uint64 {
	switch n.kind {
	case NumberInt:
		return uint64(n.i)
	case NumberFloat:
		return uint64(n.f)
	}
	return n.u
}

// Float returns n as a float64.
func (n Number) Float() float64 {
	switch n.kind {
	case NumberInt:
		return float64(n.i)
	case NumberUint:
		return float64(n.u)
	}
	return n.f
}

// Value returns n as a Value.
func (n Number) Value() Value {
	switch n.kind {
	case NumberInt:
		return Int(n.i)
	case NumberUint:
		return Uint(n.u)
	}
	return Float(n.f)
}

// String writes n in the language's syntax: integers in full, floats in the
// shortest form that reads back exactly ("1.5", "1e+21").
func (n Number) String() string {
	switch n.kind {
	case NumberInt:
		return strconv.FormatInt(n.i, 10)
	case NumberUint:
		return strconv.FormatUint(n.u, 10)
	}
	return strconv.FormatFloat(n.f, 'g', -1, 64)
}

// Text writes n as Alloy converts a number into a string: integers in full,
// floats in decimal notation without an exponent ("1000000000000000000000"
// for 1e21, "0.000001" for 1e-6).
func (n Number) Text() string {
	if n.kind == NumberFloat {
		return strconv.FormatFloat(n.f, 'f', -1, 64)
	}
	return n.String()
}

// asInt64 returns n as an int64 if it is a whole number in range.
func (n Number) asInt64() (int64, bool) {
	switch n.kind {
	case NumberInt:
		return n.i, true
	case NumberUint:
		return int64(n.u), n.u <= math.MaxInt64
	}
	if n.f != math.Trunc(n.f) || n.f < math.MinInt64 || n.f >= math.MaxInt64 {
		return 0, false
	}
	return int64(n.f), true
}

// asUint64 returns n as a uint64 if it is a non-negative whole number in
// range.
func (n Number) asUint64() (uint64, bool) {
	switch n.kind {
	case NumberInt:
		return uint64(n.i), n.i >= 0
	case NumberUint:
		return n.u, true
	}
	if n.f != math.Trunc(n.f) || n.f < 0 || n.f >= math.MaxUint64 {
		return 0, false
	}
	return uint64(n.f), true
}

// setNumber stores n into an integer or float Go value, checking range.
func setNumber(n Number, into reflect.Value) error {
	switch into.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := n.asInt64()
		if !ok || into.OverflowInt(i) {
			return fmt.Errorf("%s does not fit in %s", n, kindName(into))
		}
		into.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u, ok := n.asUint64()
		if !ok || into.OverflowUint(u) {
			return fmt.Errorf("%s does not fit in %s", n, kindName(into))
		}
		into.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f := n.Float()
		if into.Kind() == reflect.Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
			return fmt.Errorf("%s does not fit in float32", n)
		}
		into.SetFloat(f)
	default:
		panic("value: setNumber into " + into.Type().String())
	}
	return nil
}

// kindName names the Go kind of a number target for messages: "uint8", or
// "an integer" for plain int.
func kindName(rv reflect.Value) string {
	switch rv.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Uint:
		return "an unsigned integer"
	}
	return rv.Kind().String()
}

// ParseNumber parses a number as the language writes it: an integer (held
// as int64, or uint64 when it only fits there) or a float.
func ParseNumber(s string) (Number, error) {
	// strconv also reads "inf", "NaN", hex floats and underscores, which the
	// language does not.
	if s == "" || strings.Trim(s, "0123456789.eE+-") != "" {
		return Number{}, fmt.Errorf("invalid number %q", s)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Number{kind: NumberInt, i: i}, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return Number{kind: NumberUint, u: u}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return Number{}, fmt.Errorf("number %s is out of range", s)
		}
		return Number{}, fmt.Errorf("invalid number %q", s)
	}
	return Number{kind: NumberFloat, f: f}, nil
}

// IntNumber, UintNumber and FloatNumber make Numbers for arithmetic.
func IntNumber(i int64) Number     { return Number{kind: NumberInt, i: i} }
func UintNumber(u uint64) Number   { return Number{kind: NumberUint, u: u} }
func FloatNumber(f float64) Number { return Number{kind: NumberFloat, f: f} }
