package ast_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
)

func TestInspectVisitsEveryNode(t *testing.T) {
	src := `b "l" { x = f(a.b[0], -1, {k = [true]}) + (2) }`
	f, err := parser.ParseFile("t", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	ast.Inspect(f, func(n ast.Node) bool {
		if n != nil {
			kinds = append(kinds, strings.TrimPrefix(strings.TrimPrefix(fmt.Sprintf("%T", n), "*"), "ast."))
		}
		return true
	})
	want := "File Body BlockStmt Body AttributeStmt Ident BinaryExpr CallExpr IdentifierExpr Ident " +
		"IndexExpr AccessExpr IdentifierExpr Ident Ident LiteralExpr UnaryExpr LiteralExpr " +
		"ObjectExpr ObjectField Ident ArrayExpr LiteralExpr ParenExpr LiteralExpr"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("visited:\n%s\nwant:\n%s", got, want)
	}
}

func TestInspectCanPrune(t *testing.T) {
	f, _ := parser.ParseFile("t", []byte("a = [1, 2]\nb { c = 3 }\n"))
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		if node != nil {
			n++
		}
		_, isBlock := node.(*ast.BlockStmt)
		return !isBlock
	})
	if n != 8 { // File Body Attr Ident Array Lit Lit Block, and nothing inside the block
		t.Errorf("visited %d nodes", n)
	}
}

func TestExtent(t *testing.T) {
	src := "x = foo.bar(1, \"two\")[3]\ny = -z\nw = `a\nb`\n"
	f, err := parser.ParseFile("t", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"t:1:1-t:1:24", "t:2:1-t:2:6", "t:3:1-t:4:2"} {
		s := f.Body[i]
		if got := ast.StartPos(s).String() + "-" + ast.EndPos(s).String(); got != want {
			t.Errorf("statement %d spans %s, want %s", i, got, want)
		}
	}
}
