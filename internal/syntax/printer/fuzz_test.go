package printer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

// FuzzPrintParse checks, for every input that parses, that printing it
// gives text that parses to the same tree with the same comments, and that
// formatting that text again changes nothing (or, where Alloy's own layout
// does not settle at once, settles: see checkSettles).
func FuzzPrintParse(f *testing.F) {
	for _, pattern := range []string{"../testdata/valid/*.alloy", "testdata/alloy/*.in", "testdata/alloy/*.expect",
		"testdata/real/*.alloy", "testdata/layout/*.alloy", "testdata/deviations/*.alloy"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if _, err := parser.ParseFile("fuzz.alloy", src); err != nil {
			return
		}
		checkRoundTrip(t, "fuzz.alloy", src)
		once, err := printer.Format("fuzz.alloy", src)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}
		checkSettles(t, "fuzz.alloy", src, once)
	})
}
