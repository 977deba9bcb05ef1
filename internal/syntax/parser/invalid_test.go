package parser_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata/invalid")

// TestInvalidCorpus parses every broken file of the shared invalid corpus
// and compares the errors, one `LINE:COL: message` per line, with its
// .golden file. Run with -update to regenerate the goldens after checking
// the new messages by eye.
func TestInvalidCorpus(t *testing.T) {
	files, _ := filepath.Glob("../testdata/invalid/*.alloy")
	if len(files) < 25 {
		t.Fatalf("invalid corpus has %d files, want at least 25", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			_, err = parser.ParseFile(filepath.Base(name), src)
			if err == nil {
				t.Fatal("broken file parsed without error")
			}
			ds := diag.From(err)
			if ds == nil {
				t.Fatalf("error is %T, not diag.Diagnostics", err)
			}
			var got bytes.Buffer
			for _, d := range ds {
				p := d.StartPos
				if p.Filename != filepath.Base(name) {
					t.Errorf("diagnostic names file %q, want %q", p.Filename, filepath.Base(name))
				}
				got.WriteString(strings.TrimPrefix(d.Error(), p.Filename+":"))
				got.WriteByte('\n')
			}
			golden := strings.TrimSuffix(name, ".alloy") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("errors differ from %s\n--- got\n%s--- want\n%s", golden, got.Bytes(), want)
			}
		})
	}
}
