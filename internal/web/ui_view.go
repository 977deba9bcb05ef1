package web

import (
	"fmt"
	"html"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/syntax/alloyjson"
	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// The UI renders a component's arguments, exports and debug info from the
// language's view of them (internal/syntax/value), following the same rules
// as the JSON API (internal/syntax/alloyjson): struct fields in declaration
// order, repeated blocks once per element, absent optional blocks left out.
// Secrets are capsules there, so they can only ever print as "(secret)".

// item is one attribute or block of a body.
type item struct {
	Name  string
	Label string
	// Value is the attribute's value; unset for blocks.
	Value value.Value
	// Block marks a block; Body holds its items.
	Block bool
	Body  []item
	// Table, when set, holds a repeated block whose elements have only
	// attributes, such as prometheus.scrape's `target` blocks in the debug
	// info; it is rendered as one table instead of one section per block.
	Table *blockTable
}

var (
	typeTime     = reflect.TypeFor[time.Time]()
	typeDuration = reflect.TypeFor[time.Duration]()
)

// viewBody returns the items of v, a tagged struct (or pointer to one), a
// map with string keys, or nil. With tables, repeated flat blocks become
// tables. A bare slice of tagged structs, which prometheus.scrape returns as
// debug info, is a list of blocks named as alloyjson.MarshalBody names them.
func viewBody(v any, tables bool) ([]item, error) {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) {
		if rv.IsNil() {
			return nil, nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil, nil
	}
	if (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && flatBlockType(rv.Type().Elem()) {
		name := blockNameOf(rv.Type().Elem())
		return []item{{Name: name, Block: true, Table: newBlockTable(name, rv)}}, nil
	}
	return bodyItems(rv, tables)
}

// blockNameOf names the blocks of a bare slice the way alloyjson does: by
// the elements' AlloyBlockName method, else alloyjson.DefaultBlockName.
func blockNameOf(t reflect.Type) string {
	type blockNamer interface{ AlloyBlockName() string }
	if t.Implements(reflect.TypeFor[blockNamer]()) {
		return reflect.Zero(t).Interface().(blockNamer).AlloyBlockName()
	}
	return alloyjson.DefaultBlockName
}

func bodyItems(rv reflect.Value, tables bool) ([]item, error) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, nil
		}
		rv = rv.Elem()
	}
	switch {
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		obj := value.FromReflect(rv)
		if obj.IsNull() {
			return nil, nil
		}
		var out []item
		for _, k := range obj.Keys() {
			e, _ := obj.Key(k)
			out = append(out, item{Name: k, Value: e})
		}
		return out, nil
	case rv.Kind() != reflect.Struct || !value.IsTagged(rv.Type()):
		return nil, fmt.Errorf("cannot show a %s as a body", rv.Type())
	}
	var out []item
	for _, f := range value.StructFields(rv.Type()) {
		fv := rv.FieldByIndex(f.Index)
		switch f.Kind {
		case value.FieldAttr:
			out = append(out, item{Name: f.Name, Value: value.FromReflect(fv)})
		case value.FieldBlock:
			if fv.Kind() == reflect.Slice || fv.Kind() == reflect.Array {
				if tables && flatBlockType(fv.Type().Elem()) {
					out = append(out, item{Name: f.Name, Block: true, Table: newBlockTable(f.Name, fv)})
					continue
				}
				for i := range fv.Len() {
					b, ok, err := blockItem(f.Name, fv.Index(i), tables)
					if err != nil {
						return nil, err
					}
					if ok {
						out = append(out, b)
					}
				}
				continue
			}
			b, ok, err := blockItem(f.Name, fv, tables)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, b)
			}
		}
	}
	return out, nil
}

func blockItem(name string, rv reflect.Value, tables bool) (item, bool, error) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return item{}, false, nil
		}
		rv = rv.Elem()
	}
	body, err := bodyItems(rv, tables)
	if err != nil {
		return item{}, false, fmt.Errorf("block %q: %w", name, err)
	}
	return item{Name: name, Label: value.FromReflect(rv).Label(), Block: true, Body: body}, true, nil
}

// flatBlockType reports whether blocks of type t hold attributes only, so
// that a list of them reads best as a table.
func flatBlockType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || !value.IsTagged(t) {
		return false
	}
	for _, f := range value.StructFields(t) {
		if f.Kind == value.FieldBlock {
			return false
		}
	}
	return true
}

// maxInlineElems bounds how much of a large value (ten thousand discovered
// targets in an export) a page shows; the JSON API has all of it.
const maxInlineElems = 100

// renderValue writes v as Alloy syntax, with classes for colouring. Every
// piece of text is escaped; secrets print as "(secret)".
func renderValue(v value.Value) string {
	var b strings.Builder
	writeValue(&b, v, 0)
	return b.String()
}

func writeValue(b *strings.Builder, v value.Value, depth int) {
	switch v.Type() {
	case value.TypeNull:
		b.WriteString(`<span class="v-null">null</span>`)
	case value.TypeNumber:
		b.WriteString(`<span class="v-num">`)
		b.WriteString(html.EscapeString(v.Number().String()))
		b.WriteString(`</span>`)
	case value.TypeBool:
		b.WriteString(`<span class="v-bool">`)
		b.WriteString(strconv.FormatBool(v.Bool()))
		b.WriteString(`</span>`)
	case value.TypeString:
		b.WriteString(`<span class="v-str">`)
		b.WriteString(html.EscapeString(strconv.Quote(v.Text())))
		b.WriteString(`</span>`)
	case value.TypeArray:
		n := v.Len()
		if n == 0 {
			b.WriteString("[]")
			return
		}
		if inlineable(v) {
			b.WriteString("[")
			for i := range n {
				if i > 0 {
					b.WriteString(", ")
				}
				writeValue(b, v.Index(i), depth+1)
			}
			b.WriteString("]")
			return
		}
		b.WriteString("[")
		for i := range min(n, maxInlineElems) {
			newline(b, depth+1)
			writeValue(b, v.Index(i), depth+1)
			b.WriteString(",")
		}
		if n > maxInlineElems {
			newline(b, depth+1)
			fmt.Fprintf(b, `<span class="v-more">// … and %d more; the JSON API lists them all</span>`, n-maxInlineElems)
		}
		newline(b, depth)
		b.WriteString("]")
	case value.TypeObject:
		keys := v.Keys()
		if len(keys) == 0 {
			b.WriteString("{}")
			return
		}
		if inlineObject(v, keys) {
			b.WriteString("{ ")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(", ")
				}
				e, _ := v.Key(k)
				b.WriteString(`<span class="v-key">`)
				b.WriteString(html.EscapeString(objectKey(k)))
				b.WriteString(`</span> = `)
				writeValue(b, e, depth+1)
			}
			b.WriteString(" }")
			return
		}
		b.WriteString("{")
		for i, k := range keys {
			if i == maxInlineElems {
				newline(b, depth+1)
				fmt.Fprintf(b, `<span class="v-more">// … and %d more keys</span>`, len(keys)-maxInlineElems)
				break
			}
			e, _ := v.Key(k)
			newline(b, depth+1)
			b.WriteString(`<span class="v-key">`)
			b.WriteString(html.EscapeString(objectKey(k)))
			b.WriteString(`</span> = `)
			writeValue(b, e, depth+1)
			b.WriteString(",")
		}
		newline(b, depth)
		b.WriteString("}")
	case value.TypeCapsule:
		if v.IsSecret() {
			b.WriteString(`<span class="v-secret">`)
		} else {
			b.WriteString(`<span class="v-capsule">`)
		}
		b.WriteString(html.EscapeString(v.Describe()))
		b.WriteString(`</span>`)
	default:
		b.WriteString(`<span class="v-capsule">`)
		b.WriteString(html.EscapeString(v.Describe()))
		b.WriteString(`</span>`)
	}
}

func newline(b *strings.Builder, depth int) {
	b.WriteString("\n")
	for range depth {
		b.WriteString("  ")
	}
}

// inlineable is true for short arrays of scalars.
func inlineable(v value.Value) bool {
	n := v.Len()
	if n > 8 {
		return false
	}
	width := 0
	for i := range n {
		e := v.Index(i)
		switch e.Type() {
		case value.TypeArray, value.TypeObject:
			return false
		case value.TypeString:
			width += len(e.Text()) + 4
		default:
			width += 8
		}
	}
	return width <= 80
}

// inlineObject is true for small objects of scalars, such as one target
// of a discovery's export, so that a list of them reads one per line.
func inlineObject(v value.Value, keys []string) bool {
	if len(keys) > 6 {
		return false
	}
	width := 4
	for _, k := range keys {
		e, _ := v.Key(k)
		switch e.Type() {
		case value.TypeArray, value.TypeObject:
			return false
		case value.TypeString:
			width += len(k) + len(e.Text()) + 7
		default:
			width += len(k) + 12
		}
	}
	return width <= 160
}

// foldSummary describes a value too long to show at once, or returns "".
func foldSummary(v value.Value) string {
	switch v.Type() {
	case value.TypeArray:
		if n := v.Len(); n > 10 {
			return fmt.Sprintf("array of %d elements", n)
		}
	case value.TypeObject:
		if n := v.Len(); n > 20 {
			return fmt.Sprintf("object with %d keys", n)
		}
	}
	return ""
}

// objectKey quotes a key unless it is an identifier.
func objectKey(k string) string {
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return strconv.Quote(k)
		}
	}
	if k == "" {
		return `""`
	}
	return k
}

// plainText renders v as one line of text for table cells, filtering and
// sorting: strings unquoted, objects as k="v" pairs in key order.
func plainText(v value.Value) string {
	switch v.Type() {
	case value.TypeNull:
		return ""
	case value.TypeString:
		return v.Text()
	case value.TypeNumber:
		return v.Number().String()
	case value.TypeBool:
		return strconv.FormatBool(v.Bool())
	case value.TypeArray:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = plainText(v.Index(i))
		}
		return strings.Join(parts, ", ")
	case value.TypeObject:
		keys := v.Keys()
		parts := make([]string, len(keys))
		for i, k := range keys {
			e, _ := v.Key(k)
			parts[i] = k + "=" + strconv.Quote(plainText(e))
		}
		return strings.Join(parts, " ")
	}
	return v.Describe()
}

// labelPair is one key of an object shown as a chip.
type labelPair struct{ Name, Value string }

// objectPairs lists the keys of an object with their values as plain text.
func objectPairs(v value.Value) []labelPair {
	if v.Type() != value.TypeObject {
		return nil
	}
	keys := v.Keys()
	out := make([]labelPair, len(keys))
	for i, k := range keys {
		e, _ := v.Key(k)
		out[i] = labelPair{k, plainText(e)}
	}
	return out
}

// stringMapPairs is objectPairs for a plain map, without going through
// value.
func stringMapPairs(m map[string]string) []labelPair {
	out := make([]labelPair, 0, len(m))
	for k, v := range m {
		out = append(out, labelPair{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
