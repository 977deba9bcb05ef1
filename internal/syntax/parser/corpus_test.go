package parser_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/parser"
)

// TestValidCorpus parses every file of the shared valid corpus.
func TestValidCorpus(t *testing.T) {
	files, _ := filepath.Glob("../testdata/valid/*.alloy")
	if len(files) < 40 {
		t.Fatalf("valid corpus has %d files, want at least 40", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(name, src)
			if err != nil {
				t.Fatalf("valid file does not parse:\n%v", err)
			}
			if f == nil {
				t.Fatal("nil file")
			}
		})
	}
}
