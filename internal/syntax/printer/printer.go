// Package printer writes syntax trees of shoal's configuration language
// (Grafana Alloy's syntax) back out in the canonical layout of `alloy fmt`:
// tab indentation, `=` aligned within runs of attributes and object fields,
// trailing comments aligned, at most one blank line kept where the source
// had one, comments kept in place, and empty blocks as `name { }`.
//
// It owns layout only. Format parses, so syntax errors come back as the
// parser's diag.Diagnostics; the printer itself never changes what a file
// means, and formatting its own output changes nothing.
package printer

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// Format parses src and returns it in canonical layout. A syntax error is
// returned as the parser's diag.Diagnostics, with no output.
func Format(filename string, src []byte) ([]byte, error) {
	f, err := parser.ParseFile(filename, src)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := Fprint(&buf, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Fprint writes node in canonical layout. node may be an *ast.File (printed
// with its comments and a final newline), an ast.Body, a statement or an
// expression. Positions in the tree decide where lines break and where
// blank lines and comments go; a tree built without positions prints on as
// few lines as its blocks allow.
func Fprint(w io.Writer, node ast.Node) (err error) {
	p := &printer{}
	p.startLine(0)
	defer func() {
		if r := recover(); r != nil {
			perr, ok := r.(printError)
			if !ok {
				panic(r)
			}
			err = perr.err
		}
	}()
	switch n := node.(type) {
	case *ast.File:
		for _, g := range n.Comments {
			p.comments = append(p.comments, g...)
		}
		p.body(n.Body)
		p.flushAll()
	case ast.Body:
		p.body(n)
	case ast.Stmt:
		p.stmt(n)
	case ast.Expr:
		p.expr(n)
	default:
		return fmt.Errorf("printer: cannot print %T", node)
	}
	out := p.render()
	if _, ok := node.(*ast.File); ok && len(out) > 0 {
		out = append(out, '\n')
	}
	_, err = w.Write(out)
	return err
}

// printError carries an error out of the recursive printer.
type printError struct{ err error }

func (p *printer) fail(format string, args ...any) {
	panic(printError{fmt.Errorf("printer: "+format, args...)})
}

// markKind is the kind of an alignment point on a line. Only points of the
// same kind, at the same index, on adjacent lines of the same indentation
// line up.
type markKind uint8

const (
	markAssign  markKind = iota + 1 // before the `=` of an attribute or field
	markComment                     // before a trailing // comment
)

// outLine is one line of output: its indentation and its text, split into
// segments at alignment marks.
type outLine struct {
	indent int // tabs; -1 for the continuation lines of a multi-line token
	segs   []string
	marks  []markKind // marks[i] follows segs[i]
	widths []int      // filled by align
}

type printer struct {
	lines []*outLine
	cur   *outLine
	seg   strings.Builder // the current line's last segment

	curIndent int   // logical indentation of the current line
	stack     []int // indentation of the lines that opened the open brackets

	comments []*ast.Comment
	next     int // index of the next comment to print

	lastLine      int  // source line where the last printed thing ended; 0 if none
	needNewline   bool // a // comment ended the line: the next token starts a new one
	pendingSpace  bool // a space before the next token, unless it closes something
	suppressBlank bool // no blank line before the first line of a body or list
	glued         bool // an own-line /* */ comment wants the next token on its line
}

// startLine begins a new output line at indent.
func (p *printer) startLine(indent int) {
	p.endLine()
	p.cur = &outLine{indent: indent}
	if indent >= 0 {
		p.curIndent = indent
	}
}

func (p *printer) endLine() {
	if p.cur == nil {
		return
	}
	p.cur.segs = append(p.cur.segs, p.seg.String())
	p.seg.Reset()
	p.lines = append(p.lines, p.cur)
	p.cur = nil
}

// lineEmpty reports whether nothing has been written to the current line.
func (p *printer) lineEmpty() bool {
	return len(p.cur.marks) == 0 && p.seg.Len() == 0
}

// lastByte returns the last byte written to the current line, or 0.
func (p *printer) lastByte() byte {
	if p.seg.Len() > 0 {
		s := p.seg.String()
		return s[len(s)-1]
	}
	if len(p.cur.segs) > 0 {
		s := p.cur.segs[len(p.cur.segs)-1]
		if s != "" {
			return s[len(s)-1]
		}
	}
	return 0
}

// innerIndent is the indentation of a new line inside the innermost open
// bracket: one more than the line that opened it. Several brackets opened
// on one line therefore indent their content only once.
func (p *printer) innerIndent() int {
	if len(p.stack) == 0 {
		return 0
	}
	return p.stack[len(p.stack)-1] + 1
}

func (p *printer) push() { p.stack = append(p.stack, p.curIndent) }

func (p *printer) pop() int {
	v := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	return v
}

// newline ends the current line and starts one at indent, after a blank
// line if blank is set and allowed. At the very start of output it does
// nothing: output never begins with an empty line.
func (p *printer) newline(indent int, blank bool) {
	if len(p.lines) == 0 && p.lineEmpty() {
		p.cur.indent, p.curIndent = indent, indent
	} else {
		if blank && !p.suppressBlank {
			p.startLine(0)
		}
		p.startLine(indent)
	}
	p.suppressBlank = false
	p.needNewline = false
	p.pendingSpace = false
}

// write appends s to the current line. Newlines in s (raw strings, block
// comments) start continuation lines that are printed exactly as written.
func (p *printer) write(s string) {
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			p.seg.WriteString(s)
			return
		}
		p.seg.WriteString(s[:i])
		indent := p.curIndent
		p.startLine(-1)
		p.curIndent = indent
		s = s[i+1:]
	}
}

func (p *printer) mark(k markKind) {
	p.cur.segs = append(p.cur.segs, strings.TrimRight(p.seg.String(), " "))
	p.seg.Reset()
	p.cur.marks = append(p.cur.marks, k)
}

// space asks for a space before the next token.
func (p *printer) space() { p.pendingSpace = true }

// token writes the text of a token found at pos, after the comments that
// come before pos.
func (p *printer) token(pos token.Pos, text string) {
	p.flush(pos)
	if p.needNewline {
		p.newline(p.innerIndentOrContinuation(), false)
	}
	if p.pendingSpace && !p.lineEmpty() && !closes(text) && p.lastByte() != ' ' {
		p.write(" ")
	}
	p.pendingSpace = false
	p.suppressBlank = false
	p.glued = false
	p.write(text)
	if pos.IsValid() {
		p.lastLine = pos.Position().Line + strings.Count(text, "\n")
	}
}

// innerIndentOrContinuation is where a token goes when a // comment forced a
// line break the layout did not plan: one level in from the current line.
func (p *printer) innerIndentOrContinuation() int {
	return max(p.innerIndent(), p.curIndent+1)
}

func closes(text string) bool {
	switch text {
	case ")", "]", "}", ",", ".":
		return true
	}
	return false
}

// srcLine returns pos's line, or 0 if pos is unknown.
func srcLine(pos token.Pos) int {
	if !pos.IsValid() {
		return 0
	}
	return pos.Position().Line
}

// differentLines reports whether a and b are both known and on different
// source lines.
func differentLines(a, b token.Pos) bool {
	return a.IsValid() && b.IsValid() && srcLine(a) != srcLine(b)
}

// hasCommentBefore reports whether a comment not yet printed starts before
// pos.
func (p *printer) hasCommentBefore(pos token.Pos) bool {
	return pos.IsValid() && p.next < len(p.comments) && p.comments[p.next].StartPos.Offset() < pos.Offset()
}

// flush prints the comments that start before pos.
func (p *printer) flush(pos token.Pos) {
	for p.hasCommentBefore(pos) {
		p.comment(p.comments[p.next], pos)
		p.next++
	}
}

// flushAll prints the remaining comments, at the end of a file.
func (p *printer) flushAll() {
	for ; p.next < len(p.comments); p.next++ {
		p.comment(p.comments[p.next], token.NoPos)
	}
}

// comment prints c, which comes before the token at next (NoPos at the end
// of the file). A comment on the line of the previous token stays on that
// line; any other gets its own line at the current depth.
func (p *printer) comment(c *ast.Comment, next token.Pos) {
	line := srcLine(c.StartPos)
	endLine := line + strings.Count(c.Text, "\n")
	lineComment := strings.HasPrefix(c.Text, "//")

	trailing := line == p.lastLine && !p.lineEmpty()
	if trailing {
		if lineComment {
			p.mark(markComment)
		} else if b := p.lastByte(); b != '(' && b != '[' && b != '{' && b != ' ' {
			p.write(" ")
		}
	} else if p.lineEmpty() && p.cur.indent >= 0 && len(p.lines) > 0 {
		// Already at the start of a fresh line (a hoisted name comment).
	} else {
		p.newline(p.innerIndent(), p.lastLine > 0 && line > p.lastLine+1)
	}
	p.write(c.Text)
	p.lastLine = endLine
	p.pendingSpace, p.needNewline, p.glued = false, false, false
	switch {
	case lineComment:
		p.needNewline = true
	case next.IsValid() && srcLine(next) == endLine:
		p.pendingSpace = true
		p.glued = !trailing
	case !trailing:
		// An own-line /* */ comment keeps what follows off its line.
		p.needNewline = true
	default:
		p.pendingSpace = true
	}
}

// linebreak starts a new line for an item (statement, element, field) at
// pos, after the comments before it, keeping one blank line if the source
// had at least one.
func (p *printer) linebreak(pos token.Pos) {
	p.flush(pos)
	if p.glued {
		// `/* note */ attr = 1`: the item stays on the comment's line.
		p.glued = false
		return
	}
	blank := p.lastLine > 0 && pos.IsValid() && srcLine(pos) > p.lastLine+1
	p.newline(p.innerIndent(), blank)
}

// closeLine prints a closing bracket at pos on its own line, at the
// indentation of the line that opened it, after the comments inside.
func (p *printer) closeLine(pos token.Pos, text string) {
	p.flush(pos)
	indent := p.pop()
	p.newline(indent, false)
	p.token(pos, text)
}

// closeSameLine prints a closing bracket at pos on the current line.
func (p *printer) closeSameLine(pos token.Pos, text string) {
	p.flush(pos)
	p.pop()
	p.token(pos, text)
}

func (p *printer) body(b ast.Body) {
	for _, s := range b {
		if s == nil {
			p.fail("nil statement")
		}
		start := ast.StartPos(s)
		if len(p.lines) == 0 && p.lineEmpty() && !p.hasCommentBefore(start) {
			// first thing in the output: no line break
		} else {
			p.linebreak(start)
		}
		p.stmt(s)
	}
}

// hoistNameComments prints, before a block's name, the comments written
// inside it (`a. /* x */ b "l" {`). The name prints as one token, and a
// comment behind it that holds a newline would end the statement there.
func (p *printer) hoistNameComments(b *ast.BlockStmt) {
	end := b.LabelPos
	if !end.IsValid() {
		end = b.LCurlyPos
	}
	if !p.hasCommentBefore(end) {
		return
	}
	for p.hasCommentBefore(end) {
		p.comment(p.comments[p.next], b.NamePos)
		p.next++
	}
	if !p.glued {
		p.newline(p.curIndent, false)
	}
	p.glued = false
}

func (p *printer) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AttributeStmt:
		if s.Name == nil || s.Value == nil {
			p.fail("incomplete attribute")
		}
		p.token(s.Name.NamePos, s.Name.Name)
		p.mark(markAssign)
		p.write("= ")
		p.expr(s.Value)
	case *ast.BlockStmt:
		p.block(s)
	default:
		p.fail("cannot print statement %T", s)
	}
}

func (p *printer) block(b *ast.BlockStmt) {
	if len(b.Name) == 0 {
		p.fail("block without a name")
	}
	p.flush(b.NamePos)
	p.hoistNameComments(b)
	p.token(b.NamePos, strings.Join(b.Name, "."))
	if b.Label != "" || b.LabelPos.IsValid() {
		p.write(" ")
		p.token(b.LabelPos, strconv.Quote(b.Label))
	}
	p.write(" ")
	p.token(b.LCurlyPos, "{")
	if len(b.Body) == 0 && !p.hasCommentBefore(b.RCurlyPos) {
		p.write(" ")
		p.token(b.RCurlyPos, "}")
		return
	}
	p.push()
	p.suppressBlank = true
	p.body(b.Body)
	p.closeLine(b.RCurlyPos, "}")
}

func (p *printer) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.LiteralExpr:
		p.token(e.ValuePos, e.Value)
	case *ast.IdentifierExpr:
		p.token(e.Ident.NamePos, e.Ident.Name)
	case *ast.AccessExpr:
		p.operand(e.Value)
		p.write(".")
		p.token(e.Name.NamePos, e.Name.Name)
	case *ast.IndexExpr:
		p.operand(e.Value)
		p.token(e.LBrackPos, "[")
		p.expr(e.Index)
		p.token(e.RBrackPos, "]")
	case *ast.CallExpr:
		p.operand(e.Value)
		p.list(e.LParenPos, "(", e.Args, e.RParenPos, ")")
	case *ast.ArrayExpr:
		p.list(e.LBrackPos, "[", e.Elements, e.RBrackPos, "]")
	case *ast.ObjectExpr:
		p.object(e)
	case *ast.ParenExpr:
		p.token(e.LParenPos, "(")
		p.expr(e.Inner)
		p.token(e.RParenPos, ")")
	case *ast.UnaryExpr:
		p.token(e.KindPos, e.Kind.String())
		if u, ok := e.Value.(*ast.UnaryExpr); ok && e.Kind == token.SUB && u.Kind == token.SUB {
			p.write(" ") // `- -1`, not `--1`
		}
		if _, ok := e.Value.(*ast.BinaryExpr); ok {
			p.parenthesized(e.Value)
		} else {
			p.expr(e.Value)
		}
	case *ast.BinaryExpr:
		p.push()
		p.binary(e)
		p.pop()
	case nil:
		p.fail("missing expression")
	case *ast.BadExpr:
		p.fail("cannot print a bad expression (at %s)", e.StartPos)
	default:
		p.fail("cannot print expression %T", e)
	}
}

// binary prints a chain of binary operators. A line break the source had
// after an operator is kept, with the rest of the chain indented one level.
func (p *printer) binary(e *ast.BinaryExpr) {
	prec := e.Kind.BinaryPrecedence()
	if l, ok := e.Left.(*ast.BinaryExpr); ok && needsParens(l, prec, e.Kind.RightAssociative()) {
		p.parenthesized(l)
	} else if ok {
		p.binary(l)
	} else {
		p.expr(e.Left)
	}
	p.space()
	p.token(e.KindPos, e.Kind.String())
	if differentLines(e.KindPos, ast.StartPos(e.Right)) {
		p.linebreak(ast.StartPos(e.Right))
	} else {
		p.space()
	}
	if r, ok := e.Right.(*ast.BinaryExpr); ok && needsParens(r, prec, !e.Kind.RightAssociative()) {
		p.parenthesized(r)
	} else if ok {
		p.binary(r)
	} else {
		p.expr(e.Right)
	}
}

// needsParens reports whether a binary operand x of an operator with
// precedence prec needs parentheses to keep its meaning; sameNeeds says
// whether an operand of equal precedence does (it does on the side the
// operator does not group towards). Parsed trees never need them: the
// parser keeps the source's parentheses as ParenExpr.
func needsParens(x *ast.BinaryExpr, prec int, sameNeeds bool) bool {
	xp := x.Kind.BinaryPrecedence()
	return xp < prec || (xp == prec && sameNeeds)
}

func (p *printer) parenthesized(e ast.Expr) {
	p.write("(")
	p.expr(e)
	p.write(")")
}

// operand prints the value of a postfix expression, adding parentheses
// when a hand-built tree puts an operator there.
func (p *printer) operand(e ast.Expr) {
	switch e.(type) {
	case *ast.BinaryExpr, *ast.UnaryExpr:
		p.parenthesized(e)
	default:
		p.expr(e)
	}
}

// list prints array elements or call arguments. An element that starts on
// a new line in the source starts a new line here; the others follow on
// the same line. When the closing bracket has its own line, the last
// element gets a trailing comma.
func (p *printer) list(lpos token.Pos, open string, elems []ast.Expr, rpos token.Pos, close string) {
	p.token(lpos, open)
	if len(elems) == 0 && !p.hasCommentBefore(rpos) {
		p.token(rpos, close)
		return
	}
	p.push()
	p.suppressBlank = true
	prevEnd := lpos
	for i, e := range elems {
		if e == nil {
			p.fail("nil list element")
		}
		start := ast.StartPos(e)
		if i > 0 {
			p.write(",")
		}
		if differentLines(prevEnd, start) {
			p.linebreak(start)
		} else if i > 0 {
			p.space()
		}
		p.expr(e)
		prevEnd = ast.EndPos(e)
	}
	p.closeList(prevEnd, len(elems) > 0, rpos, close)
}

// closeList ends a list or object whose last item ended at prevEnd.
func (p *printer) closeList(prevEnd token.Pos, nonEmpty bool, rpos token.Pos, close string) {
	if differentLines(prevEnd, rpos) {
		if nonEmpty {
			p.write(",")
		}
		p.closeLine(rpos, close)
		return
	}
	p.closeSameLine(rpos, close)
}

// object prints an object literal. Fields that start their own line are
// aligned on `=` like attributes.
func (p *printer) object(o *ast.ObjectExpr) {
	p.token(o.LCurlyPos, "{")
	if len(o.Fields) == 0 && !p.hasCommentBefore(o.RCurlyPos) {
		p.token(o.RCurlyPos, "}")
		return
	}
	p.push()
	p.suppressBlank = true
	openLine := len(p.lines)
	prevEnd := o.LCurlyPos
	for i, f := range o.Fields {
		if f == nil || f.Name == nil || f.Value == nil {
			p.fail("incomplete object field")
		}
		start := f.Name.NamePos
		if i > 0 {
			p.write(",")
		}
		ownLine := differentLines(prevEnd, start)
		if ownLine {
			p.linebreak(start)
		} else {
			p.space() // `{ a = 1, b = 2 }`
		}
		name := f.Name.Name
		if f.Quoted || !scanner.IsIdentifier(name) {
			name = strconv.Quote(name)
		}
		p.token(start, name)
		if ownLine {
			p.mark(markAssign)
		} else {
			p.write(" ")
		}
		p.write("= ")
		p.expr(f.Value)
		prevEnd = ast.EndPos(f.Value)
	}
	if len(o.Fields) > 0 && !differentLines(prevEnd, o.RCurlyPos) && len(p.lines) == openLine {
		p.flush(o.RCurlyPos)
		if !p.needNewline {
			p.write(" ")
		}
	}
	p.closeList(prevEnd, len(o.Fields) > 0, o.RCurlyPos, "}")
}

// render aligns the marks and returns the text of all lines.
func (p *printer) render() []byte {
	p.endLine()
	lines := p.lines
	for _, l := range lines {
		l.widths = make([]int, len(l.marks))
	}
	align(lines, 0)
	var b bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		if len(l.marks) == 0 && l.segs[0] == "" {
			continue // blank line: no indentation
		}
		for j := 0; j < l.indent; j++ {
			b.WriteByte('\t')
		}
		for j, s := range l.segs {
			b.WriteString(s)
			if j < len(l.marks) {
				for n := utf8.RuneCountInString(s); n < l.widths[j]; n++ {
					b.WriteByte(' ')
				}
				b.WriteByte(' ')
			}
		}
	}
	// Trailing blank lines (from a file ending in comments) are dropped.
	return bytes.TrimRight(b.Bytes(), "\n")
}

// align sets the width of mark column col for runs of adjacent lines with
// the same indentation and the same kind of mark in that column, then
// aligns the next column within each run, as text/tabwriter aligns cells.
func align(lines []*outLine, col int) {
	for i := 0; i < len(lines); {
		l := lines[i]
		if len(l.marks) <= col {
			i++
			continue
		}
		start, width := i, 0
		for ; i < len(lines); i++ {
			m := lines[i]
			if len(m.marks) <= col || m.marks[col] != l.marks[col] || m.indent != l.indent {
				break
			}
			width = max(width, utf8.RuneCountInString(m.segs[col]))
		}
		for _, m := range lines[start:i] {
			m.widths[col] = width
		}
		align(lines[start:i], col+1)
	}
}
