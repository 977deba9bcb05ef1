// Package ast declares the syntax tree of shoal's configuration language
// (Grafana Alloy's syntax): files, blocks, attributes and expressions, with
// the source position of every piece, and helpers to walk a tree and find a
// node's extent.
//
// It owns the shape of a parsed config. It does not scan, parse, print or
// evaluate: the parser builds these nodes, the printer writes them back out,
// and the vm gives them values.
package ast

import (
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// Node is any node of the tree.
type Node interface {
	astNode()
}

// Stmt is a statement in a Body: an *AttributeStmt or a *BlockStmt.
type Stmt interface {
	Node
	astStmt()
}

// Expr is an expression.
type Expr interface {
	Node
	astExpr()
}

// File is a parsed source file.
type File struct {
	Name     string         // file name given to the parser
	Body     Body           // top-level statements
	Comments []CommentGroup // every comment of the file, in source order
}

// Body is a list of statements, the content of a file or of a block.
type Body []Stmt

// Comment is one // or /* */ comment. Text includes the comment markers
// and, for // comments, excludes the trailing newline.
type Comment struct {
	StartPos token.Pos
	Text     string
}

// CommentGroup is a run of comments with no blank line or token between
// them.
type CommentGroup []*Comment

// Ident is an identifier and its position.
type Ident struct {
	Name    string
	NamePos token.Pos
}

// AttributeStmt is `name = value`.
type AttributeStmt struct {
	Name  *Ident
	Value Expr
}

// BlockStmt is `a.b.c "label" { body }`.
type BlockStmt struct {
	Name      []string  // name fragments, e.g. ["prometheus", "scrape"]
	NamePos   token.Pos // position of the first fragment
	Label     string    // the label without quotes; "" if none
	LabelPos  token.Pos // position of the label's opening quote; NoPos if none
	Body      Body
	LCurlyPos token.Pos
	RCurlyPos token.Pos
}

// GetBlockName returns the block's name with its fragments joined by dots,
// e.g. "prometheus.scrape".
func (b *BlockStmt) GetBlockName() string {
	n := 0
	for _, f := range b.Name {
		n += len(f) + 1
	}
	buf := make([]byte, 0, n)
	for i, f := range b.Name {
		if i > 0 {
			buf = append(buf, '.')
		}
		buf = append(buf, f...)
	}
	return string(buf)
}

// LiteralExpr is a constant: NUMBER, FLOAT, STRING, BOOL or NULL. Value is
// the literal's source text exactly as written: a STRING keeps its quotes
// (double quotes or backticks) and escapes, so `"a\n"` is 5 bytes. The vm
// unquotes it (strconv.Unquote accepts both forms).
type LiteralExpr struct {
	Kind     token.Token
	ValuePos token.Pos
	Value    string
}

// ArrayExpr is `[e1, e2, ...]`.
type ArrayExpr struct {
	Elements  []Expr
	LBrackPos token.Pos
	RBrackPos token.Pos
}

// ObjectExpr is `{ k1 = v1, "k 2" = v2, ... }`.
type ObjectExpr struct {
	Fields    []*ObjectField
	LCurlyPos token.Pos
	RCurlyPos token.Pos
}

// ObjectField is one `name = value` of an object. Name.Name is the key
// without quotes; Quoted says whether it was written as a string, and then
// Name.NamePos is the opening quote.
type ObjectField struct {
	Name   *Ident
	Quoted bool
	Value  Expr
}

// IdentifierExpr is a reference to a name, e.g. `foo` in `foo.bar`.
type IdentifierExpr struct {
	Ident *Ident
}

// AccessExpr is `value.name`.
type AccessExpr struct {
	Value Expr
	Name  *Ident
}

// IndexExpr is `value[index]`.
type IndexExpr struct {
	Value     Expr
	LBrackPos token.Pos
	Index     Expr
	RBrackPos token.Pos
}

// CallExpr is `value(args...)`.
type CallExpr struct {
	Value     Expr
	LParenPos token.Pos
	Args      []Expr
	RParenPos token.Pos
}

// UnaryExpr is `!value` or `-value`.
type UnaryExpr struct {
	Kind    token.Token
	KindPos token.Pos
	Value   Expr
}

// BinaryExpr is `left op right`.
type BinaryExpr struct {
	Kind    token.Token
	KindPos token.Pos
	Left    Expr
	Right   Expr
}

// ParenExpr is `(inner)`.
type ParenExpr struct {
	LParenPos token.Pos
	Inner     Expr
	RParenPos token.Pos
}

// BadExpr stands in for an expression the parser could not read; it only
// appears in trees returned together with an error.
type BadExpr struct {
	StartPos token.Pos
	EndPos   token.Pos // position just after the bad text
}

func (*File) astNode()           {}
func (Body) astNode()            {}
func (CommentGroup) astNode()    {}
func (*Comment) astNode()        {}
func (*Ident) astNode()          {}
func (*AttributeStmt) astNode()  {}
func (*BlockStmt) astNode()      {}
func (*ObjectField) astNode()    {}
func (*LiteralExpr) astNode()    {}
func (*ArrayExpr) astNode()      {}
func (*ObjectExpr) astNode()     {}
func (*IdentifierExpr) astNode() {}
func (*AccessExpr) astNode()     {}
func (*IndexExpr) astNode()      {}
func (*CallExpr) astNode()       {}
func (*UnaryExpr) astNode()      {}
func (*BinaryExpr) astNode()     {}
func (*ParenExpr) astNode()      {}
func (*BadExpr) astNode()        {}

func (*AttributeStmt) astStmt() {}
func (*BlockStmt) astStmt()     {}

func (*LiteralExpr) astExpr()    {}
func (*ArrayExpr) astExpr()      {}
func (*ObjectExpr) astExpr()     {}
func (*IdentifierExpr) astExpr() {}
func (*AccessExpr) astExpr()     {}
func (*IndexExpr) astExpr()      {}
func (*CallExpr) astExpr()       {}
func (*UnaryExpr) astExpr()      {}
func (*BinaryExpr) astExpr()     {}
func (*ParenExpr) astExpr()      {}
func (*BadExpr) astExpr()        {}
