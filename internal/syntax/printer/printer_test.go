package printer_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// TestFormatRules pins the layout rules one by one. Each expectation is
// what Alloy's printer prints, except the cases marked "not as Alloy",
// where Alloy's output changes on every pass, changes a string or does not
// parse (see testdata/deviations). Each output must also settle and keep
// the tree.
func TestFormatRules(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"spaces around operators", "a=1+2*-3", "a = 1 + 2 * -3\n"},
		{"aligned run", "a = 1\nbbb = 2\n\ncc = 3", "a   = 1\nbbb = 2\n\ncc = 3\n"},
		{"a block gets a blank line before it", "a = 1\nb {}\nccc = 2", "a = 1\n\nb { }\nccc = 2\n"},
		{"a comment line breaks the run", "a = 1\n// x\nccc = 2", "a = 1\n// x\nccc = 2\n"},
		{"many blank lines become one", "a = 1\n\n\n\nb = 2\n\n\n", "a = 1\n\nb = 2\n"},
		{"no blank line at body edges", "b {\n\n a = 1\n\n}", "b {\n\ta = 1\n}\n"},
		{"one-line object has no inner spaces", "a = { x=1,y=\"z\" }", "a = {x = 1, y = \"z\"}\n"},
		{"quoted keys kept", `a = { "x-y" = 1 }`, "a = {\"x-y\" = 1}\n"},
		{"one-line objects align across lines", "a = {x = 1}\nbb = {yyy = 2}", "a  = {x   = 1}\nbb = {yyy = 2}\n"},
		{"empty things", "a = []\nb = {}\nc = f()\nd {\n}", "a = []\nb = {}\nc = f()\n\nd { }\n"},
		{"comment in an empty block", "b { /* use defaults */ }", "b { /* use defaults */ }\n"},
		{"own-line comment in an empty block", "b {\n// none\n}", "b {\n\t// none\n}\n"},
		{"multi-line list", "a = [1,\n2,\n]\nb = f(\n1)", "a = [1,\n\t2,\n]\nb = f(\n\t1)\n"},
		{"trailing comma dropped on one line", "a = [1, 2,]", "a = [1, 2]\n"},
		{"object fields aligned", "a = {\nx = 1,\nlong = 2,\n}", "a = {\n\tx    = 1,\n\tlong = 2,\n}\n"},
		{"trailing comments aligned", "a = 1 // x\nbbb = 22 // y", "a   = 1  // x\nbbb = 22 // y\n"},
		{"comment after equals", "a = // why\n  1", "a = // why\n1\n"},
		{"comment between operands", "a = 1 /* one */ + 2", "a = 1 /* one */ + 2\n"},
		{"comment glued inside an empty call moves out (not as Alloy)", "a = f(/* none */)", "a = f() /* none */\n"},
		{"own-line block comment before statement", "/* c */ a = 1", "/* c */ a = 1\n"},
		{"block comment keeps inner text", "b {\n    /* x\n  y */\n}", "b {\n\t/* x\n  y */\n}\n"},
		{"raw string kept verbatim", "a = `x\n  y`\nbb = 1", "a = `x\n  y`\nbb = 1\n"},
		{"raw string with a tab kept verbatim (not as Alloy)", "a = `x\ty`\nbb = 1", "a  = `x\ty`\nbb = 1\n"},
		{"binary expression joined", "a = 1 +\n2 +\n3", "a = 1 + 2 + 3\n"},
		{"double negation", "a = - -1", "a = --1\n"},
		{"number then dot keeps a space", "a = 1 .x", "a = 1 .x\n"},
		{"label and nested blocks", "x.y \"l\" {\ninner {\nz = 1\n}\n}", "x.y \"l\" {\n\tinner {\n\t\tz = 1\n\t}\n}\n"},
		{"value on the next line joins", "a =\n  1", "a = 1\n"},
		{"statement on the closing line", "b { a = 1 }", "b {\n\ta = 1\n}\n"},
		{"empty call over lines gets no comma (not as Alloy)", "a = f(\n)", "a = f(\n)\n"},
		{"CRLF input", "a = 1\r\nbb = 2\r\n", "a  = 1\nbb = 2\n"},
		{"empty file", "", "\n"},
		{"only comments", "\n\n// a\n\n\n// b\n\n", "// a\n\n// b\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := printer.Format("t.alloy", []byte(c.in))
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if string(got) != c.want {
				t.Errorf("got:\n%s\nwant:\n%s\n%s", got, c.want, lineDiff(string(got), c.want))
			}
			checkSettles(t, "t.alloy", []byte(c.in), got)
			checkRoundTrip(t, "t.alloy", []byte(c.in))
		})
	}
}

// TestFprintBuiltTree prints a tree built in code, without positions, as
// the vm or a config generator might.
func TestFprintBuiltTree(t *testing.T) {
	ident := func(s string) *ast.Ident { return &ast.Ident{Name: s} }
	lit := func(k token.Token, v string) *ast.LiteralExpr { return &ast.LiteralExpr{Kind: k, Value: v} }
	ref := &ast.AccessExpr{Value: &ast.AccessExpr{Value: &ast.IdentifierExpr{Ident: ident("discovery")}, Name: ident("file")}, Name: ident("targets")}
	sum := &ast.BinaryExpr{Kind: token.ADD, Left: lit(token.NUMBER, "1"), Right: lit(token.NUMBER, "2")}
	file := &ast.File{Body: ast.Body{
		&ast.BlockStmt{Name: []string{"prometheus", "scrape"}, Label: "x", Body: ast.Body{
			&ast.AttributeStmt{Name: ident("targets"), Value: ref},
			&ast.AttributeStmt{Name: ident("sample_limit"), Value: &ast.BinaryExpr{Kind: token.MUL, Left: sum, Right: lit(token.NUMBER, "3")}},
			&ast.AttributeStmt{Name: ident("params"), Value: &ast.ObjectExpr{Fields: []*ast.ObjectField{
				{Name: ident("module"), Value: &ast.ArrayExpr{Elements: []ast.Expr{lit(token.STRING, `"a"`)}}},
				{Name: ident("x y"), Value: lit(token.NULL, "null")},
			}}},
			&ast.AttributeStmt{Name: ident("neg"), Value: &ast.UnaryExpr{Kind: token.SUB, Value: sum}},
			&ast.AttributeStmt{Name: ident("pow"), Value: &ast.BinaryExpr{Kind: token.POW, Left: &ast.BinaryExpr{Kind: token.POW, Left: lit(token.NUMBER, "2"), Right: lit(token.NUMBER, "3")}, Right: lit(token.NUMBER, "2")}},
			&ast.AttributeStmt{Name: ident("call"), Value: &ast.CallExpr{Value: &ast.AccessExpr{Value: sum, Name: ident("f")}, Args: []ast.Expr{lit(token.BOOL, "true")}}},
		}},
	}}
	var b strings.Builder
	if err := printer.Fprint(&b, file); err != nil {
		t.Fatal(err)
	}
	want := `prometheus.scrape "x" {
	targets      = discovery.file.targets
	sample_limit = (1 + 2) * 3
	params       = {module = ["a"], "x y" = null}
	neg          = -(1 + 2)
	pow          = (2 ^ 3) ^ 2
	call         = (1 + 2).f(true)
}
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFprintExpressionAndErrors(t *testing.T) {
	var b strings.Builder
	if err := printer.Fprint(&b, &ast.ArrayExpr{Elements: []ast.Expr{&ast.LiteralExpr{Kind: token.NUMBER, Value: "1"}}}); err != nil || b.String() != "[1]" {
		t.Errorf("got %q, %v", b.String(), err)
	}
	if err := printer.Fprint(&b, &ast.AttributeStmt{Name: &ast.Ident{Name: "a"}, Value: &ast.BadExpr{}}); err == nil {
		t.Error("printing a BadExpr should fail")
	}
	if err := printer.Fprint(&b, &ast.AttributeStmt{Name: &ast.Ident{Name: "a"}}); err == nil {
		t.Error("printing a missing value should fail")
	}
	if _, err := printer.Format("bad.alloy", []byte("a = [1 2]")); err == nil || err.Error() != "bad.alloy:1:7: missing ',' in expression list" {
		t.Errorf("Format of a broken file: %v", err)
	}
}

func BenchmarkFormat(b *testing.B) {
	var src []byte
	for _, data := range validCorpus(b) {
		src = append(append(src, data...), '\n')
	}
	src = bytes.ReplaceAll(src, []byte("\r"), nil)
	if _, err := printer.Format("bench.alloy", src); err != nil {
		b.Skipf("concatenated corpus does not parse: %v", err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := printer.Format("bench.alloy", src); err != nil {
			b.Fatal(err)
		}
	}
}
