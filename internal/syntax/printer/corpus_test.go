package printer_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

func validCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob("../testdata/valid/*.alloy")
	if len(files) < 40 {
		t.Fatalf("valid corpus has %d files, want at least 40", len(files))
	}
	out := make(map[string][]byte, len(files))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = src
	}
	return out
}

// TestFormatFixedPoint formats every valid file twice: the second pass must
// change nothing.
func TestFormatFixedPoint(t *testing.T) {
	for name, src := range validCorpus(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			once, err := printer.Format(name, src)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			twice, err := printer.Format(name, once)
			if err != nil {
				t.Fatalf("formatted output does not parse: %v\n%s", err, once)
			}
			if !bytes.Equal(once, twice) {
				t.Errorf("second format changed the output:\n%s\n--- first\n%s\n--- second\n%s",
					lineDiff(string(twice), string(once)), once, twice)
			}
		})
	}
}

// TestFormatKeepsTree checks that parse → print → parse gives the same tree,
// positions aside, and that no comment is lost.
func TestFormatKeepsTree(t *testing.T) {
	for name, src := range validCorpus(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			checkRoundTrip(t, name, src)
		})
	}
}

func checkRoundTrip(t testing.TB, name string, src []byte) {
	t.Helper()
	f1, err := parser.ParseFile(name, src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var buf bytes.Buffer
	if err := printer.Fprint(&buf, f1); err != nil {
		t.Fatalf("Fprint: %v", err)
	}
	f2, err := parser.ParseFile(name, buf.Bytes())
	if err != nil {
		t.Fatalf("printed output does not parse: %v\n--- input\n%s\n--- printed\n%s", err, src, buf.Bytes())
	}
	if d1, d2 := dump(f1), dump(f2); d1 != d2 {
		t.Fatalf("tree changed by printing:\n--- before\n%s\n--- after\n%s\n--- printed\n%s", d1, d2, buf.Bytes())
	}
	if c1, c2 := commentTexts(f1), commentTexts(f2); c1 != c2 {
		t.Fatalf("comments changed by printing:\n--- before\n%s\n--- after\n%s", c1, c2)
	}
}

func commentTexts(f *ast.File) string {
	var b strings.Builder
	for _, g := range f.Comments {
		for _, c := range g {
			b.WriteString(c.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// dump renders a tree without positions, for comparison.
func dump(n ast.Node) string {
	var b strings.Builder
	dumpNode(&b, n)
	return b.String()
}

func dumpNode(b *strings.Builder, n ast.Node) {
	switch n := n.(type) {
	case *ast.File:
		dumpNode(b, n.Body)
	case ast.Body:
		for _, s := range n {
			dumpNode(b, s)
			b.WriteString("\n")
		}
	case *ast.AttributeStmt:
		fmt.Fprintf(b, "attr %s = ", n.Name.Name)
		dumpNode(b, n.Value)
	case *ast.BlockStmt:
		fmt.Fprintf(b, "block %q %q {\n", n.Name, n.Label)
		dumpNode(b, n.Body)
		b.WriteString("}")
	case *ast.LiteralExpr:
		fmt.Fprintf(b, "%s(%s)", n.Kind, n.Value)
	case *ast.IdentifierExpr:
		fmt.Fprintf(b, "ident(%s)", n.Ident.Name)
	case *ast.AccessExpr:
		b.WriteString("access(")
		dumpNode(b, n.Value)
		fmt.Fprintf(b, ".%s)", n.Name.Name)
	case *ast.IndexExpr:
		b.WriteString("index(")
		dumpNode(b, n.Value)
		b.WriteString(", ")
		dumpNode(b, n.Index)
		b.WriteString(")")
	case *ast.CallExpr:
		b.WriteString("call(")
		dumpNode(b, n.Value)
		for _, a := range n.Args {
			b.WriteString(", ")
			dumpNode(b, a)
		}
		b.WriteString(")")
	case *ast.ArrayExpr:
		b.WriteString("array(")
		for i, e := range n.Elements {
			if i > 0 {
				b.WriteString(", ")
			}
			dumpNode(b, e)
		}
		b.WriteString(")")
	case *ast.ObjectExpr:
		b.WriteString("object(")
		for i, f := range n.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "%q quoted=%v: ", f.Name.Name, f.Quoted)
			dumpNode(b, f.Value)
		}
		b.WriteString(")")
	case *ast.UnaryExpr:
		fmt.Fprintf(b, "unary(%s ", n.Kind)
		dumpNode(b, n.Value)
		b.WriteString(")")
	case *ast.BinaryExpr:
		fmt.Fprintf(b, "binary(%s ", n.Kind)
		dumpNode(b, n.Left)
		b.WriteString(", ")
		dumpNode(b, n.Right)
		b.WriteString(")")
	case *ast.ParenExpr:
		b.WriteString("paren(")
		dumpNode(b, n.Inner)
		b.WriteString(")")
	default:
		fmt.Fprintf(b, "<%T>", n)
	}
}
