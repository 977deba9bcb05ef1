package stdlib

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/theory/jsonpath"

	"github.com/shoal-dev/shoal/internal/syntax/value"
)

// maxJSONPathLen bounds a JSONPath expression; a config has no use for a
// longer one and the bound keeps the parser's work small.
const maxJSONPathLen = 4096

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
