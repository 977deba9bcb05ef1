// Package refdoc writes the reference of shoal's command-line flags and
// components (docs/reference.md) from the code itself: the flag sets of
// `shoal run` and the alloy tags and SetToDefault values of every
// registered component's Arguments. A test keeps the committed file equal
// to what the code says, so the reference cannot drift. It documents; it
// does not decode or validate anything.
package refdoc

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// Flags writes a table of every flag in fs, with its default and usage.
func Flags(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "| flag | default | meaning |")
	fmt.Fprintln(w, "|---|---|---|")
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "| `--%s` | `%s` | %s |\n", f.Name, def, escape(f.Usage))
	})
}

// Components writes one section per registered component: its arguments
// and blocks with their types, defaults and whether they are required, and
// its exports.
func Components(w io.Writer, reg *component.Registry) {
	for _, name := range reg.Names() {
		r, _ := reg.Get(name)
		fmt.Fprintf(w, "### %s\n\n", name)
		args := reflect.TypeOf(r.Args)
		fmt.Fprintf(w, "Arguments:\n\n")
		Block(w, args, "")
		if r.Exports != nil {
			fmt.Fprintf(w, "Exports:\n\n")
			exports(w, reflect.TypeOf(r.Exports))
		}
	}
}

// Block writes the table of one tagged struct type and, after it, a table
// for each of its blocks, named by their path (e.g. `endpoint > queue_config`).
func Block(w io.Writer, t reflect.Type, path string) {
	t = deref(t)
	def := reflect.New(t)
	if d, ok := def.Interface().(value.Defaulter); ok {
		d.SetToDefault()
	}
	fields := value.StructFields(t)
	var blocks []value.Field
	fmt.Fprintln(w, "| name | type | default | required |")
	fmt.Fprintln(w, "|---|---|---|---|")
	rows := 0
	for _, f := range fields {
		ft := t.FieldByIndex(f.Index).Type
		switch f.Kind {
		case value.FieldBlock:
			blocks = append(blocks, f)
			fmt.Fprintf(w, "| `%s` | block%s | | %s |\n", f.Name, repeated(ft), required(f))
		case value.FieldAttr:
			fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", f.Name, typeName(ft), defaultOf(def.Elem().FieldByIndex(f.Index)), required(f))
		default:
			continue
		}
		rows++
	}
	if rows == 0 {
		fmt.Fprintln(w, "| (none) | | | |")
	}
	fmt.Fprintln(w)
	for _, b := range blocks {
		p := b.Name
		if path != "" {
			p = path + " > " + b.Name
		}
		fmt.Fprintf(w, "Block `%s`:\n\n", p)
		Block(w, t.FieldByIndex(b.Index).Type, p)
	}
}

// exports writes the exported fields of a component: names and types only.
func exports(w io.Writer, t reflect.Type) {
	t = deref(t)
	fmt.Fprintln(w, "| name | type |")
	fmt.Fprintln(w, "|---|---|")
	for _, f := range value.StructFields(t) {
		fmt.Fprintf(w, "| `%s` | %s |\n", f.Name, typeName(t.FieldByIndex(f.Index).Type))
	}
	fmt.Fprintln(w)
}

func required(f value.Field) string {
	if f.Optional {
		return "no"
	}
	return "yes"
}

func repeated(t reflect.Type) string {
	if t.Kind() == reflect.Slice {
		return " (repeatable)"
	}
	return ""
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	timeType     = reflect.TypeOf(time.Time{})
	secretType   = reflect.TypeOf(types.Secret(""))
	optSecType   = reflect.TypeOf(types.OptionalSecret{})
	sizeType     = reflect.TypeOf(types.Size(0))
)

// typeName names a Go type the way Alloy's reference does.
func typeName(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case timeType:
		return "time"
	case secretType:
		return "secret"
	case optSecType:
		return "string or secret"
	case sizeType:
		return "size"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list(" + typeName(t.Elem()) + ")"
	case reflect.Map:
		return "map(" + typeName(t.Elem()) + ")"
	case reflect.Struct:
		if value.IsTagged(t) {
			return "object"
		}
	case reflect.Interface:
		return "capsule(" + t.Name() + ")"
	}
	if t.Name() != "" {
		return "capsule(" + t.Name() + ")"
	}
	return "any"
}

// defaultOf prints a default value in config syntax, or nothing for a zero
// value.
func defaultOf(v reflect.Value) string {
	if !v.IsValid() || v.IsZero() {
		return ""
	}
	switch v.Type() {
	case durationType:
		return "`\"" + model(time.Duration(v.Int())) + "\"`"
	case secretType:
		return "(secret)"
	case sizeType:
		return fmt.Sprintf("`%d`", v.Int())
	}
	switch v.Kind() {
	case reflect.String:
		return fmt.Sprintf("`%q`", v.String())
	case reflect.Pointer:
		return defaultOf(v.Elem())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = strings.Trim(defaultOf(v.Index(i)), "`")
			if parts[i] == "" {
				parts[i] = fmt.Sprint(v.Index(i).Interface())
			}
		}
		return "`[" + strings.Join(parts, ", ") + "]`"
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q = %s", k.String(), strings.Trim(defaultOf(v.MapIndex(k)), "`"))
		}
		return "`{" + strings.Join(parts, ", ") + "}`"
	case reflect.Struct:
		return ""
	}
	return fmt.Sprintf("`%v`", v.Interface())
}

// model prints a duration the short way Prometheus and Alloy users write
// it: 1m rather than 1m0s.
func model(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
