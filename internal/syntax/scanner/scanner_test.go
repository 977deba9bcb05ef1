package scanner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

type tok struct {
	pos string // line:col
	tok token.Token
	lit string
}

func scanAll(t testing.TB, src string, mode scanner.Mode) ([]tok, []string) {
	t.Helper()
	var errs []string
	file := token.NewFile("")
	s := scanner.New(file, []byte(src), func(pos token.Pos, msg string) {
		errs = append(errs, pos.String()+": "+msg)
	}, mode)
	var out []tok
	for i := 0; ; i++ {
		if i > len(src)+10 {
			t.Fatal("scanner does not reach EOF")
		}
		pos, tk, lit := s.Scan()
		if tk == token.EOF {
			return out, errs
		}
		out = append(out, tok{pos.String(), tk, lit})
	}
}

func TestScanTokens(t *testing.T) {
	src := "prometheus.scrape \"x\" {\n\ttargets = [1, 2.5, `raw`] // c\n}\n"
	got, errs := scanAll(t, src, scanner.IncludeComments)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []tok{
		{"1:1", token.IDENT, "prometheus"},
		{"1:11", token.DOT, ""},
		{"1:12", token.IDENT, "scrape"},
		{"1:19", token.STRING, `"x"`},
		{"1:23", token.LCURLY, ""},
		{"2:2", token.IDENT, "targets"},
		{"2:10", token.ASSIGN, ""},
		{"2:12", token.LBRACK, ""},
		{"2:13", token.NUMBER, "1"},
		{"2:14", token.COMMA, ""},
		{"2:16", token.FLOAT, "2.5"},
		{"2:19", token.COMMA, ""},
		{"2:21", token.STRING, "`raw`"},
		{"2:26", token.RBRACK, ""},
		// The terminator comes first, at the comment, as Go does.
		{"2:28", token.TERMINATOR, "\n"},
		{"2:28", token.COMMENT, "// c"},
		{"3:1", token.RCURLY, ""},
		{"3:2", token.TERMINATOR, "\n"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tokens:\n got %v\nwant %v", got, want)
	}
}

func TestScanOperators(t *testing.T) {
	src := "|| && ! = == != < <= > >= + - * / % ^ { } ( ) [ ] , ."
	got, errs := scanAll(t, src, 0)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	var b strings.Builder
	for _, tk := range got {
		b.WriteString(tk.tok.String() + " ")
	}
	if strings.TrimSpace(b.String()) != src {
		t.Errorf("got %q, want %q", b.String(), src)
	}
}

func TestKeywordsAndNumbers(t *testing.T) {
	for _, c := range []struct {
		src string
		tok token.Token
	}{
		{"true", token.BOOL}, {"false", token.BOOL}, {"null", token.NULL},
		{"truex", token.IDENT}, {"_x1", token.IDENT}, {"größe", token.IDENT},
		{"0", token.NUMBER}, {"0042", token.NUMBER}, {"1.5", token.FLOAT},
		{"1e9", token.FLOAT}, {"1E-9", token.FLOAT}, {"2.5e+3", token.FLOAT},
		{".5", token.FLOAT}, {".25e2", token.FLOAT}, // as in Alloy
	} {
		got, errs := scanAll(t, c.src, scanner.AvoidAutoTerminators)
		if len(errs) > 0 || len(got) != 1 || got[0].tok != c.tok || got[0].lit != c.src {
			t.Errorf("%q: got %v errs %v, want one %s", c.src, got, errs, c.tok)
		}
	}
}

// TestNumberThenDot keeps `1.foo` apart: a dot belongs to a number only
// when a digit follows it.
func TestNumberThenDot(t *testing.T) {
	got, _ := scanAll(t, "x[1].y", scanner.AvoidAutoTerminators)
	if len(got) != 6 || got[2].tok != token.NUMBER || got[4].tok != token.DOT {
		t.Errorf("got %v", got)
	}
}

func TestValidEscapes(t *testing.T) {
	src := `"\a\b\f\n\r\t\v\\\" \101 \x41 \u00e9 \U0001F41F"`
	got, errs := scanAll(t, src, scanner.AvoidAutoTerminators)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(got) != 1 || got[0].lit != src {
		t.Fatalf("got %v", got)
	}
}

func TestLexicalErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`"abc`, `1:1: string literal not terminated`},
		{"\"abc\ndef", `1:1: string literal not terminated`},
		{"`abc", `1:1: raw string literal not terminated`},
		{"/* abc", `1:1: comment not terminated`},
		{`'abc'`, `1:1: illegal single-quoted string; use double quotes ("...") or backticks (` + "`...`)"},
		{`"a\qb"`, `1:3: unknown escape sequence \q`},
		{`"\'"`, `1:2: unknown escape sequence \'`},
		{`"\x4"`, `1:2: invalid escape sequence \x4: \x needs 2 hex digits`},
		{`"\uDFFF"`, `1:2: escape sequence is invalid Unicode code point U+DFFF`},
		{`"\U00110000"`, `1:2: escape sequence is invalid Unicode code point U+110000`},
		{`"\400"`, `1:2: escape sequence is invalid Unicode code point U+0100 'Ā'`},
		{"a # b", `1:3: illegal character U+0023 '#'`},
		{"1e+", `1:4: exponent has no digits`},
		{"30s", `1:1: invalid number 30s: durations and sizes must be quoted strings, as in "30s"`},
		{"\ufeffa \ufeff", `1:6: illegal byte order mark`},
	} {
		_, errs := scanAll(t, c.src, 0)
		if len(errs) != 1 || errs[0] != c.want {
			t.Errorf("%q: errors %q, want [%q]", c.src, errs, c.want)
		}
	}
}

// TestTerminators checks where newlines end statements: after a token
// that can end one, never after an operator or opening bracket.
func TestTerminators(t *testing.T) {
	for _, c := range []struct {
		src   string
		terms int
	}{
		{"a\nb\n", 2},
		{"a =\n1\n", 1},
		{"[\n1,\n2\n]\n", 2},
		{"a +\nb", 1},         // EOF after b ends the statement
		{"a /* x\ny */ b", 2}, // a multi-line comment acts as a newline
		{"a /* x */ + b", 1},
		{"a // x\n// y\nb", 2},
		{"\n\n\n", 0},
		{"\"s\"\n`r`\ntrue\nnull\n1.5\n)\n]\n}\n", 8},
	} {
		got, _ := scanAll(t, c.src, 0)
		n := 0
		for _, tk := range got {
			if tk.tok == token.TERMINATOR {
				n++
			}
		}
		if n != c.terms {
			t.Errorf("%q: %d terminators, want %d (%v)", c.src, n, c.terms, got)
		}
	}
}

func TestPositionsAcrossCRLF(t *testing.T) {
	got, _ := scanAll(t, "a = 1\r\nb = 2\r\n", 0)
	if got[4].pos != "2:1" || got[4].lit != "b" {
		t.Errorf("got %v", got)
	}
}

// TestSkippedCommentsDoNotAllocate scans a line of many comments and
// operators without IncludeComments: it must allocate no more than a line
// of one.
func TestSkippedCommentsDoNotAllocate(t *testing.T) {
	scan := func(src []byte) func() {
		return func() {
			s := scanner.New(token.NewFile("x"), src, nil, 0)
			for {
				if _, tk, _ := s.Scan(); tk == token.EOF {
					return
				}
			}
		}
	}
	small := []byte("/* c */ + // end")
	large := []byte(strings.Repeat("/* comment */ + - ( ) [ ] { } , ", 1000) + "// end")
	a := testing.AllocsPerRun(20, scan(small))
	b := testing.AllocsPerRun(20, scan(large))
	if b > a {
		t.Errorf("scanning 1000 skipped comments and operators: %v allocs, want %v (as for one)", b, a)
	}
}

func BenchmarkScan(b *testing.B) {
	files, _ := filepath.Glob("../testdata/valid/*.alloy")
	var src []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		src = append(append(src, data...), '\n')
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		s := scanner.New(token.NewFile("x"), src, nil, 0)
		for {
			if _, tk, _ := s.Scan(); tk == token.EOF {
				break
			}
		}
	}
}
