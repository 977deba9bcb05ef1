package scanner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

func addCorpusSeeds(f *testing.F) {
	for _, pattern := range []string{"../testdata/valid/*.alloy", "../testdata/invalid/*.alloy"} {
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

// FuzzScanner checks that scanning any input terminates, keeps positions
// inside the input and in order, and returns literals exactly as written.
func FuzzScanner(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		file := token.NewFile("fuzz")
		errs := 0
		s := scanner.New(file, src, func(pos token.Pos, msg string) {
			errs++
			if off := pos.Offset(); off < 0 || off > len(src) {
				t.Fatalf("error position %d outside input of %d bytes: %s", off, len(src), msg)
			}
		}, scanner.IncludeComments)
		last := -1
		for n := 0; ; n++ {
			if n > 2*len(src)+2 {
				t.Fatal("too many tokens: scanner does not make progress")
			}
			pos, tk, lit := s.Scan()
			off := pos.Offset()
			if off < 0 || off > len(src) {
				t.Fatalf("token %s at offset %d outside input of %d bytes", tk, off, len(src))
			}
			if off < last {
				t.Fatalf("token %s at offset %d before the previous token at %d", tk, off, last)
			}
			last = off
			if tk == token.EOF {
				break
			}
			if tk.IsLiteral() || tk == token.COMMENT {
				if !strings.HasPrefix(string(src[off:]), lit) {
					t.Fatalf("%s %q at %d is not the source text", tk, lit, off)
				}
			}
			p := pos.Position()
			if p.Line < 1 || p.Column < 1 {
				t.Fatalf("bad position %v", p)
			}
		}
		if errs != s.ErrorCount {
			t.Fatalf("ErrorCount %d, handler called %d times", s.ErrorCount, errs)
		}
	})
}
