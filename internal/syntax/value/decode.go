package value

import (
	"fmt"
	"reflect"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Decode stores v into the Go value target points to, converting as the
// language does:
//   - null stores the zero value;
//   - a value whose Go type is already the target's is shared as is;
//   - a number decodes into any integer or float kind, checking its range
//     and that an integer target gets a whole number; a string holding a
//     number converts into a number and a number into a string;
//   - a string decodes into time.Duration (types.ParseDuration), into
//     types.Secret and types.OptionalSecret, and into any type with an
//     UnmarshalText method (types.Size, ...);
//   - arrays decode into slices and arrays, objects into maps with string
//     keys and into structs with alloy tags (SetToDefault before, Validate
//     after, unknown and missing required fields reported);
//   - capsules decode only into a type their Go value has or implements;
//     a target of type `any` receives Interface();
//   - a target of type Value receives v itself.
//
// Errors are *TypeError, or wrapped in *ElementError and *FieldError to say
// where in v they are.
func Decode(v Value, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("value.Decode: target must be a non-nil pointer, got %T", target)
	}
	return decode(v, rv.Elem())
}

// DecodeReflect is Decode into a settable reflect.Value.
func DecodeReflect(v Value, into reflect.Value) error { return decode(v, into) }

func decode(val Value, into reflect.Value) error {
	t := into.Type()
	if t == typeValue {
		into.Set(reflect.ValueOf(val))
		return nil
	}
	if val.ty == TypeNull {
		into.SetZero()
		return nil
	}
	if t.Kind() == reflect.Interface {
		return decodeInterface(val, into)
	}
	if val.rv.Type() == t {
		into.Set(val.rv)
		return nil
	}

	switch t {
	case typeSecret:
		if val.ty != TypeString {
			return &TypeError{Value: val, Expected: "string"}
		}
		into.SetString(val.Text())
		return nil
	case typeOptionalSecret:
		switch {
		case val.ty == TypeString:
			into.Set(reflect.ValueOf(types.OptionalSecret{Value: val.Text()}))
		case val.IsSecret():
			into.Set(reflect.ValueOf(types.OptionalSecret{IsSecret: true, Value: val.rv.String()}))
		default:
			return &TypeError{Value: val, Expected: "string"}
		}
		return nil
	case typeDuration:
		return decodeDuration(val, into)
	}
	if t.Implements(typeCapsule) || reflect.PointerTo(t).Implements(typeCapsule) {
		return &TypeError{Value: val, Expected: fmt.Sprintf("capsule(%q)", t.String())}
	}
	if reflect.PointerTo(t).Implements(typeTextUnmarsh) && (val.ty == TypeString || val.ty == TypeNumber) {
		text := textOf(val)
		p := reflect.New(t)
		if err := p.Interface().(interface{ UnmarshalText([]byte) error }).UnmarshalText([]byte(text)); err != nil {
			return err
		}
		into.Set(p.Elem())
		return nil
	}

	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := decode(val, p.Elem()); err != nil {
			return err
		}
		into.Set(p)
		return nil
	case reflect.Bool:
		if val.ty != TypeBool {
			return &TypeError{Value: val, Expected: "bool"}
		}
		into.SetBool(val.Bool())
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		switch val.ty {
		case TypeNumber:
			return setNumber(val.Number(), into)
		case TypeString:
			n, err := ParseNumber(val.Text())
			if err != nil {
				return &TypeError{Value: val, Expected: "number"}
			}
			return setNumber(n, into)
		}
		return &TypeError{Value: val, Expected: "number"}
	case reflect.String:
		switch val.ty {
		case TypeString:
			into.SetString(val.Text())
			return nil
		case TypeNumber:
			into.SetString(val.Number().Text())
			return nil
		}
		return &TypeError{Value: val, Expected: "string"}
	case reflect.Slice:
		if val.ty != TypeArray {
			return &TypeError{Value: val, Expected: "array"}
		}
		n := val.Len()
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			if err := decode(val.Index(i), s.Index(i)); err != nil {
				return &ElementError{Index: i, Err: err}
			}
		}
		into.Set(s)
		return nil
	case reflect.Array:
		if val.ty != TypeArray {
			return &TypeError{Value: val, Expected: "array"}
		}
		if val.Len() != t.Len() {
			return fmt.Errorf("expected an array of %d elements, got %d", t.Len(), val.Len())
		}
		a := reflect.New(t).Elem()
		for i := range t.Len() {
			if err := decode(val.Index(i), a.Index(i)); err != nil {
				return &ElementError{Index: i, Err: err}
			}
		}
		into.Set(a)
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return &TypeError{Value: val, Expected: fmt.Sprintf("capsule(%q)", t.String())}
		}
		if val.ty != TypeObject {
			return &TypeError{Value: val, Expected: "object"}
		}
		keys := val.Keys()
		m := reflect.MakeMapWithSize(t, len(keys))
		for _, k := range keys {
			ev, _ := val.Key(k)
			e := reflect.New(t.Elem()).Elem()
			if err := decode(ev, e); err != nil {
				return &FieldError{Key: k, Err: err}
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		into.Set(m)
		return nil
	case reflect.Struct:
		if !IsTagged(t) {
			return &TypeError{Value: val, Expected: fmt.Sprintf("capsule(%q)", t.String())}
		}
		if val.ty != TypeObject {
			return &TypeError{Value: val, Expected: "object"}
		}
		return decodeStruct(val, into)
	case reflect.Func:
		if val.ty != TypeFunction {
			return &TypeError{Value: val, Expected: "function"}
		}
		if !val.rv.Type().AssignableTo(t) {
			return fmt.Errorf("expected a function of type %s, got %s", t, val.rv.Type())
		}
		into.Set(val.rv)
		return nil
	}
	return &TypeError{Value: val, Expected: fmt.Sprintf("capsule(%q)", t.String())}
}

// decodeInterface stores val into an interface-typed target: any receives
// the plain Go value; other interfaces need a capsule (or function) whose Go
// value implements them.
func decodeInterface(val Value, into reflect.Value) error {
	t := into.Type()
	if t.NumMethod() == 0 {
		if i := val.Interface(); i != nil {
			into.Set(reflect.ValueOf(i))
		} else {
			into.SetZero()
		}
		return nil
	}
	if val.ty == TypeCapsule || val.ty == TypeFunction || val.ty == TypeObject {
		r := val.rv
		if r.Kind() == reflect.Interface {
			r = r.Elem()
		}
		if r.IsValid() && r.Type().Implements(t) {
			into.Set(r)
			return nil
		}
	}
	return &TypeError{Value: val, Expected: fmt.Sprintf("capsule(%q)", t.String())}
}

func decodeDuration(val Value, into reflect.Value) error {
	switch val.ty {
	case TypeString:
		d, err := types.ParseDuration(val.Text())
		if err != nil {
			return err
		}
		into.SetInt(int64(d))
		return nil
	case TypeNumber:
		if val.Number().Float() == 0 {
			into.SetInt(0)
			return nil
		}
		return fmt.Errorf("invalid duration %s: a duration is a string with a unit, such as \"%ss\"", val.Number(), val.Number())
	}
	return &TypeError{Value: val, Expected: "string"}
}

func textOf(val Value) string {
	if val.ty == TypeNumber {
		return val.Number().Text()
	}
	return val.Text()
}

// decodeStruct decodes an object into a tagged struct: defaults first, then
// each key into its field, then the required-field check and Validate.
func decodeStruct(val Value, into reflect.Value) error {
	t := into.Type()
	fresh := reflect.New(t)
	if d, ok := fresh.Interface().(Defaulter); ok {
		d.SetToDefault()
	}
	fields := StructFields(t)
	seen := make(map[string]bool, len(fields))
	for _, k := range val.Keys() {
		f, ok := lookupField(fields, k)
		if !ok {
			return &UnknownKeyError{Key: k}
		}
		ev, _ := val.Key(k)
		if f.Kind == FieldBlock && ev.IsNull() && val.OrderedKeys() {
			// A struct-backed object lists its absent optional blocks as
			// null; they stay absent.
			continue
		}
		if err := decode(ev, fresh.Elem().FieldByIndex(f.Index)); err != nil {
			return &FieldError{Key: k, Err: err}
		}
		seen[k] = true
	}
	for _, f := range fields {
		if f.Kind != FieldLabel && !f.Optional && !seen[f.Name] {
			return &MissingKeyError{Key: f.Name}
		}
	}
	if v, ok := fresh.Interface().(Validator); ok {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	into.Set(fresh.Elem())
	return nil
}

func lookupField(fields []Field, name string) (Field, bool) {
	for _, f := range fields {
		if f.Kind != FieldLabel && f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Equal reports whether a and b are the same value: same type and content.
// Numbers compare by value across kinds; functions are never equal;
// capsules are equal when their Go values are comparable and equal.
func Equal(a, b Value) bool {
	if a.ty != b.ty {
		return false
	}
	switch a.ty {
	case TypeNull:
		return true
	case TypeNumber:
		return CompareNumbers(a.Number(), b.Number()) == 0
	case TypeString:
		return a.Text() == b.Text()
	case TypeBool:
		return a.Bool() == b.Bool()
	case TypeArray:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !Equal(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case TypeObject:
		ak, bk := a.Keys(), b.Keys()
		if len(ak) != len(bk) {
			return false
		}
		for _, k := range ak {
			av, _ := a.Key(k)
			bv, ok := b.Key(k)
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	case TypeCapsule:
		ai, bi := a.rv, b.rv
		if ai.Kind() == reflect.Interface {
			ai = ai.Elem()
		}
		if bi.Kind() == reflect.Interface {
			bi = bi.Elem()
		}
		if !ai.IsValid() || !bi.IsValid() || ai.Type() != bi.Type() || !ai.Type().Comparable() {
			return false
		}
		return ai.Equal(bi)
	}
	return false
}

// CompareNumbers returns -1, 0 or +1 as a is less than, equal to or greater
// than b, exactly for integers of either sign and by float otherwise. NaN
// compares equal to nothing and reports +1.
func CompareNumbers(a, b Number) int {
	if a.kind != NumberFloat && b.kind != NumberFloat {
		switch {
		case a.kind == NumberInt && b.kind == NumberInt:
			return cmp3(a.i < b.i, a.i > b.i)
		case a.kind == NumberUint && b.kind == NumberUint:
			return cmp3(a.u < b.u, a.u > b.u)
		case a.kind == NumberInt: // int vs uint
			if a.i < 0 {
				return -1
			}
			return cmp3(uint64(a.i) < b.u, uint64(a.i) > b.u)
		default: // uint vs int
			if b.i < 0 {
				return 1
			}
			return cmp3(a.u < uint64(b.i), a.u > uint64(b.i))
		}
	}
	af, bf := a.Float(), b.Float()
	switch {
	case af < bf:
		return -1
	case af == bf:
		return 0
	}
	return 1
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}
