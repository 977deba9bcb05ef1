package parser_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
)

func addCorpusSeeds(f *testing.F) {
	for _, pattern := range []string{"../testdata/valid/*.alloy", "../testdata/invalid/*.alloy", "testdata/alloy/*.alloy"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
}

// FuzzParser checks that parsing any input returns, that every error is a
// positioned diagnostic inside the input, at most one per line and in
// order, and that the tree's positions stay inside the input.
func FuzzParser(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := parser.ParseFile("fuzz.alloy", src)
		if file == nil {
			t.Fatal("nil file")
		}
		if err != nil {
			ds, ok := err.(diag.Diagnostics)
			if !ok || len(ds) == 0 {
				t.Fatalf("error %T %v is not a non-empty diag.Diagnostics", err, err)
			}
			lastLine := 0
			for _, d := range ds {
				p := d.StartPos
				if p.Filename != "fuzz.alloy" || p.Line < 1 || p.Column < 1 || p.Offset > len(src) {
					t.Fatalf("bad diagnostic position %+v for %q", p, d.Message)
				}
				if p.Line <= lastLine {
					t.Fatalf("diagnostics not one per line in order: %v", ds)
				}
				lastLine = p.Line
				if d.Message == "" {
					t.Fatal("empty message")
				}
			}
		}
		if err != nil {
			// After an error (invalid UTF-8 in a quoted key, say) a
			// node's end may be estimated from unquoted text.
			return
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if n == nil {
				return false
			}
			for _, pos := range []int{ast.StartPos(n).Offset(), ast.EndPos(n).Offset()} {
				if pos < 0 || pos > len(src) {
					t.Fatalf("%T at offset %d outside input of %d bytes", n, pos, len(src))
				}
			}
			return true
		})
	})
}
