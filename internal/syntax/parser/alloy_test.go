package parser_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// TestAlloyValidFiles parses Alloy's own valid test files: none may fail.
func TestAlloyValidFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/alloy/valid/*.alloy")
	if len(files) == 0 {
		t.Fatal("no files in testdata/alloy/valid")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := parser.ParseFile(name, src); err != nil {
				t.Fatalf("valid file does not parse: %v", err)
			}
		})
	}
}

// TestAlloyErrorFiles runs Alloy's error test files: every /* ERROR "rx" */
// must be reported at its position with a matching message, and no other
// error may be reported.
func TestAlloyErrorFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/alloy/*.alloy")
	if len(files) == 0 {
		t.Fatal("no files in testdata/alloy")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			checkExpectedErrors(t, name, src)
		})
	}
}

var errorComment = regexp.MustCompile(`^/\* ERROR (HERE )?"(.*)" \*/$`)

type expectedError struct {
	pos token.Position
	rx  *regexp.Regexp
}

// expectedErrors reads the ERROR comments of src. An error is expected at
// the last token before the comment (comments and terminators aside), or
// right after it for ERROR HERE.
func expectedErrors(t *testing.T, filename string, src []byte) []expectedError {
	t.Helper()
	file := token.NewFile(filename)
	s := scanner.New(file, src, nil, scanner.IncludeComments)
	var (
		want    []expectedError
		lastPos token.Pos
		lastTok token.Token
		lastLit string
	)
	for {
		pos, tok, lit := s.Scan()
		switch tok {
		case token.EOF:
			return want
		case token.TERMINATOR:
			continue
		case token.COMMENT:
			m := errorComment.FindStringSubmatch(lit)
			if m == nil {
				continue
			}
			if !lastPos.IsValid() {
				t.Fatalf("%s: ERROR comment before any token", pos)
			}
			at := lastPos
			if m[1] != "" {
				n := len(lastTok.String())
				if lastTok.IsLiteral() {
					n = len(lastLit)
				}
				at = at.Add(n)
			}
			rx, err := regexp.Compile(m[2])
			if err != nil {
				t.Fatalf("%s: bad regexp %q: %v", pos, m[2], err)
			}
			want = append(want, expectedError{pos: at.Position(), rx: rx})
		default:
			lastPos, lastTok, lastLit = pos, tok, lit
		}
	}
}

func checkExpectedErrors(t *testing.T, filename string, src []byte) {
	t.Helper()
	want := expectedErrors(t, filename, src)
	_, err := parser.ParseFile(filename, src)
	got := diag.From(err)
	if err != nil && got == nil {
		t.Fatalf("error is not diag.Diagnostics: %T %v", err, err)
	}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, d := range got {
			if !used[i] && d.StartPos.Line == w.pos.Line && d.StartPos.Column == w.pos.Column && w.rx.MatchString(d.Message) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing error at %s matching %q; got:\n%s", w.pos, w.rx, listDiags(got))
		}
	}
	for i, d := range got {
		if !used[i] {
			t.Errorf("unexpected error %s", d.Error())
		}
	}
}

func listDiags(ds diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString("\t" + d.Error() + "\n")
	}
	if b.Len() == 0 {
		return "\t(none)\n"
	}
	return b.String()
}
