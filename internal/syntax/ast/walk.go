package ast

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// A Visitor's Visit is called for each node by Walk. If it returns a non-nil
// visitor w, Walk visits each child of node with w, then calls w.Visit(nil).
type Visitor interface {
	Visit(node Node) (w Visitor)
}

// Walk traverses a tree in depth-first order, like go/ast.Walk. Comments
// are not visited.
func Walk(v Visitor, node Node) {
	if node == nil {
		return
	}
	if v = v.Visit(node); v == nil {
		return
	}
	switch n := node.(type) {
	case *File:
		Walk(v, n.Body)
	case Body:
		for _, s := range n {
			Walk(v, s)
		}
	case *AttributeStmt:
		Walk(v, n.Name)
		Walk(v, n.Value)
	case *BlockStmt:
		Walk(v, n.Body)
	case *ObjectField:
		Walk(v, n.Name)
		Walk(v, n.Value)
	case *ArrayExpr:
		for _, e := range n.Elements {
			Walk(v, e)
		}
	case *ObjectExpr:
		for _, f := range n.Fields {
			Walk(v, f)
		}
	case *IdentifierExpr:
		Walk(v, n.Ident)
	case *AccessExpr:
		Walk(v, n.Value)
		Walk(v, n.Name)
	case *IndexExpr:
		Walk(v, n.Value)
		Walk(v, n.Index)
	case *CallExpr:
		Walk(v, n.Value)
		for _, a := range n.Args {
			Walk(v, a)
		}
	case *UnaryExpr:
		Walk(v, n.Value)
	case *BinaryExpr:
		Walk(v, n.Left)
		Walk(v, n.Right)
	case *ParenExpr:
		Walk(v, n.Inner)
	case *Ident, *LiteralExpr, *BadExpr, CommentGroup, *Comment:
		// leaves
	default:
		panic(fmt.Sprintf("ast.Walk: unexpected node type %T", n))
	}
	v.Visit(nil)
}

type inspector func(Node) bool

func (f inspector) Visit(node Node) Visitor {
	if f(node) {
		return f
	}
	return nil
}

// Inspect traverses a tree in depth-first order, calling f for each node
// and then f(nil) after a node's children. If f returns false, the node's
// children are skipped.
func Inspect(node Node, f func(Node) bool) {
	Walk(inspector(f), node)
}

// StartPos returns the position of the first byte of node, or NoPos.
func StartPos(node Node) token.Pos {
	switch n := node.(type) {
	case *File:
		if len(n.Body) > 0 {
			return StartPos(n.Body)
		}
		return token.NoPos
	case Body:
		if len(n) == 0 {
			return token.NoPos
		}
		return StartPos(n[0])
	case CommentGroup:
		if len(n) == 0 {
			return token.NoPos
		}
		return n[0].StartPos
	case *Comment:
		return n.StartPos
	case *Ident:
		return n.NamePos
	case *AttributeStmt:
		return n.Name.NamePos
	case *BlockStmt:
		return n.NamePos
	case *ObjectField:
		return n.Name.NamePos
	case *LiteralExpr:
		return n.ValuePos
	case *ArrayExpr:
		return n.LBrackPos
	case *ObjectExpr:
		return n.LCurlyPos
	case *IdentifierExpr:
		return n.Ident.NamePos
	case *AccessExpr:
		return StartPos(n.Value)
	case *IndexExpr:
		return StartPos(n.Value)
	case *CallExpr:
		return StartPos(n.Value)
	case *UnaryExpr:
		return n.KindPos
	case *BinaryExpr:
		return StartPos(n.Left)
	case *ParenExpr:
		return n.LParenPos
	case *BadExpr:
		return n.StartPos
	case nil:
		return token.NoPos
	}
	panic(fmt.Sprintf("ast.StartPos: unexpected node type %T", node))
}

// EndPos returns the position of the last byte of node (not one past it),
// or NoPos. For a multi-byte final character it is that character's first
// byte. The end of an *Ident is computed from its name, so for the quoted
// key of an ObjectField (whose Name holds the unquoted text) it is only an
// estimate; ObjectField itself ends with its value and is exact.
func EndPos(node Node) token.Pos {
	switch n := node.(type) {
	case *File:
		return EndPos(n.Body)
	case Body:
		if len(n) == 0 {
			return token.NoPos
		}
		return EndPos(n[len(n)-1])
	case CommentGroup:
		if len(n) == 0 {
			return token.NoPos
		}
		return EndPos(n[len(n)-1])
	case *Comment:
		return endOfText(n.StartPos, n.Text)
	case *Ident:
		return endOfText(n.NamePos, n.Name)
	case *AttributeStmt:
		return EndPos(n.Value)
	case *BlockStmt:
		return n.RCurlyPos
	case *ObjectField:
		return EndPos(n.Value)
	case *LiteralExpr:
		return endOfText(n.ValuePos, n.Value)
	case *ArrayExpr:
		return n.RBrackPos
	case *ObjectExpr:
		return n.RCurlyPos
	case *IdentifierExpr:
		return EndPos(n.Ident)
	case *AccessExpr:
		return EndPos(n.Name)
	case *IndexExpr:
		return n.RBrackPos
	case *CallExpr:
		return n.RParenPos
	case *UnaryExpr:
		return EndPos(n.Value)
	case *BinaryExpr:
		return EndPos(n.Right)
	case *ParenExpr:
		return n.RParenPos
	case *BadExpr:
		if n.EndPos.Offset() > n.StartPos.Offset() {
			return n.EndPos.Add(-1)
		}
		return n.StartPos
	case nil:
		return token.NoPos
	}
	panic(fmt.Sprintf("ast.EndPos: unexpected node type %T", node))
}

// endOfText returns the position of the first byte of text's last
// character, given that text starts at start.
func endOfText(start token.Pos, text string) token.Pos {
	if !start.IsValid() || text == "" {
		return start
	}
	_, size := utf8.DecodeLastRuneInString(text)
	if size == 0 {
		size = 1
	}
	return start.Add(len(text) - size)
}

// Text returns the text of the group's comments joined by newlines.
func (g CommentGroup) Text() string {
	var b strings.Builder
	for i, c := range g {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(c.Text)
	}
	return b.String()
}
