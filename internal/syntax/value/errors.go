package value

import (
	"fmt"
	"strconv"
	"strings"
)

// TypeError is a value of the wrong type: "expected array, got string".
type TypeError struct {
	Value    Value
	Expected string // a type name, or a description such as `capsule("sample.Receiver")`
}

func (e *TypeError) Error() string {
	got := e.Value.Type().String()
	if e.Value.IsSecret() {
		if e.Expected == TypeString.String() {
			return "expected string, got secret (convert.nonsensitive turns a secret into a string)"
		}
		got = "secret"
	}
	return fmt.Sprintf("expected %s, got %s", e.Expected, got)
}

// ElementError is an error in element Index of an array.
type ElementError struct {
	Index int
	Err   error
}

func (e *ElementError) Error() string { return pathMessage(e) }
func (e *ElementError) Unwrap() error { return e.Err }

// FieldError is an error in field Key of an object.
type FieldError struct {
	Key string
	Err error
}

func (e *FieldError) Error() string { return pathMessage(e) }
func (e *FieldError) Unwrap() error { return e.Err }

// ArgError is an error in argument Index (from 0) of a function call.
type ArgError struct {
	Index int
	Err   error
}

func (e *ArgError) Error() string {
	return fmt.Sprintf("argument %d: %v", e.Index+1, e.Err)
}
func (e *ArgError) Unwrap() error { return e.Err }

// MissingKeyError is a required field absent from an object decoded into a
// struct.
type MissingKeyError struct {
	Key string
}

func (e *MissingKeyError) Error() string {
	return fmt.Sprintf("missing required attribute %q", e.Key)
}

// UnknownKeyError is an object field that the target struct does not have.
type UnknownKeyError struct {
	Key string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("unrecognized attribute name %q", e.Key)
}

// pathMessage renders a chain of element and field errors as a path and the
// innermost message: `[2].labels["job"]: expected string, got number`.
func pathMessage(err error) string {
	var b strings.Builder
loop:
	for {
		switch e := err.(type) {
		case *ElementError:
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
			err = e.Err
		case *FieldError:
			if isIdent(e.Key) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(e.Key)
			} else {
				b.WriteString("[" + strconv.Quote(e.Key) + "]")
			}
			err = e.Err
		default:
			break loop
		}
	}
	return b.String() + ": " + err.Error()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || (i > 0 && '0' <= r && r <= '9') {
			continue
		}
		return false
	}
	return true
}
