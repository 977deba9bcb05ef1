// Package parser builds the syntax tree of shoal's configuration language
// (Grafana Alloy's syntax) from source text.
//
// It owns the grammar: blocks with dotted names and an optional label,
// attributes, and expressions with Alloy's operator precedence. It reports
// every syntax error it can find in one pass, recovering after each, as
// diag.Diagnostics with file:line:col positions. It does not decide whether
// a block or attribute means anything, nor evaluate expressions: that is the
// vm's job.
package parser

import (
	"fmt"
	"strconv"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// ParseFile parses a whole config file. The returned error, if not nil, is a
// diag.Diagnostics holding every syntax error found, in source order and at
// most one per line (the first reported, usually the cause of the rest). The
// returned file is never nil; after errors it holds what could be read.
func ParseFile(filename string, src []byte) (*ast.File, error) {
	p := newParser(filename, src)
	body := p.parseBody(token.EOF)
	if p.tok != token.EOF {
		p.errorExpected("end of file")
	}
	p.endCommentGroup()
	f := &ast.File{Name: filename, Body: body, Comments: p.comments}
	return f, p.result()
}

// ParseExpression parses a single expression, such as `sys.env("HOME")`.
// Positions in errors are line:col within src.
func ParseExpression(src string) (ast.Expr, error) {
	p := newParser("", []byte(src))
	e := p.parseExpr()
	if p.tok == token.TERMINATOR {
		p.next()
	}
	if p.tok != token.EOF {
		p.errorExpected("end of expression")
	}
	return e, p.result()
}

type parser struct {
	file    *token.File
	scanner *scanner.Scanner
	diags   diag.Diagnostics
	errLine map[int]bool // lines that already have an error

	comments      []ast.CommentGroup
	group         ast.CommentGroup // comment group being collected
	groupEndLine  int
	tokSinceGroup bool // a token came after the last comment

	pos     token.Pos   // current token's position
	tok     token.Token // current token
	lit     string      // current token's text, for literals
	prevEnd token.Pos   // just after the last token that was not a terminator
}

func newParser(filename string, src []byte) *parser {
	p := &parser{file: token.NewFile(filename)}
	p.scanner = scanner.New(p.file, src, func(pos token.Pos, msg string) {
		p.errorAt(pos, msg)
	}, scanner.IncludeComments)
	p.next()
	return p
}

func (p *parser) result() error {
	if len(p.diags) == 0 {
		return nil
	}
	p.diags.Sort()
	return p.diags
}

// next advances to the next token that is not a comment, collecting
// comments into groups on the way.
func (p *parser) next() {
	if p.tok != token.TERMINATOR && p.pos.IsValid() {
		p.prevEnd = p.pos.Add(p.tokenLen())
	}
	for {
		p.pos, p.tok, p.lit = p.scanner.Scan()
		if p.tok != token.COMMENT {
			break
		}
		p.addComment(p.pos, p.lit)
	}
	if p.tok != token.TERMINATOR && p.tok != token.EOF {
		p.tokSinceGroup = true
	}
}

// tokenLen is the length of the current token's text.
func (p *parser) tokenLen() int {
	if p.tok.IsLiteral() || p.tok == token.ILLEGAL {
		return len(p.lit)
	}
	if p.tok.IsOperator() {
		return len(p.tok.String())
	}
	return 0
}

// addComment adds a comment to the current group, or starts a new group when
// a blank line or a token separates it from the previous comment.
func (p *parser) addComment(pos token.Pos, text string) {
	line := pos.Position().Line
	if len(p.group) > 0 && (p.tokSinceGroup || line > p.groupEndLine+1) {
		p.endCommentGroup()
	}
	p.group = append(p.group, &ast.Comment{StartPos: pos, Text: text})
	p.groupEndLine = line
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			p.groupEndLine++
		}
	}
	p.tokSinceGroup = false
}

func (p *parser) endCommentGroup() {
	if len(p.group) > 0 {
		p.comments = append(p.comments, p.group)
		p.group = nil
	}
}

// errorAt records an error at pos, unless the line already has one: later
// errors on a line are almost always consequences of the first.
func (p *parser) errorAt(pos token.Pos, msg string) {
	p.errorSpan(pos, pos, msg)
}

// errorSpan records an error for the source from pos to end (inclusive).
func (p *parser) errorSpan(pos, end token.Pos, msg string) {
	position := pos.Position()
	if p.errLine == nil {
		p.errLine = make(map[int]bool)
	}
	if p.errLine[position.Line] {
		return
	}
	p.errLine[position.Line] = true
	p.diags.Add(diag.Diagnostic{
		Severity: diag.SeverityLevelError,
		StartPos: position,
		EndPos:   end.Position(),
		Message:  msg,
	})
}

// errorf records an error spanning the current token.
func (p *parser) errorf(format string, args ...any) {
	p.errorSpan(p.pos, p.pos.Add(max(p.tokenLen()-1, 0)), fmt.Sprintf(format, args...))
}

// describe names the current token for a message: "newline" and "EOF"
// rather than TERMINATOR.
func (p *parser) describe() string {
	if p.tok == token.TERMINATOR {
		if p.lit == "" {
			return "EOF"
		}
		return "newline"
	}
	return p.tok.String()
}

func (p *parser) errorExpected(what string) {
	p.errorf("expected %s, got %s", what, p.describe())
}

// expect consumes tok and returns its position, or reports an error and
// consumes nothing.
func (p *parser) expect(tok token.Token) (token.Pos, bool) {
	pos := p.pos
	if p.tok != tok {
		p.errorExpected(tok.String())
		return pos, false
	}
	p.next()
	return pos, true
}

// skipStatement skips to the end of the current statement: the next
// terminator outside brackets, or an unmatched } that closes the enclosing
// block (left for the caller when until is RCURLY).
func (p *parser) skipStatement(until token.Token) {
	depth := 0
	for {
		switch p.tok {
		case token.EOF:
			return
		case token.TERMINATOR:
			if depth == 0 {
				return
			}
		case token.LCURLY, token.LBRACK, token.LPAREN:
			depth++
		case token.RCURLY, token.RBRACK, token.RPAREN:
			if depth == 0 && p.tok == until {
				return
			}
			if depth > 0 {
				depth--
			}
		}
		p.next()
	}
}

// parseBody parses statements until the until token (RCURLY or EOF), which
// it does not consume.
//
//	Body = [ Statement { terminator Statement } ] .
func (p *parser) parseBody(until token.Token) ast.Body {
	var body ast.Body
	for p.tok != until && p.tok != token.EOF {
		if p.tok == token.TERMINATOR {
			p.next()
			continue
		}
		if stmt := p.parseStatement(until); stmt != nil {
			body = append(body, stmt)
		}
		switch p.tok {
		case token.TERMINATOR:
			p.next()
		case until, token.EOF:
		default:
			p.errorExpected("newline")
			p.skipStatement(until)
		}
	}
	return body
}

// parseStatement parses an attribute or a block. On an error it skips the
// statement and returns nil.
//
//	Statement = Attribute | Block .
//	Attribute = identifier "=" Expression .
//	Block     = identifier { "." identifier } [ string ] "{" Body "}" .
func (p *parser) parseStatement(until token.Token) ast.Stmt {
	if p.tok != token.IDENT {
		p.errorf("expected attribute or block, got %s", p.describe())
		if p.tok != until {
			p.next() // make progress past the stray token
		}
		p.skipStatement(until)
		return nil
	}

	namePos := p.pos
	name := []string{p.lit}
	p.next()
	for p.tok == token.DOT {
		p.next()
		if p.tok != token.IDENT {
			p.errorExpected("IDENT")
			p.skipStatement(until)
			return nil
		}
		name = append(name, p.lit)
		p.next()
	}

	var label string
	var labelPos token.Pos
	switch p.tok {
	case token.IDENT:
		// A bare word where a label belongs; take it as the label so the
		// block body still parses.
		p.errorExpected("block label")
		label, labelPos = p.lit, p.pos
		p.next()
	case token.STRING:
		label, labelPos = p.parseLabel(), p.pos
		p.next()
	}

	switch p.tok {
	case token.ASSIGN:
		p.next()
		if len(name) > 1 {
			p.errorAt(namePos, `attribute names may only consist of a single identifier with no "."`)
		} else if labelPos.IsValid() {
			p.errorAt(labelPos, "attribute names may not have labels")
		}
		return &ast.AttributeStmt{
			Name:  &ast.Ident{Name: name[0], NamePos: namePos},
			Value: p.parseAttributeValue(until),
		}

	case token.LCURLY:
		block := &ast.BlockStmt{Name: name, NamePos: namePos, Label: label, LabelPos: labelPos}
		block.LCurlyPos = p.pos
		p.next()
		block.Body = p.parseBody(token.RCURLY)
		if p.tok != token.RCURLY {
			open := block.NamePos.Position()
			p.errorf("expected }, got %s: block %s opened at %d:%d is not closed",
				p.describe(), blockTitle(block), open.Line, open.Column)
			block.RCurlyPos = p.pos
			return block
		}
		block.RCurlyPos = p.pos
		p.next()
		return block

	default:
		if len(name) == 1 && !labelPos.IsValid() {
			p.errorExpected("= or {")
		} else {
			p.errorExpected("{")
		}
		p.skipStatement(until)
		return nil
	}
}

func blockTitle(b *ast.BlockStmt) string {
	s := b.GetBlockName()
	if b.LabelPos.IsValid() {
		s += " " + strconv.Quote(b.Label)
	}
	return s
}

// parseLabel checks the block label at the current STRING token and returns
// its value.
func (p *parser) parseLabel() string {
	lit := p.lit
	if len(lit) > 0 && lit[0] != '"' {
		p.errorf("expected block label to be a double quoted string, but got %q", lit)
	}
	label, err := strconv.Unquote(lit)
	if err != nil {
		// The scanner has reported why; keep the text for the tree.
		return lit
	}
	if !scanner.IsIdentifier(label) && token.Lookup(label) == token.IDENT {
		p.errorf("expected block label to be a valid identifier, but got %q", label)
	}
	return label
}

// parseAttributeValue parses the expression after "=", and catches a block
// written where a value belongs (`x = prometheus.remote_write "a" { ... }`),
// consuming that block so that its content raises no further errors.
func (p *parser) parseAttributeValue(until token.Token) ast.Expr {
	value := p.parseExpr()
	if (p.tok != token.STRING && p.tok != token.LCURLY) || !isNameChain(value) {
		return value
	}
	start := ast.StartPos(value)
	if p.tok == token.STRING {
		p.next()
		if p.tok != token.LCURLY {
			p.errorExpected("{")
			p.skipStatement(until)
			return &ast.BadExpr{StartPos: start, EndPos: p.prevEnd}
		}
	}
	p.errorAt(start, "cannot use a block as an expression")
	p.next() // {
	p.parseBody(token.RCURLY)
	if p.tok == token.RCURLY {
		p.next()
	}
	return &ast.BadExpr{StartPos: start, EndPos: p.prevEnd}
}

// isNameChain reports whether e is `a` or `a.b.c`, the shape of a block
// name.
func isNameChain(e ast.Expr) bool {
	for {
		switch x := e.(type) {
		case *ast.IdentifierExpr:
			return true
		case *ast.AccessExpr:
			e = x.Value
		default:
			return false
		}
	}
}

// parseExpr parses an expression.
//
//	Expression = BinaryExpr .
func (p *parser) parseExpr() ast.Expr {
	return p.parseBinaryExpr(1)
}

// parseBinaryExpr parses operators of precedence minPrec and above by
// precedence climbing. ^ is right-associative.
func (p *parser) parseBinaryExpr(minPrec int) ast.Expr {
	left := p.parseUnaryExpr()
	for {
		op, opPos := p.tok, p.pos
		prec := op.BinaryPrecedence()
		if prec < minPrec || prec == token.LowestPrec {
			return left
		}
		p.next()
		next := prec + 1
		if op.RightAssociative() {
			next = prec
		}
		right := p.parseBinaryExpr(next)
		left = &ast.BinaryExpr{Kind: op, KindPos: opPos, Left: left, Right: right}
	}
}

// parseUnaryExpr parses prefix operators.
//
//	UnaryExpr = ( "!" | "-" ) UnaryExpr | PostfixExpr .
func (p *parser) parseUnaryExpr() ast.Expr {
	if p.tok.IsUnary() {
		op, opPos := p.tok, p.pos
		p.next()
		return &ast.UnaryExpr{Kind: op, KindPos: opPos, Value: p.parseUnaryExpr()}
	}
	return p.parsePostfixExpr()
}

// parsePostfixExpr parses an operand followed by field accesses, indexes
// and calls.
//
//	PostfixExpr = Operand { "." identifier | "[" Expression "]" | "(" [ ExpressionList ] ")" } .
func (p *parser) parsePostfixExpr() ast.Expr {
	x := p.parseOperand()
	for {
		switch p.tok {
		case token.DOT:
			p.next()
			if p.tok != token.IDENT {
				p.errorExpected("IDENT")
				bad := &ast.BadExpr{StartPos: ast.StartPos(x), EndPos: p.pos}
				if p.tok.IsLiteral() {
					p.next()
					bad.EndPos = p.prevEnd
				}
				return bad
			}
			x = &ast.AccessExpr{Value: x, Name: &ast.Ident{Name: p.lit, NamePos: p.pos}}
			p.next()

		case token.LBRACK:
			ie := &ast.IndexExpr{Value: x, LBrackPos: p.pos}
			p.next()
			ie.Index = p.parseExpr()
			ie.RBrackPos = p.pos
			if _, ok := p.expect(token.RBRACK); !ok {
				return ie
			}
			x = ie

		case token.LPAREN:
			ce := &ast.CallExpr{Value: x, LParenPos: p.pos}
			p.next()
			ce.Args = p.parseExprList(token.RPAREN, "argument list")
			ce.RParenPos = p.pos
			if _, ok := p.expect(token.RPAREN); !ok {
				return ce
			}
			x = ce

		default:
			return x
		}
	}
}

// parseOperand parses an identifier, literal, parenthesised expression,
// array or object. On an error it reports it and returns a BadExpr without
// consuming anything.
//
//	Operand = identifier | literal | "(" Expression ")" | Array | Object .
func (p *parser) parseOperand() ast.Expr {
	switch p.tok {
	case token.IDENT:
		x := &ast.IdentifierExpr{Ident: &ast.Ident{Name: p.lit, NamePos: p.pos}}
		p.next()
		return x

	case token.NUMBER, token.FLOAT, token.STRING, token.BOOL, token.NULL:
		x := &ast.LiteralExpr{Kind: p.tok, ValuePos: p.pos, Value: p.lit}
		p.next()
		return x

	case token.LPAREN:
		pe := &ast.ParenExpr{LParenPos: p.pos}
		p.next()
		pe.Inner = p.parseExpr()
		pe.RParenPos = p.pos
		p.expect(token.RPAREN)
		return pe

	case token.LBRACK:
		ae := &ast.ArrayExpr{LBrackPos: p.pos}
		p.next()
		ae.Elements = p.parseExprList(token.RBRACK, "expression list")
		ae.RBrackPos = p.pos
		p.expect(token.RBRACK)
		return ae

	case token.LCURLY:
		return p.parseObject()
	}
	p.errorExpected("expression")
	return &ast.BadExpr{StartPos: p.pos, EndPos: p.pos}
}

// canStartExpr reports whether tok can begin an expression.
func canStartExpr(tok token.Token) bool {
	switch tok {
	case token.IDENT, token.NUMBER, token.FLOAT, token.STRING, token.BOOL, token.NULL,
		token.LPAREN, token.LBRACK, token.LCURLY, token.NOT, token.SUB:
		return true
	}
	return false
}

// parseExprList parses comma-separated expressions up to closer, which it
// does not consume. A trailing comma is allowed.
func (p *parser) parseExprList(closer token.Token, what string) []ast.Expr {
	var list []ast.Expr
	for p.tok != closer && p.tok != token.EOF {
		start := p.pos
		list = append(list, p.parseExpr())
		switch {
		case p.tok == token.COMMA:
			p.next()
		case p.tok == closer:
		case p.tok == token.TERMINATOR:
			at := p.prevEnd
			p.next()
			if p.tok == token.EOF {
				return list // reported as a missing closer
			}
			p.errorAt(at, "missing ',' in "+what)
		case canStartExpr(p.tok):
			p.errorAt(p.prevEnd, "missing ',' in "+what)
		default:
			p.errorf("expected , or %s, got %s", closer, p.describe())
			return list
		}
		if p.pos == start {
			return list // no progress; let the caller report and recover
		}
	}
	return list
}

// parseObject parses an object literal.
//
//	Object = "{" [ Field { "," Field } [ "," ] ] "}" .
//	Field  = ( identifier | string ) "=" Expression .
func (p *parser) parseObject() ast.Expr {
	oe := &ast.ObjectExpr{LCurlyPos: p.pos}
	p.next()
fields:
	for p.tok != token.RCURLY && p.tok != token.EOF {
		start := p.pos
		field := &ast.ObjectField{Name: &ast.Ident{NamePos: p.pos}}
		switch p.tok {
		case token.IDENT:
			field.Name.Name = p.lit
		case token.STRING:
			field.Quoted = true
			name, err := strconv.Unquote(p.lit)
			if err != nil {
				name = p.lit // the scanner has reported why
			}
			field.Name.Name = name
		default:
			p.errorExpected("field name (string or identifier)")
			if !p.tok.IsLiteral() {
				p.skipObjectField()
				if p.tok == token.COMMA {
					p.next()
				}
				if p.pos == start {
					break fields // a stray closer; the caller reports it
				}
				continue
			}
			field.Name.Name = p.lit // take it as the name and go on
		}
		p.next()
		if _, ok := p.expect(token.ASSIGN); !ok {
			p.skipObjectField()
		} else {
			field.Value = p.parseExpr()
			oe.Fields = append(oe.Fields, field)
		}

		switch {
		case p.tok == token.COMMA:
			p.next()
		case p.tok == token.RCURLY:
		case p.tok == token.TERMINATOR:
			p.errorAt(p.prevEnd, "missing ',' in field list")
			p.next()
		case p.tok == token.IDENT || p.tok == token.STRING:
			p.errorAt(p.prevEnd, "missing ',' in field list")
		default:
			p.errorf("expected , or }, got %s", p.describe())
			p.skipObjectField()
			if p.tok == token.COMMA {
				p.next()
			}
		}
		if p.pos == start {
			break
		}
	}
	oe.RCurlyPos = p.pos
	p.expect(token.RCURLY)
	return oe
}

// skipObjectField skips to the next comma or the closing brace of the
// current object, stepping over nested brackets.
func (p *parser) skipObjectField() {
	depth := 0
	for p.tok != token.EOF {
		switch p.tok {
		case token.LCURLY, token.LBRACK, token.LPAREN:
			depth++
		case token.RCURLY, token.RBRACK, token.RPAREN:
			if depth == 0 {
				return
			}
			depth--
		case token.COMMA:
			if depth == 0 {
				return
			}
		}
		p.next()
	}
}
