package parser_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// sexpr renders an expression with explicit grouping, to check precedence.
func sexpr(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.LiteralExpr:
		return e.Value
	case *ast.IdentifierExpr:
		return e.Ident.Name
	case *ast.BinaryExpr:
		return fmt.Sprintf("(%s %s %s)", sexpr(e.Left), e.Kind, sexpr(e.Right))
	case *ast.UnaryExpr:
		return fmt.Sprintf("(%s%s)", e.Kind, sexpr(e.Value))
	case *ast.ParenExpr:
		return sexpr(e.Inner)
	case *ast.AccessExpr:
		return sexpr(e.Value) + "." + e.Name.Name
	case *ast.IndexExpr:
		return sexpr(e.Value) + "[" + sexpr(e.Index) + "]"
	case *ast.CallExpr:
		args := make([]string, len(e.Args))
		for i, a := range e.Args {
			args[i] = sexpr(a)
		}
		return sexpr(e.Value) + "(" + strings.Join(args, ", ") + ")"
	case *ast.ArrayExpr:
		els := make([]string, len(e.Elements))
		for i, a := range e.Elements {
			els[i] = sexpr(a)
		}
		return "[" + strings.Join(els, ", ") + "]"
	case *ast.ObjectExpr:
		fs := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			fs[i] = fmt.Sprintf("%s(q=%v)=%s", f.Name.Name, f.Quoted, sexpr(f.Value))
		}
		return "{" + strings.Join(fs, ", ") + "}"
	}
	return fmt.Sprintf("<%T>", e)
}

func TestPrecedence(t *testing.T) {
	for src, want := range map[string]string{
		"1 + 2 * 3":                  "(1 + (2 * 3))",
		"1 * 2 + 3":                  "((1 * 2) + 3)",
		"1 - 2 - 3":                  "((1 - 2) - 3)",
		"2 ^ 3 ^ 2":                  "(2 ^ (3 ^ 2))",
		"2 * 3 ^ 2":                  "(2 * (3 ^ 2))",
		"-2 ^ 2":                     "((-2) ^ 2)",
		"!a || b && c":               "((!a) || (b && c))",
		"a == b || c != d":           "((a == b) || (c != d))",
		"a < b == c >= d":            "(((a < b) == c) >= d)",
		"1 + 2 < 3 * 4":              "((1 + 2) < (3 * 4))",
		"a % b / c":                  "((a % b) / c)",
		"(1 + 2) * 3":                "((1 + 2) * 3)",
		"-a.b[0](1)":                 "(-a.b[0](1))",
		"a.b.c":                      "a.b.c",
		"f(1, 2,)":                   "f(1, 2)",
		"[1, [2], {a = 1}]":          "[1, [2], {a(q=false)=1}]",
		`{"x y" = 1, z = 2,}`:        "{x y(q=true)=1, z(q=false)=2}",
		"a || b || c":                "((a || b) || c)",
		"!!a":                        "(!(!a))",
		"sys.env(\"A\") + \"/x\"":    `(sys.env("A") + "/x")`,
		"1 +\n 2":                    "(1 + 2)",
		"true && null == false":      "(true && (null == false))",
		"a[b][c]":                    "a[b][c]",
		"encoding.from_json(x).y[0]": "encoding.from_json(x).y[0]",
	} {
		e, err := parser.ParseExpression(src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if got := sexpr(e); got != want {
			t.Errorf("%q: got %s, want %s", src, got, want)
		}
	}
}

func TestParseExpressionErrors(t *testing.T) {
	for src, want := range map[string]string{
		"1 +":    "1:4: expected expression, got EOF",
		"a b":    "1:3: expected end of expression, got IDENT",
		"f(1":    "1:4: expected ), got EOF",
		"'x'":    `1:1: illegal single-quoted string; use double quotes ("...") or backticks (` + "`...`)",
		"{a 1}":  "1:4: expected =, got NUMBER",
		"[1,,2]": "1:4: expected expression, got ,",
	} {
		_, err := parser.ParseExpression(src)
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", src, err, want)
		}
	}
}

func TestFileShape(t *testing.T) {
	src := `// header
prometheus.scrape "default" {
	targets = []

	clustering {
		enabled = true
	}
}
logging { level = "info" }
`
	f, err := parser.ParseFile("x.alloy", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "x.alloy" || len(f.Body) != 2 || len(f.Comments) != 1 {
		t.Fatalf("got name %q, %d statements, %d comment groups", f.Name, len(f.Body), len(f.Comments))
	}
	b := f.Body[0].(*ast.BlockStmt)
	if b.GetBlockName() != "prometheus.scrape" || b.Label != "default" {
		t.Errorf("block %q label %q", b.GetBlockName(), b.Label)
	}
	for what, pos := range map[string]struct {
		p    token.Pos
		want string
	}{
		"name":    {b.NamePos, "x.alloy:2:1"},
		"label":   {b.LabelPos, "x.alloy:2:19"},
		"lcurly":  {b.LCurlyPos, "x.alloy:2:29"},
		"rcurly":  {b.RCurlyPos, "x.alloy:8:1"},
		"end":     {ast.EndPos(b), "x.alloy:8:1"},
		"attr":    {ast.StartPos(b.Body[0]), "x.alloy:3:2"},
		"attrEnd": {ast.EndPos(b.Body[0]), "x.alloy:3:13"},
	} {
		if got := pos.p.String(); got != pos.want {
			t.Errorf("%s at %s, want %s", what, got, pos.want)
		}
	}
	inner := b.Body[1].(*ast.BlockStmt)
	attr := inner.Body[0].(*ast.AttributeStmt)
	if attr.Name.Name != "enabled" || attr.Value.(*ast.LiteralExpr).Kind != token.BOOL {
		t.Errorf("inner attribute %+v", attr)
	}
	if f.Comments[0][0].Text != "// header" {
		t.Errorf("comment %q", f.Comments[0][0].Text)
	}
}

func TestCommentGroups(t *testing.T) {
	src := "// a\n// b\n\n// c\nx = 1 // d\n/* e */ /* f */\n"
	f, err := parser.ParseFile("", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, g := range f.Comments {
		groups = append(groups, g.Text())
	}
	want := []string{"// a\n// b", "// c", "// d\n/* e */\n/* f */"}
	if fmt.Sprintf("%q", groups) != fmt.Sprintf("%q", want) {
		t.Errorf("groups %q, want %q", groups, want)
	}
}

// TestAllErrorsReported checks that the parser goes on after an error and
// reports the later ones, each at its own line.
func TestAllErrorsReported(t *testing.T) {
	src := "a = [1 2]\nb = 'x'\nblock {\n\tc = \n}\nd = \"\\q\"\ne = 1\n"
	_, err := parser.ParseFile("f.alloy", []byte(src))
	ds := diag.From(err)
	var got []string
	for _, d := range ds {
		got = append(got, d.Error())
	}
	want := []string{
		"f.alloy:1:7: missing ',' in expression list",
		`f.alloy:2:5: illegal single-quoted string; use double quotes ("...") or backticks (` + "`...`)",
		"f.alloy:5:1: expected expression, got }",
		`f.alloy:6:6: unknown escape sequence \q`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasSuffix(err.Error(), "(and 3 more diagnostics)") {
		t.Errorf("Error() = %q", err.Error())
	}
}

// BenchmarkParse5000Lines parses a generated 5,000-line config of the kind
// a large fleet runs: discovery, relabeling, clustered scrapes, remote
// write with auth and queue settings, and comments.
func BenchmarkParse5000Lines(b *testing.B) {
	src := generateConfig(5000)
	if n := strings.Count(string(src), "\n"); n < 5000 {
		b.Fatalf("generated %d lines", n)
	}
	if _, err := parser.ParseFile("bench.alloy", src); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parser.ParseFile("bench.alloy", src); err != nil {
			b.Fatal(err)
		}
	}
}

func generateConfig(lines int) []byte {
	var b strings.Builder
	b.WriteString("logging {\n\tlevel  = \"info\"\n\tformat = \"logfmt\"\n}\n\n")
	for i := 0; strings.Count(b.String(), "\n") < lines; i++ {
		fmt.Fprintf(&b, `// Team %[1]d: service discovery, relabeling and scraping.
discovery.kubernetes "team_%[1]d" {
	role = "pod"

	namespaces {
		names = ["team-%[1]d", "team-%[1]d-canary"]
	}
}

discovery.relabel "team_%[1]d" {
	targets = discovery.kubernetes.team_%[1]d.targets

	rule {
		source_labels = ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
		regex         = "true"
		action        = "keep"
	}

	rule {
		source_labels = ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"]
		regex         = "([^:]+)(?::\\d+)?;(\\d+)"
		replacement   = "$1:$2"
		target_label  = "__address__"
	}
}

prometheus.scrape "team_%[1]d" {
	targets         = array.concat(discovery.relabel.team_%[1]d.output, [{"__address__" = "10.0.%[2]d.%[3]d:9100", "team" = "t%[1]d"}])
	forward_to      = [prometheus.relabel.team_%[1]d.receiver]
	scrape_interval = "15s"
	scrape_timeout  = "10s"
	sample_limit    = %[1]d * 1000 + 500

	clustering {
		enabled = true
	}
}

prometheus.relabel "team_%[1]d" {
	forward_to = [prometheus.remote_write.team_%[1]d.receiver]

	rule {
		source_labels = ["__name__"]
		regex         = "go_gc_.*|process_.*"
		action        = "drop"
	}
}

prometheus.remote_write "team_%[1]d" {
	external_labels = {
		cluster = "eu-west-1",
		team    = "t%[1]d",
	}

	endpoint {
		url            = "https://mimir.example.com/api/v1/push"
		remote_timeout = "30s"
		headers        = {"X-Scope-OrgID" = "team-%[1]d"}

		basic_auth {
			username = "team-%[1]d"
			password = sys.env("MIMIR_PASSWORD_%[1]d")
		}

		queue_config {
			capacity             = 10000
			max_samples_per_send = 2000
			batch_send_deadline  = "5s"
		}
	}
}

`, i, i%256, (i*7)%256)
	}
	return []byte(b.String())
}
