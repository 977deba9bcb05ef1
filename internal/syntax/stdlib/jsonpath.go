package stdlib

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/theory/jsonpath"

	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// maxJSONPathLen bounds a JSONPath expression; a config has no use for a
// longer one and the bound keeps the parser's work small.
const maxJSONPathLen = 4096

// maxJSONPathWork bounds the nodes a path with several descendant segments
// may visit (the document's size to the power of their number).
const maxJSONPathWork = 1e7

// jsonPath is json_path(json, path): the values that a JSONPath expression
// selects in a JSON document, always as an array (empty when nothing
// matches). As in Alloy, the path may leave out the leading "$" (".key",
// "[0]"); filters take the RFC 9535 form, which includes Alloy's documented
// `[?(@.name == "x")]`. Whole numbers in the document stay integers.
func jsonPath(doc, path string) (value.Value, error) {
	if len(path) > maxJSONPathLen {
		return value.Null, fmt.Errorf("the JSONPath expression is %d bytes, more than the limit of %d", len(path), maxJSONPathLen)
	}
	p, err := jsonpath.Parse(rootedPath(path))
	if err != nil {
		return value.Null, err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return value.Null, err
	}
	if dec.More() {
		return value.Null, fmt.Errorf("invalid character after top-level value")
	}
	// Each descendant segment ("..") can multiply the nodes selected by
	// the size of the document, so that a short path over a short document
	// can take hours; a path with several is refused when the product is
	// beyond what any config needs.
	if d := strings.Count(path, ".."); d >= 2 {
		n := float64(countNodes(v))
		if math.Pow(n, float64(d)) > maxJSONPathWork {
			return value.Null, fmt.Errorf("the JSONPath expression has %d descendant segments over a document of %d values, too much work", d, int(n))
		}
	}
	out := []value.Value{}
	for _, n := range p.Select(v) {
		ev, err := fromPlain(n)
		if err != nil {
			return value.Null, err
		}
		out = append(out, ev)
	}
	return value.Array(out...), nil
}

// rootedPath adds the "$" that RFC 9535 requires and Alloy's JSONPath
// library does not: ".a" and "[0]" are relative to the document, and so is
// a bare "a.b".
func rootedPath(p string) string {
	t := strings.TrimLeft(p, " \t\r\n")
	switch {
	case t == "":
		return "$"
	case t[0] == '$':
		return t
	case t[0] == '.' || t[0] == '[':
		return "$" + t
	}
	return "$." + t
}

// countNodes returns the number of values in a decoded JSON document.
func countNodes(v any) int {
	n := 1
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			n += countNodes(e)
		}
	case map[string]any:
		for _, e := range v {
			n += countNodes(e)
		}
	}
	return n
}
