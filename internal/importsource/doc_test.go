package importsource

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/refdoc"
)

var updateDoc = flag.Bool("update", false, "rewrite the argument tables of docs/import-blocks.md from the code")

const docPath = "../../docs/import-blocks.md"

// TestDocTables keeps the argument tables of docs/import-blocks.md equal to
// what the code decodes: names, types, defaults, required.
func TestDocTables(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	out := string(doc)
	for _, kind := range Kinds {
		begin, end := "<!-- BEGIN "+kind+" arguments -->\n", "<!-- END "+kind+" arguments -->"
		i, j := strings.Index(out, begin), strings.Index(out, end)
		if i < 0 || j < i {
			t.Fatalf("%s has no %q ... %q section", docPath, begin, end)
		}
		var b bytes.Buffer
		refdoc.Block(&b, reflect.TypeOf(Arguments(kind)), "")
		out = out[:i+len(begin)] + "\n" + b.String() + out[j:]
	}
	if *updateDoc {
		if err := os.WriteFile(docPath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if out != string(doc) {
		t.Fatalf("the argument tables of %s are stale; run: go test ./internal/importsource -run TestDocTables -update", docPath)
	}
}
