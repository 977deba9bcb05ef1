package types

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Redacted is what a secret prints as, everywhere.
const Redacted = "(secret)"

// Secret is a sensitive string, such as a password or a bearer token. It
// prints as "(secret)" through fmt (every verb), encoding/json, encoding's
// text marshalling, YAML and log/slog, so that it cannot leak into a page, a
// log line or an API answer by accident. Use string(s) where the real value
// is needed.
//
// In the configuration language a Secret is a capsule: a string converts into
// a Secret, but a Secret does not convert back into a string except through
// convert.nonsensitive.
type Secret string

var (
	_ Capsule        = Secret("")
	_ fmt.Formatter  = Secret("")
	_ slog.LogValuer = Secret("")
)

// AlloyCapsule marks Secret as a capsule.
func (Secret) AlloyCapsule() {}

// String returns "(secret)".
func (Secret) String() string { return Redacted }

// GoString returns "(secret)" quoted, for %#v.
func (Secret) GoString() string { return `"` + Redacted + `"` }

// Format writes "(secret)" for every verb, so that %x or %q cannot reveal
// the value either.
func (Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		fmt.Fprintf(f, "%q", Redacted)
	case 'v':
		if f.Flag('#') {
			fmt.Fprint(f, `"`+Redacted+`"`)
			return
		}
		fmt.Fprint(f, Redacted)
	default:
		fmt.Fprint(f, Redacted)
	}
}

// MarshalText returns "(secret)".
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON returns the JSON string "(secret)".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalYAML returns "(secret)".
func (Secret) MarshalYAML() (any, error) { return Redacted, nil }

// LogValue returns "(secret)" for log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// OptionalSecret is a string that may or may not be sensitive, such as the
// content of a file read by local.file: it is sensitive when IsSecret is
// set. It converts from a string (IsSecret false) or a Secret (IsSecret
// true), and it converts into a Secret either way; into a plain string only
// while IsSecret is false. When IsSecret is set it prints as "(secret)" like
// a Secret.
type OptionalSecret struct {
	IsSecret bool
	Value    string
}

var (
	_ Capsule        = OptionalSecret{}
	_ fmt.Formatter  = OptionalSecret{}
	_ slog.LogValuer = OptionalSecret{}
)

// AlloyCapsule marks OptionalSecret as a capsule.
func (OptionalSecret) AlloyCapsule() {}

// String returns the value, or "(secret)" when it is sensitive.
func (s OptionalSecret) String() string {
	if s.IsSecret {
		return Redacted
	}
	return s.Value
}

// GoString returns the printable value quoted, for %#v.
func (s OptionalSecret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format formats the printable value (see String) with the given verb.
func (s OptionalSecret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalText returns the printable value (see String).
func (s OptionalSecret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON returns the printable value (see String) as a JSON string.
func (s OptionalSecret) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.String())
}

// MarshalYAML returns the printable value (see String).
func (s OptionalSecret) MarshalYAML() (any, error) { return s.String(), nil }

// LogValue returns the printable value (see String) for log/slog.
func (s OptionalSecret) LogValue() slog.Value { return slog.StringValue(s.String()) }
