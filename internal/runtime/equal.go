package runtime

import (
	"reflect"

	"github.com/shoal-dev/shoal/internal/syntax/value"
)

var typeValue = reflect.TypeFor[value.Value]()

// equal reports whether two argument or export values are the same for the
// purpose of deciding whether to re-evaluate or Update. It is
// reflect.DeepEqual with one difference: a value held in an interface type
// with methods (a capsule such as sample.Receiver) is compared by identity
// when it is a pointer. Those are live components; walking into two of them
// would be slow and race with their goroutines, and two distinct receivers
// are different receivers whatever their state.
func equal(a, b any) bool {
	return equalValue(reflect.ValueOf(a), reflect.ValueOf(b), 0)
}

// maxEqualDepth bounds the walk; deeper values are taken as different,
// which at worst costs an unneeded Update.
const maxEqualDepth = 64

func equalValue(a, b reflect.Value, depth int) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if depth > maxEqualDepth {
		return false
	}
	if a.Type() == typeValue && a.CanInterface() && b.CanInterface() {
		// A language value: compare what it holds, a capsule (a live
		// receiver) by identity.
		va, vb := a.Interface().(value.Value), b.Interface().(value.Value)
		if va.Type() != vb.Type() {
			return false
		}
		ra, rb := va.Reflect(), vb.Reflect()
		if va.Type() == value.TypeCapsule && ra.IsValid() && rb.IsValid() && ra.Type() == rb.Type() {
			switch ra.Kind() {
			case reflect.Pointer:
				return ra.UnsafePointer() == rb.UnsafePointer()
			case reflect.Interface:
				if ra.IsNil() || rb.IsNil() {
					return ra.IsNil() == rb.IsNil()
				}
				if ra.Elem().Kind() == reflect.Pointer && ra.Elem().Type() == rb.Elem().Type() {
					return ra.Elem().UnsafePointer() == rb.Elem().UnsafePointer()
				}
			}
		}
		return equalValue(ra, rb, depth+1)
	}
	switch a.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		ea, eb := a.Elem(), b.Elem()
		if a.NumMethod() > 0 && ea.Type() == eb.Type() && ea.Kind() == reflect.Pointer {
			return ea.UnsafePointer() == eb.UnsafePointer()
		}
		return equalValue(ea, eb, depth+1)
	case reflect.Pointer:
		if a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		if a.IsNil() || b.IsNil() {
			return false
		}
		return equalValue(a.Elem(), b.Elem(), depth+1)
	case reflect.Struct:
		for i := range a.NumField() {
			if !equalValue(a.Field(i), b.Field(i), depth+1) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.Len() == 0 || a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !equalValue(a.Index(i), b.Index(i), depth+1) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			return true
		}
		iter := a.MapRange()
		for iter.Next() {
			vb := b.MapIndex(iter.Key())
			if !vb.IsValid() || !equalValue(iter.Value(), vb, depth+1) {
				return false
			}
		}
		return true
	case reflect.Func:
		// As in reflect.DeepEqual: functions are equal only when both nil.
		return a.IsNil() && b.IsNil()
	case reflect.Chan, reflect.UnsafePointer:
		return a.UnsafePointer() == b.UnsafePointer()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	case reflect.Complex64, reflect.Complex128:
		return a.Complex() == b.Complex()
	case reflect.String:
		return a.String() == b.String()
	}
	return false
}
