package vm

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/shoal-dev/shoal/internal/syntax/token"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// leftError and rightError say which operand of a binary operator was wrong,
// so that the diagnostic points at it.
type leftError struct{ error }
type rightError struct{ error }

func typeErr(v value.Value, expected string) error {
	return &value.TypeError{Value: v, Expected: expected}
}

// unaryOp applies ! to a bool or - to a number.
func unaryOp(op token.Token, v value.Value) (value.Value, error) {
	switch op {
	case token.NOT:
		if v.Type() != value.TypeBool {
			return value.Null, typeErr(v, "bool")
		}
		return value.Bool(!v.Bool()), nil
	case token.SUB:
		if v.Type() != value.TypeNumber {
			return value.Null, typeErr(v, "number")
		}
		n := v.Number()
		if n.Kind() == value.NumberFloat {
			return value.Float(-n.Float()), nil
		}
		return fromBig(new(big.Int).Neg(toBig(n))), nil
	}
	return value.Null, fmt.Errorf("unknown unary operator %s", op)
}

// binaryOp applies a binary operator other than && and ||.
func binaryOp(op token.Token, l, r value.Value) (value.Value, error) {
	switch op {
	case token.EQ:
		return value.Bool(value.Equal(l, r)), nil
	case token.NEQ:
		return value.Bool(!value.Equal(l, r)), nil

	case token.LT, token.LTE, token.GT, token.GTE:
		var c int
		switch l.Type() {
		case value.TypeNumber:
			if r.Type() != value.TypeNumber {
				return value.Null, &rightError{typeErr(r, "number")}
			}
			ln, rn := l.Number(), r.Number()
			if math.IsNaN(ln.Float()) || math.IsNaN(rn.Float()) {
				return value.Bool(false), nil
			}
			c = value.CompareNumbers(ln, rn)
		case value.TypeString:
			if r.Type() != value.TypeString {
				return value.Null, &rightError{typeErr(r, "string")}
			}
			switch ls, rs := l.Text(), r.Text(); {
			case ls < rs:
				c = -1
			case ls > rs:
				c = 1
			}
		default:
			return value.Null, &leftError{typeErr(l, "number or string")}
		}
		switch op {
		case token.LT:
			return value.Bool(c < 0), nil
		case token.LTE:
			return value.Bool(c <= 0), nil
		case token.GT:
			return value.Bool(c > 0), nil
		}
		return value.Bool(c >= 0), nil

	case token.ADD:
		if l.Type() == value.TypeString {
			if r.Type() != value.TypeString {
				return value.Null, &rightError{typeErr(r, "string")}
			}
			return value.String(l.Text() + r.Text()), nil
		}
		if l.Type() != value.TypeNumber {
			return value.Null, &leftError{typeErr(l, "number or string")}
		}
		fallthrough
	case token.SUB, token.MUL, token.DIV, token.MOD, token.POW:
		if l.Type() != value.TypeNumber {
			return value.Null, &leftError{typeErr(l, "number")}
		}
		if r.Type() != value.TypeNumber {
			return value.Null, &rightError{typeErr(r, "number")}
		}
		return arith(op, l.Number(), r.Number())
	}
	return value.Null, fmt.Errorf("unknown binary operator %s", op)
}

var errDivZero = errors.New("division by zero")

// arith computes on numbers: exactly on integers while the result fits in
// 64 bits (falling back to a float beyond), and on floats otherwise. An
// integer division that does not come out even gives a float: 7 / 2 is 3.5.
func arith(op token.Token, a, b value.Number) (value.Value, error) {
	if a.Kind() == value.NumberFloat || b.Kind() == value.NumberFloat {
		x, y := a.Float(), b.Float()
		switch op {
		case token.ADD:
			return value.Float(x + y), nil
		case token.SUB:
			return value.Float(x - y), nil
		case token.MUL:
			return value.Float(x * y), nil
		case token.DIV:
			if y == 0 {
				return value.Null, &rightError{errDivZero}
			}
			return value.Float(x / y), nil
		case token.MOD:
			if y == 0 {
				return value.Null, &rightError{errDivZero}
			}
			return value.Float(math.Mod(x, y)), nil
		case token.POW:
			return value.Float(math.Pow(x, y)), nil
		}
		return value.Null, fmt.Errorf("unknown operator %s", op)
	}
	x, y := toBig(a), toBig(b)
	z := new(big.Int)
	switch op {
	case token.ADD:
		z.Add(x, y)
	case token.SUB:
		z.Sub(x, y)
	case token.MUL:
		z.Mul(x, y)
	case token.DIV:
		if y.Sign() == 0 {
			return value.Null, &rightError{errDivZero}
		}
		var m big.Int
		z.QuoRem(x, y, &m)
		if m.Sign() != 0 {
			return value.Float(a.Float() / b.Float()), nil
		}
	case token.MOD:
		if y.Sign() == 0 {
			return value.Null, &rightError{errDivZero}
		}
		z.Rem(x, y)
	case token.POW:
		// Beyond exponent 64 the result overflows unless the base is
		// 0 or ±1, which math.Pow gets exactly right too; the bound keeps
		// big.Int from building enormous numbers.
		if y.Sign() < 0 || y.Cmp(big.NewInt(64)) > 0 {
			return value.Float(math.Pow(a.Float(), b.Float())), nil
		}
		z.Exp(x, y, nil)
	default:
		return value.Null, fmt.Errorf("unknown operator %s", op)
	}
	return fromBig(z), nil
}

func toBig(n value.Number) *big.Int {
	if n.Kind() == value.NumberUint {
		return new(big.Int).SetUint64(n.Uint())
	}
	return big.NewInt(n.Int())
}

func fromBig(z *big.Int) value.Value {
	switch {
	case z.IsInt64():
		return value.Int(z.Int64())
	case z.IsUint64():
		return value.Uint(z.Uint64())
	}
	f, _ := new(big.Float).SetInt(z).Float64()
	return value.Float(f)
}
