package value

import (
	"fmt"
	"reflect"
)

// Call calls a function value with args. Each argument is decoded into the
// parameter's Go type (an *ArgError names the argument that did not fit);
// the result is encoded back, and a returned error is returned. A panic in
// the function is returned as an error rather than taking the process down.
// Call panics if v is not a function.
func (v Value) Call(args ...Value) (result Value, err error) {
	v.must(TypeFunction)
	ft := v.rv.Type()
	nin := ft.NumIn()
	if ft.IsVariadic() {
		if len(args) < nin-1 {
			return Null, fmt.Errorf("expected at least %d args, got %d", nin-1, len(args))
		}
	} else if len(args) != nin {
		return Null, fmt.Errorf("expected %d args, got %d", nin, len(args))
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		var pt reflect.Type
		if ft.IsVariadic() && i >= nin-1 {
			pt = ft.In(nin - 1).Elem()
		} else {
			pt = ft.In(i)
		}
		p := reflect.New(pt).Elem()
		if err := decode(a, p); err != nil {
			return Null, &ArgError{Index: i, Err: err}
		}
		in[i] = p
	}
	defer func() {
		if r := recover(); r != nil {
			result, err = Null, fmt.Errorf("function failed: %v", r)
		}
	}()
	out := v.rv.Call(in)
	switch {
	case len(out) == 0:
		return Null, nil
	case len(out) == 1 && ft.Out(0) == typeError:
		if !out[0].IsNil() {
			return Null, out[0].Interface().(error)
		}
		return Null, nil
	case len(out) == 2 && ft.Out(1) == typeError:
		if !out[1].IsNil() {
			return Null, out[1].Interface().(error)
		}
	}
	return makeValue(out[0]), nil
}
