package vm

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// The operators follow Alloy's evaluator exactly, quirks included:
//
//   - both operands are always evaluated: && and || do not short-circuit,
//     and both sides must be bools;
//   - apart from == and !=, both operands must have the same type, and a
//     number operation is done in the wider of the two kinds (uint < int <
//     float): 7 / 2 is 3 between integers, 7 / 2.0 is 3.5;
//   - integer arithmetic wraps around at 64 bits as Go's does;
//   - an integer power with a negative exponent gives the base back
//     (2 ^ -1 is 2), because Alloy multiplies the base by itself m-1 times;
//   - division or remainder by zero is an error, for floats too;
//   - == between different types is false, never an error; numbers compare
//     in the wider kind (3 == 3.0), arrays and objects element by element;
//   - + joins strings and secrets: a string and a secret give a secret.

// operandError is an error caused by one operand of an operator; the
// diagnostic is placed on that operand and starts with its text, as
// Alloy's does.
type operandError struct {
	right bool // the right operand, else the left (or only) one
	msg   string
}

func (e *operandError) Error() string { return e.msg }

func leftErr(format string, args ...any) error {
	return &operandError{msg: fmt.Sprintf(format, args...)}
}

func rightErr(format string, args ...any) error {
	return &operandError{right: true, msg: fmt.Sprintf(format, args...)}
}

// unaryOp applies ! to a bool or - to a number. Negating an unsigned
// integer gives a signed one.
func unaryOp(op token.Token, v value.Value) (value.Value, error) {
	switch op {
	case token.NOT:
		if v.Type() != value.TypeBool {
			return value.Null, leftErr("should be bool, got %s", v.Type())
		}
		return value.Bool(!v.Bool()), nil
	case token.SUB:
		if v.Type() != value.TypeNumber {
			return value.Null, leftErr("should be number, got %s", v.Type())
		}
		n := v.Number()
		if n.Kind() == value.NumberFloat {
			return value.Float(-n.Float()), nil
		}
		return value.Int(-n.Int()), nil
	}
	return value.Null, fmt.Errorf("unknown unary operator %s", op)
}

// binopTypes are the operand types each operator accepts, in Alloy's order
// (which its messages show).
var binopTypes = map[token.Token][]value.Type{
	token.OR:  {value.TypeBool},
	token.AND: {value.TypeBool},
	token.ADD: {value.TypeNumber, value.TypeString, value.TypeCapsule},
	token.SUB: {value.TypeNumber},
	token.MUL: {value.TypeNumber},
	token.DIV: {value.TypeNumber},
	token.MOD: {value.TypeNumber},
	token.POW: {value.TypeNumber},
	token.LT:  {value.TypeNumber, value.TypeString},
	token.GT:  {value.TypeNumber, value.TypeString},
	token.LTE: {value.TypeNumber, value.TypeString},
	token.GTE: {value.TypeNumber, value.TypeString},
}

func accepts(op token.Token, t value.Type) bool {
	for _, a := range binopTypes[op] {
		if a == t {
			return true
		}
	}
	return false
}

// binaryOp applies a binary operator to two evaluated operands.
func binaryOp(op token.Token, l, r value.Value) (value.Value, error) {
	l, r = unwrapSecrets(l, r)
	switch op {
	case token.EQ:
		return value.Bool(valuesEqual(l, r)), nil
	case token.NEQ:
		return value.Bool(!valuesEqual(l, r)), nil
	}
	if _, ok := binopTypes[op]; !ok {
		return value.Null, fmt.Errorf("unknown binary operator %s", op)
	}
	if !accepts(op, l.Type()) {
		return value.Null, leftErr("should be one of %v for binop %s, got %s", binopTypes[op], op, l.Type())
	}
	if !accepts(op, r.Type()) {
		return value.Null, rightErr("should be one of %v for binop %s, got %s", binopTypes[op], op, r.Type())
	}
	if l.Type() != r.Type() {
		return value.Null, rightErr("should be %s, got %s", l.Type(), r.Type())
	}
	switch l.Type() {
	case value.TypeBool:
		if op == token.OR {
			return value.Bool(l.Bool() || r.Bool()), nil
		}
		return value.Bool(l.Bool() && r.Bool()), nil
	case value.TypeString:
		a, b := l.Text(), r.Text()
		switch op {
		case token.ADD:
			return value.String(a + b), nil
		case token.LT:
			return value.Bool(a < b), nil
		case token.GT:
			return value.Bool(a > b), nil
		case token.LTE:
			return value.Bool(a <= b), nil
		case token.GTE:
			return value.Bool(a >= b), nil
		}
	case value.TypeCapsule: // only + accepts capsules
		if l.IsSecret() && r.IsSecret() {
			return value.Encode(secretOf(l) + secretOf(r)), nil
		}
		return value.Null, leftErr("could not perform binop %s for unknown types lhs %s rhs %s", op, l.Type(), r.Type())
	case value.TypeNumber:
		return numberOp(op, l.Number(), r.Number())
	}
	return value.Null, fmt.Errorf("unknown binary operator %s", op)
}

// unwrapSecrets makes a secret and a string operands of the same type, as
// Alloy does: both become secrets. (An optional secret that is not secret
// is a plain string here already.)
func unwrapSecrets(l, r value.Value) (value.Value, value.Value) {
	switch {
	case l.IsSecret() && r.Type() == value.TypeString:
		return l, value.Encode(types.Secret(r.Text()))
	case l.Type() == value.TypeString && r.IsSecret():
		return value.Encode(types.Secret(l.Text())), r
	}
	return l, r
}

func secretOf(v value.Value) types.Secret { return v.Reflect().Interface().(types.Secret) }

// wider returns the kind an operation on a and b is done in.
func wider(a, b value.NumberKind) value.NumberKind {
	rank := func(k value.NumberKind) int {
		switch k {
		case value.NumberUint:
			return 0
		case value.NumberInt:
			return 1
		}
		return 2
	}
	if rank(a) > rank(b) {
		return a
	}
	return b
}

var errDivZero = errors.New("divide by zero error")

// numberOp applies an arithmetic or comparison operator to two numbers in
// the wider of their kinds.
func numberOp(op token.Token, a, b value.Number) (value.Value, error) {
	if op == token.DIV || op == token.MOD {
		zero := false
		switch b.Kind() {
		case value.NumberUint:
			zero = b.Uint() == 0
		case value.NumberInt:
			zero = b.Int() == 0
		default:
			zero = b.Float() == 0
		}
		if zero {
			return value.Null, rightErr("%s", errDivZero)
		}
	}
	switch wider(a.Kind(), b.Kind()) {
	case value.NumberUint:
		x, y := a.Uint(), b.Uint()
		switch op {
		case token.ADD:
			return value.Uint(x + y), nil
		case token.SUB:
			return value.Uint(x - y), nil
		case token.MUL:
			return value.Uint(x * y), nil
		case token.DIV:
			return value.Uint(x / y), nil
		case token.MOD:
			return value.Uint(x % y), nil
		case token.POW:
			return value.Uint(uintPow(x, y)), nil
		}
		return compare(op, cmp3(x < y, x > y)), nil
	case value.NumberInt:
		x, y := a.Int(), b.Int()
		switch op {
		case token.ADD:
			return value.Int(x + y), nil
		case token.SUB:
			return value.Int(x - y), nil
		case token.MUL:
			return value.Int(x * y), nil
		case token.DIV:
			return value.Int(x / y), nil
		case token.MOD:
			return value.Int(x % y), nil
		case token.POW:
			return value.Int(intPow(x, y)), nil
		}
		return compare(op, cmp3(x < y, x > y)), nil
	}
	x, y := a.Float(), b.Float()
	switch op {
	case token.ADD:
		return value.Float(x + y), nil
	case token.SUB:
		return value.Float(x - y), nil
	case token.MUL:
		return value.Float(x * y), nil
	case token.DIV:
		return value.Float(x / y), nil
	case token.MOD:
		return value.Float(math.Mod(x, y)), nil
	case token.POW:
		return value.Float(math.Pow(x, y)), nil
	}
	// Comparisons with NaN are all false, as in Go.
	switch op {
	case token.LT:
		return value.Bool(x < y), nil
	case token.GT:
		return value.Bool(x > y), nil
	case token.LTE:
		return value.Bool(x <= y), nil
	}
	return value.Bool(x >= y), nil
}

func cmp3(lt, gt bool) int {
	switch {
	case lt:
		return -1
	case gt:
		return 1
	}
	return 0
}

func compare(op token.Token, c int) value.Value {
	switch op {
	case token.LT:
		return value.Bool(c < 0)
	case token.GT:
		return value.Bool(c > 0)
	case token.LTE:
		return value.Bool(c <= 0)
	}
	return value.Bool(c >= 0)
}

// intPow is Alloy's integer power: 1 for a zero exponent or a base of 1, 0
// for a base of 0 and a positive exponent, the base itself for any other
// exponent below 2, and otherwise the base multiplied by itself m-1 times
// with wrap-around, computed here by squaring so that a huge exponent
// cannot stall a reload.
func intPow(n, m int64) int64 {
	switch {
	case m == 0 || n == 1:
		return 1
	case n == 0 && m > 0:
		return 0
	case m < 2:
		return n
	}
	return int64(powMod64(uint64(n), uint64(m)))
}

func uintPow(n, m uint64) uint64 {
	switch {
	case m == 0 || n == 1:
		return 1
	case n == 0:
		return 0
	case m < 2:
		return n
	}
	return powMod64(n, m)
}

// powMod64 is n^m modulo 2^64, which is what repeated wrapping
// multiplication gives for signed and unsigned operands alike.
func powMod64(n, m uint64) uint64 {
	r := uint64(1)
	for m > 0 {
		if m&1 == 1 {
			r *= n
		}
		n *= n
		m >>= 1
	}
	return r
}

// valuesEqual is Alloy's ==: values of different types are never equal,
// numbers are compared in the wider kind, arrays and objects element by
// element, functions never, and capsules by deep equality of their Go
// values.
func valuesEqual(a, b value.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Type() {
	case value.TypeNull:
		return true
	case value.TypeNumber:
		x, y := a.Number(), b.Number()
		switch wider(x.Kind(), y.Kind()) {
		case value.NumberUint:
			return x.Uint() == y.Uint()
		case value.NumberInt:
			return x.Int() == y.Int()
		}
		return x.Float() == y.Float()
	case value.TypeString:
		return a.Text() == b.Text()
	case value.TypeBool:
		return a.Bool() == b.Bool()
	case value.TypeArray:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !valuesEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case value.TypeObject:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.Keys() {
			av, _ := a.Key(k)
			bv, ok := b.Key(k)
			if !ok || !valuesEqual(av, bv) {
				return false
			}
		}
		return true
	case value.TypeCapsule:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
	return false
}
