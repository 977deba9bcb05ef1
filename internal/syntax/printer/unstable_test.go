package printer_test

import (
	"bytes"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// checkSettles checks that out, the formatting of src, formats to itself,
// as `alloy fmt` output does, except in the cases where Alloy's own layout
// is not a fixed point (alloyUnstable). There shoal prints what Alloy
// prints the first time, and the output must settle within three more
// passes, each keeping the tree and the comments.
func checkSettles(t testing.TB, name string, src, out []byte) {
	t.Helper()
	again, err := printer.Format(name, out)
	if err != nil {
		t.Fatalf("formatted output does not parse: %v\n--- input\n%s\n--- output\n%s", err, src, out)
	}
	if bytes.Equal(again, out) {
		return
	}
	if !alloyUnstable(src, out) {
		t.Fatalf("not a fixed point\n--- input\n%s\n--- once\n%s\n--- twice\n%s\n%s", src, out, again, lineDiff(string(again), string(out)))
	}
	prev := out
	for range 3 {
		checkRoundTrip(t, name, prev)
		if bytes.Equal(again, prev) {
			return
		}
		prev = again
		if again, err = printer.Format(name, prev); err != nil {
			t.Fatalf("formatting again: %v\n%s", err, prev)
		}
	}
	t.Fatalf("layout does not settle\n--- input\n%s\n--- last two\n%s\n---\n%s", src, prev, again)
}

// alloyUnstable reports whether formatting src to out is one of the cases
// where Alloy's layout is not a fixed point and shoal, printing what Alloy
// prints, is not either: formatting out again changes it. See joinsLines
// and commentAfterCloseParen.
func alloyUnstable(src, out []byte) bool {
	return joinsLines(src, out) || commentAfterCloseParen(src)
}

// commentAfterCloseParen reports whether src has a comment between the
// text before a `)` (of a call or a parenthesized expression) and the end
// of that `)`'s line, where the `)` sits on a later line than that text.
// Alloy estimates where such a `)` is from the text before it, so the
// comment ends up trailing `)` or on a line of its own after it, and the
// next `alloy fmt` moves it again, or adds a blank line before it.
func commentAfterCloseParen(src []byte) bool {
	f, err := parser.ParseFile("a.alloy", src)
	if err != nil {
		return false
	}
	type span struct{ after, line int }
	var spans []span
	ast.Inspect(f, func(n ast.Node) bool {
		var before, rparen token.Pos
		switch n := n.(type) {
		case *ast.CallExpr:
			before, rparen = n.LParenPos, n.RParenPos
			if len(n.Args) > 0 {
				before = ast.EndPos(n.Args[len(n.Args)-1])
			}
		case *ast.ParenExpr:
			before, rparen = ast.EndPos(n.Inner), n.RParenPos
		default:
			return true
		}
		if line(rparen) > line(before) {
			spans = append(spans, span{before.Offset(), line(rparen)})
		}
		return true
	})
	for _, g := range f.Comments {
		for _, c := range g {
			for _, s := range spans {
				if c.StartPos.Offset() > s.after && line(c.StartPos) <= s.line {
					return true
				}
			}
		}
	}
	return false
}

// joinsLines reports whether formatting src put on fewer lines a statement
// or object field value that Alloy's layout rules measure by its source
// lines: one that spans several lines in src but fewer in out (`a =` then a
// line break then `1`, an operator ending a line, `headers = {` then `}` on
// the next line). Alloy ends the `=` alignment run after such a statement
// (or field) as its source spans lines, and the next `alloy fmt`, seeing
// one line, does not: Alloy's layout is not a fixed point there, and shoal
// prints what Alloy prints. Every other output must be a fixed point.
func joinsLines(src, out []byte) bool {
	f1, err1 := parser.ParseFile("a.alloy", src)
	f2, err2 := parser.ParseFile("b.alloy", out)
	if err1 != nil || err2 != nil {
		return false
	}
	var a, b []ast.Node
	collect := func(list *[]ast.Node) func(ast.Node) bool {
		return func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AttributeStmt, *ast.BlockStmt:
				*list = append(*list, n)
			case *ast.ObjectField:
				*list = append(*list, n.Value)
			}
			return true
		}
	}
	ast.Inspect(f1, collect(&a))
	ast.Inspect(f2, collect(&b))
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if span(a[i]) > 1 && span(a[i]) != span(b[i]) {
			return true
		}
	}
	return false
}

func span(n ast.Node) int {
	return line(ast.EndPos(n)) - line(ast.StartPos(n)) + 1
}

func line(p token.Pos) int { return p.Position().Line }
