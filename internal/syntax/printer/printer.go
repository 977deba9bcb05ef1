// Package printer writes syntax trees of shoal's configuration language
// (Grafana Alloy's syntax) back out in exactly the layout `alloy fmt`
// prints, byte for byte: tab indentation, `=` and trailing comments aligned
// in elastic columns (text/tabwriter), a blank line before every block that
// is not first in its body, at most one blank line kept from the source,
// line breaks inside lists, objects and calls where the source had them,
// and comments placed by source position the way Alloy places them.
//
// The printer is built the way Alloy's is, because matching its output in
// every corner means making the same decisions in the same order: a walk
// of the tree emits tokens, each with its source position where the tree
// has one, and requests for whitespace (a space, an alignment cell, a line
// break, a line break that ends an alignment run, one level in or out).
// Whitespace is held back until the next token, so that comments due
// before that token can be written first and decide what of the held
// whitespace survives. The result passes through text/tabwriter, which
// aligns the cells, and a final pass that drops trailing blanks.
//
// It departs from Alloy only where Alloy's output would not parse, would
// mean something else, or would change again when formatted (the cases are
// in testdata/deviations, with Alloy's output beside shoal's): a comment
// waits for a token that may start a line rather than break the line
// before one that may not; a comment is placed only before a token whose
// position the tree gives; a // comment always ends its line; an empty
// call spread over lines gets no comma; quoted object keys are quoted from
// their value; string literals holding tabs or blanks that end a line
// reach the output untouched; and a tree built in code gets the
// parentheses its operator precedence needs.
//
// Like Alloy's, the layout is not a fixed point in two cases, and shoal
// prints what Alloy prints: a statement or object field value that spans
// several source lines but prints on one ends the `=` alignment run (Helm
// output has `headers = {` and `}` on the next line), which the next pass,
// seeing one line, does not; and a comment on the line of a `)` that
// follows a line break moves on the next pass.
//
// It owns layout only. Format parses, so syntax errors come back as the
// parser's diag.Diagnostics; the printer never changes what a file means.
package printer

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// Format parses src and returns it as `alloy fmt` prints it, ending in one
// newline (an empty file gives a lone newline, as with Alloy). A syntax
// error is returned as the parser's diag.Diagnostics, with no output.
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

// Fprint writes node in Alloy's layout. node may be an *ast.File (printed
// with its comments and a final newline, as `alloy fmt` does), an
// ast.Body, a statement or an expression (printed without comments or a
// final newline). Source positions in the tree decide where lines break
// and where blank lines and comments go; a tree built without positions
// prints on as few lines as its blocks allow.
func Fprint(w io.Writer, node ast.Node) (err error) {
	p := newPrinter()
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
		p.setComments(n.Comments)
		p.body(n.Body)
	case ast.Body:
		p.body(n)
	case ast.Stmt:
		p.stmt(n)
	case ast.Expr:
		p.expr(n)
	default:
		return fmt.Errorf("printer: cannot print %T", node)
	}
	// The comments left after the last token, and no held whitespace.
	p.flush(token.Position{Offset: math.MaxInt, Line: math.MaxInt, Column: math.MaxInt}, true)

	var aligned bytes.Buffer
	tw := tabwriter.NewWriter(&aligned, 0, 8, 1, ' ', tabwriter.DiscardEmptyColumns|tabwriter.TabIndent)
	if _, err := tw.Write(p.out); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	out := trimBlanks(aligned.Bytes())
	if _, ok := node.(*ast.File); ok {
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

// space is a whitespace request held until the next token is written.
type space byte

const (
	spDropped space = 0    // a request a comment cancelled
	spBlank   space = ' '  // a space between tokens
	spCell    space = '\v' // ends an alignment cell: the `=` of a run lines up
	spLine    space = '\n' // a line break that keeps the alignment run going
	spBreak   space = '\f' // a line break that ends the alignment run
	spIn      space = '>'  // one level deeper from the next line on
	spOut     space = '<'  // one level back
)

// maxBreaks is the most line breaks kept in a row: one blank line.
const maxBreaks = 2

// prevKind is what the printer wrote last, for the rule that keeps two
// tokens from running together into one.
type prevKind uint8

const (
	prevSpace  prevKind = iota // whitespace was asked for since the last token
	prevNumber                 // an integer literal: `1` `.x` must not become `1.x`
	prevDiv                    // `/`: `/` `*` must not become a comment opener
	prevOther
)

type printer struct {
	out   []byte // text for the tabwriter
	depth int    // indentation, in tabs, of lines started from now on
	prev  prevKind

	held []space // whitespace waiting for the next token

	// The comment groups of the file and the next one to print.
	groups   []ast.CommentGroup
	nextGrp  int
	curGrp   ast.CommentGroup
	curStart token.Pos // position of curGrp's first comment; NoPos when none is left

	// srcPos estimates where in the source the printer is: the position just
	// after the last text written, or the position of the token about to be
	// written when the tree gives one. A comment whose offset is at or before
	// it is due.
	srcPos token.Position
	// lastEnd is srcPos as it stood right after the last text was written.
	lastEnd token.Position
	// placed says the token about to be written has its source position
	// (at was called): only such a token lets comments be printed before it.
	placed bool
	// glued says the token about to be written must stay on the line of the
	// token before it (atGlued was called).
	glued bool
	// col is the column of the output, 1 at the start of a line.
	col int
	// lineComment says a // comment ends the output written so far: the
	// next text must start a new line.
	lineComment bool
}

func newPrinter() *printer {
	return &printer{
		srcPos: token.Position{Line: 1, Column: 1},
		col:    1,
		prev:   prevOther,
		held:   make([]space, 0, 16),
	}
}

// setComments loads the file's comment groups.
func (p *printer) setComments(groups []ast.CommentGroup) {
	p.groups, p.nextGrp = groups, 0
	p.loadGroup()
}

// loadGroup makes the next non-empty group current.
func (p *printer) loadGroup() {
	for p.nextGrp < len(p.groups) {
		g := p.groups[p.nextGrp]
		p.nextGrp++
		if len(g) > 0 {
			p.curGrp, p.curStart = g, g[0].StartPos
			return
		}
	}
	p.curGrp, p.curStart = nil, token.NoPos
}

// commentDue reports whether the current comment group starts at or before
// the source offset of next.
func (p *printer) commentDue(next token.Position) bool {
	return p.curStart.IsValid() && p.curStart.Offset() <= next.Offset
}

// ---- emitting ----

// ws asks for whitespace before the next token.
func (p *printer) ws(ss ...space) {
	p.held = append(p.held, ss...)
	p.prev = prevSpace
}

// at moves the source estimate to pos, the position of the token that is
// about to be written. An unknown pos leaves the estimate where it is.
func (p *printer) at(pos token.Pos) {
	if pos.IsValid() {
		p.srcPos = pos.Position()
		p.placed = true
	}
}

// atGlued is at for a token that may not start a line: one that follows
// an operand (a block's label and `{`, an index's brackets, a binary
// operator, the `]` or `}` that ends a list on the line of its last item).
// A line break before it would end the statement there, or leave a list
// without the comma a line break needs.
func (p *printer) atGlued(pos token.Pos) {
	p.at(pos)
	p.glued = true
}

// tok writes an operator or delimiter.
func (p *printer) tok(t token.Token) {
	s := t.String()
	if (p.prev == prevNumber && s[0] == '.') || (p.prev == prevDiv && s[0] == '*') {
		// Written together, the two would scan as one token.
		p.held = append(p.held[:0], spBlank)
	}
	p.prev = prevOther
	if t == token.DIV {
		p.prev = prevDiv
	}
	p.emit(s, false)
}

// name writes an identifier or a block's dotted name.
func (p *printer) name(s string) {
	p.prev = prevOther
	p.emit(s, false)
}

// literal writes a literal's source text.
func (p *printer) literal(kind token.Token, s string) {
	p.prev = prevOther
	if kind == token.NUMBER {
		p.prev = prevNumber
	}
	p.emit(s, needsShield(s))
}

// needsShield reports whether the tabwriter or the blank trimming would
// alter s: a tab or form feed inside it, or blanks ending one of its lines
// (a raw string can hold all of these). Alloy lets those through and so
// changes the string; shoal shields them, as it does comments.
func needsShield(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\v', '\f':
			return true
		case '\n':
			if i > 0 && s[i-1] == ' ' {
				return true
			}
		}
	}
	return false
}

// emit writes the text of a token: first the comments due before it and
// the held whitespace that survives them, then the text itself.
//
// Only a token whose position the tree gives has comments printed before
// it. Alloy also prints them before a token it only estimates the position
// of (`=`, `,`, `.`, a name after `.`, the parentheses of calls and
// groups), but there the estimate, the end of the text before, catches a
// comment only when it is glued to that text: `f(/* none */)` becomes
// `f( /* none */ )`, whose comment, no longer glued, moves behind `)` the
// next time. Waiting for the next placed token gives Alloy's second answer
// at once, so formatting twice changes nothing.
//
// Comments that would put a line break before a glued token wait for the
// next token that may start a line. Alloy prints them there anyway, when a
// comment it held back behind `.name` reaches a `]`, `[`, `{` or operator,
// and its output then no longer parses.
func (p *printer) emit(s string, shield bool) {
	next := p.srcPos
	if p.placed && !(p.glued && p.commentsBreak(next)) {
		p.flush(next, false)
	} else {
		p.release(len(p.held))
	}
	p.placed, p.glued = false, false
	p.writeText(next, s, shield)
}

// commentsBreak reports whether printing the comments due before next
// would start a new line anywhere between the last text and next: unless
// they are all /* */ comments on one line, the line of the last text and
// of next.
func (p *printer) commentsBreak(next token.Position) bool {
	if !p.commentDue(next) {
		return false
	}
	line := p.lastEnd.Line
	if next.Line != line {
		return true
	}
	g, i := p.curGrp, p.nextGrp
	for len(g) > 0 && g[0].StartPos.Offset() <= next.Offset {
		for _, c := range g {
			if strings.HasPrefix(c.Text, "//") || strings.Contains(c.Text, "\n") || srcLine(c.StartPos) != line {
				return true
			}
		}
		g = nil
		for i < len(p.groups) && len(g) == 0 {
			g = p.groups[i]
			i++
		}
	}
	return false
}

// flush writes the comments due before next and the held whitespace. At
// the end of the output (eof) held whitespace is dropped.
func (p *printer) flush(next token.Position, eof bool) {
	if p.commentDue(next) {
		p.comments(next, eof)
		return
	}
	if !eof {
		p.release(len(p.held))
	}
}

// release applies the first n held whitespace requests and forgets them.
func (p *printer) release(n int) {
	for _, s := range p.held[:n] {
		switch s {
		case spDropped:
		case spIn:
			p.depth++
		case spOut:
			if p.depth == 0 {
				p.fail("unbalanced indentation")
			}
			p.depth--
		default:
			p.writeSpace(byte(s), 1)
		}
	}
	p.held = append(p.held[:0], p.held[n:]...)
}

// writeIndent starts a line's text with its indentation.
func (p *printer) writeIndent() {
	for range p.depth {
		p.out = append(p.out, '\t')
	}
	p.srcPos.Offset += p.depth
	p.srcPos.Column += p.depth
	p.col += p.depth
}

// writeSpace writes the whitespace byte c n times.
func (p *printer) writeSpace(c byte, n int) {
	if p.col == 1 {
		p.writeIndent()
	}
	for range n {
		p.out = append(p.out, c)
	}
	p.srcPos.Offset += n
	if c == '\n' || c == '\f' {
		p.lineComment = false
		p.srcPos.Line += n
		p.srcPos.Column = 1
		p.col = 1
		return
	}
	p.srcPos.Column += n
	p.col += n
}

// writeText writes s, the text found at pos in the source. A shielded text
// is wrapped in tabwriter.Escape so that the tabwriter and the trimming
// pass it on unchanged.
func (p *printer) writeText(pos token.Position, s string, shield bool) {
	if p.lineComment {
		// Never reached: comments placed as above always end their line.
		// Kept so that no layout decision can let a comment swallow code.
		p.writeSpace('\n', 1)
	}
	if p.col == 1 {
		p.writeIndent()
	}
	if pos.IsValid() {
		p.srcPos = pos
	}
	if shield {
		p.out = append(p.out, tabwriter.Escape)
	}
	p.out = append(p.out, s...)
	if shield {
		p.out = append(p.out, tabwriter.Escape)
	}
	p.srcPos.Offset += len(s)
	if i := strings.LastIndexAny(s, "\n\f"); i >= 0 {
		n := strings.Count(s, "\n") + strings.Count(s, "\f")
		p.srcPos.Line += n
		p.srcPos.Column = len(s) - i
		p.col = len(s) - i
	} else {
		p.srcPos.Column += len(s)
		p.col += len(s)
	}
	p.lastEnd = p.srcPos
	p.lineComment = shield && strings.HasPrefix(s, "//")
}

// ---- comments ----

// comments writes every comment group due before next, then the held
// whitespace that still applies.
func (p *printer) comments(next token.Position, eof bool) {
	var due []*ast.Comment
	for p.commentDue(next) {
		due = append(due, p.curGrp...)
		p.loadGroup()
	}
	for i, c := range due {
		cpos := c.StartPos.Position()
		sepNext := next
		if cpos.IsValid() && cpos.Line < p.lastEnd.Line {
			// A comment held back past a glued token on a later line (see
			// emit) trails the text it now follows, and counts as written on
			// that text's line. It is followed on its line by what the next
			// pass will find there: the next token, unless a comment after
			// it ends the line or the token is on a later line.
			cpos.Line = p.lastEnd.Line
			sepNext.Line = cpos.Line
			if next.Line > cpos.Line || breaksLine(due[i:]) {
				sepNext.Line = cpos.Line + 1
			}
		}
		p.beforeComment(sepNext, cpos)
		p.writeText(cpos, c.Text, true)
	}
	p.afterComments(next, eof)
}

// breaksLine reports whether any of cs is a // comment or spans lines.
func breaksLine(cs []*ast.Comment) bool {
	for _, c := range cs {
		if strings.HasPrefix(c.Text, "//") || strings.Contains(c.Text, "\n") {
			return true
		}
	}
	return false
}

// beforeComment writes what separates c from the text before it. A comment
// on the line of the last token follows it after a tab (an alignment cell,
// so trailing comments line up), or after a space when the next token is
// on that line too. Any other comment starts a new line: held whitespace
// up to the first line break is spent (indentation changes apply, a break
// is replaced), then the source's line breaks before the comment are kept,
// at most one blank line.
func (p *printer) beforeComment(next, cpos token.Position) {
	if len(p.out) == 0 {
		return // the comment opens the output
	}
	if cpos.Line == p.lastEnd.Line && !p.lineComment {
		sep := byte('\t')
		if cpos.Line == next.Line {
			sep = ' '
		}
		p.writeSpace(sep, 1)
		return
	}
	n := 0
	for i, s := range p.held {
		if s == spIn || s == spOut {
			continue
		}
		p.held[i] = spDropped
		n = i
		break
	}
	p.release(n)
	breaks := 0
	if cpos.IsValid() && p.lastEnd.IsValid() {
		breaks = cpos.Line - p.lastEnd.Line
	}
	if p.lineComment {
		// Only when shoal held a comment back (see emit) can another follow
		// a // comment on its line; Alloy never gets here.
		breaks = max(breaks, 1)
	}
	if breaks > 0 {
		p.writeSpace('\f', min(breaks, maxBreaks))
	}
}

// afterComments writes what separates the last comment from the token at
// next: a space if it is a /* */ comment on the token's line, else the
// source's line breaks (at most one blank line), ending the alignment run
// if the held whitespace would have. Held blanks and cells are dropped;
// indentation changes apply.
func (p *printer) afterComments(next token.Position, eof bool) {
	if eof {
		return // nothing follows: no blank lines at the end
	}
	if !p.lineComment && next.Line <= p.lastEnd.Line {
		p.writeSpace(' ', 1)
	}
	breaks := next.Line - p.lastEnd.Line
	endsRun := false
	for i, s := range p.held {
		switch s {
		case spIn, spOut, spDropped:
			continue
		case spBreak:
			endsRun = true
		}
		p.held[i] = spDropped
	}
	p.release(len(p.held))
	if p.lineComment && breaks < 1 {
		// Alloy would write the next token after the comment, on its line,
		// where the comment would swallow it.
		breaks = 1
	}
	if breaks > 0 {
		c := byte('\n')
		if endsRun {
			c = '\f'
		}
		p.writeSpace(c, min(breaks, maxBreaks))
	}
}

// ---- the walk ----

// srcLine returns pos's line, 0 if pos is unknown.
func srcLine(pos token.Pos) int { return pos.Position().Line }

// differentLines reports whether a and b are on different source lines (an
// unknown position counts as line 0).
func differentLines(a, b token.Pos) bool { return srcLine(a) != srcLine(b) }

// startsLine reports whether a list item at start goes on a new line: it
// does if it starts on a later line than the item before ended, as in
// Alloy, and also if comments held back from further up (see emit) will
// end the line before it, as the item would be placed when the output is
// formatted again.
func (p *printer) startsLine(prevEnd, start token.Pos) bool {
	return differentLines(prevEnd, start) || (start.IsValid() && p.commentsBreak(start.Position()))
}

// lineSpan is the number of source lines n covers.
func lineSpan(n ast.Node) int { return srcLine(ast.EndPos(n)) - srcLine(ast.StartPos(n)) + 1 }

// body prints statements. A block that is not the first statement gets a
// blank line before it; so does any statement with a blank line before it
// in the source. A statement spanning several lines ends the alignment run.
func (p *printer) body(stmts ast.Body) {
	for i, s := range stmts {
		if s == nil {
			p.fail("nil statement")
		}
		if i > 0 {
			if _, isBlock := s.(*ast.BlockStmt); isBlock {
				p.ws(spBreak)
			} else if srcLine(ast.StartPos(s))-srcLine(ast.EndPos(stmts[i-1])) > 1 {
				p.ws(spBreak)
			}
		}
		p.stmt(s)
		if lineSpan(s) > 1 {
			p.ws(spBreak)
		} else {
			p.ws(spLine)
		}
	}
}

func (p *printer) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AttributeStmt:
		if s.Name == nil || s.Value == nil {
			p.fail("incomplete attribute")
		}
		p.at(s.Name.NamePos)
		p.name(s.Name.Name)
		p.ws(spCell)
		p.tok(token.ASSIGN)
		p.ws(spBlank)
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
	p.at(b.NamePos)
	p.name(strings.Join(b.Name, "."))
	if b.Label != "" {
		p.ws(spBlank)
		p.atGlued(b.LabelPos)
		p.literal(token.STRING, strconv.Quote(b.Label))
	}
	p.ws(spBlank)
	p.atGlued(b.LCurlyPos)
	p.tok(token.LCURLY)
	p.ws(spIn)
	if len(b.Body) > 0 {
		p.ws(spBreak)
		p.body(b.Body)
	} else {
		p.ws(spBlank)
	}
	p.ws(spOut)
	p.at(b.RCurlyPos)
	p.tok(token.RCURLY)
}

func (p *printer) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.LiteralExpr:
		p.at(e.ValuePos)
		p.literal(e.Kind, e.Value)
	case *ast.IdentifierExpr:
		p.at(e.Ident.NamePos)
		p.name(e.Ident.Name)
	case *ast.AccessExpr:
		p.operand(e.Value)
		p.tok(token.DOT)
		p.name(e.Name.Name)
	case *ast.IndexExpr:
		p.operand(e.Value)
		p.atGlued(e.LBrackPos)
		p.tok(token.LBRACK)
		p.expr(e.Index)
		p.atGlued(e.RBrackPos)
		p.tok(token.RBRACK)
	case *ast.CallExpr:
		p.call(e)
	case *ast.ArrayExpr:
		p.array(e)
	case *ast.ObjectExpr:
		p.object(e)
	case *ast.ParenExpr:
		p.tok(token.LPAREN)
		p.expr(e.Inner)
		p.tok(token.RPAREN)
	case *ast.UnaryExpr:
		p.at(e.KindPos)
		p.tok(e.Kind)
		if _, ok := e.Value.(*ast.BinaryExpr); ok {
			p.parenthesized(e.Value)
		} else {
			p.expr(e.Value)
		}
	case *ast.BinaryExpr:
		p.binary(e)
	case nil:
		p.fail("missing expression")
	case *ast.BadExpr:
		p.fail("cannot print a bad expression (at %s)", e.StartPos)
	default:
		p.fail("cannot print expression %T", e)
	}
}

// binary prints `left op right` on one line, spaces around the operator.
func (p *printer) binary(e *ast.BinaryExpr) {
	prec := e.Kind.BinaryPrecedence()
	p.binaryOperand(e.Left, prec, e.Kind.RightAssociative())
	p.ws(spBlank)
	p.atGlued(e.KindPos)
	p.tok(e.Kind)
	p.ws(spBlank)
	p.binaryOperand(e.Right, prec, !e.Kind.RightAssociative())
}

// binaryOperand prints an operand of an operator with precedence prec,
// adding the parentheses a tree built in code may need to keep its
// meaning; sameNeeds says whether an operand of equal precedence needs
// them. Parsed trees never do: the parser keeps the source's parentheses
// as ParenExpr.
func (p *printer) binaryOperand(x ast.Expr, prec int, sameNeeds bool) {
	if b, ok := x.(*ast.BinaryExpr); ok {
		if bp := b.Kind.BinaryPrecedence(); bp < prec || (bp == prec && sameNeeds) {
			p.parenthesized(b)
			return
		}
	}
	p.expr(x)
}

func (p *printer) parenthesized(e ast.Expr) {
	p.tok(token.LPAREN)
	p.expr(e)
	p.tok(token.RPAREN)
}

// operand prints the value of a postfix expression, adding parentheses
// when a tree built in code puts an operator there.
func (p *printer) operand(e ast.Expr) {
	switch e.(type) {
	case *ast.BinaryExpr, *ast.UnaryExpr:
		p.parenthesized(e)
	default:
		p.expr(e)
	}
}

// array prints `[...]`. An element that starts on a later line than the
// previous one ended (or than `[`) starts a new line one level in; the
// others follow after a space. If `]` is on a later line than the last
// element ended, the last element gets a comma and `]` its own line.
func (p *printer) array(a *ast.ArrayExpr) {
	p.at(a.LBrackPos)
	p.tok(token.LBRACK)
	prevEnd := a.LBrackPos
	for i, el := range a.Elements {
		if el == nil {
			p.fail("nil list element")
		}
		ownLine := p.startsLine(prevEnd, ast.StartPos(el))
		if ownLine {
			// In before the break, so that comments before the element are
			// indented like it.
			p.ws(spIn, spBreak)
		} else if i > 0 {
			p.ws(spBlank)
		}
		prevEnd = ast.EndPos(el)
		p.expr(el)
		if i+1 < len(a.Elements) {
			p.tok(token.COMMA)
		}
		if ownLine {
			p.ws(spOut)
		}
	}
	if len(a.Elements) > 0 && differentLines(prevEnd, a.RBrackPos) {
		p.tok(token.COMMA)
		p.ws(spIn, spBreak, spOut) // comments after the last element are indented
		p.at(a.RBrackPos)
	} else if len(a.Elements) > 0 {
		p.atGlued(a.RBrackPos) // `]` follows the last element on its line
	} else {
		p.at(a.RBrackPos)
	}
	p.tok(token.RBRACK)
}

// object prints `{...}`. A field on a later line than the previous field's
// name (or than `{`) starts a new line one level in; fields on following
// lines align their `=` unless the field before spans lines. Fields on one
// line follow `{` with no space: `{"a" = "b"}`.
func (p *printer) object(o *ast.ObjectExpr) {
	p.at(o.LCurlyPos)
	p.tok(token.LCURLY)
	p.ws(spIn)
	prevEnd := o.LCurlyPos
	for i, f := range o.Fields {
		if f == nil || f.Name == nil || f.Value == nil {
			p.fail("incomplete object field")
		}
		if p.startsLine(prevEnd, f.Name.NamePos) {
			if i > 0 && lineSpan(o.Fields[i-1].Value) == 1 {
				p.ws(spLine)
			} else {
				p.ws(spBreak)
			}
		} else if i > 0 {
			p.ws(spBlank)
		}
		// Alloy measures from the end of the field's name, not its value.
		prevEnd = ast.EndPos(f.Name)
		p.at(f.Name.NamePos)
		if f.Quoted || !scanner.IsIdentifier(f.Name.Name) {
			p.literal(token.STRING, strconv.Quote(f.Name.Name))
		} else {
			p.name(f.Name.Name)
		}
		p.ws(spCell)
		p.tok(token.ASSIGN)
		p.ws(spBlank)
		p.expr(f.Value)
		if i+1 < len(o.Fields) {
			p.tok(token.COMMA)
		}
	}
	glued := len(o.Fields) > 0
	if len(o.Fields) > 0 && differentLines(prevEnd, o.RCurlyPos) {
		p.tok(token.COMMA)
		p.ws(spBreak)
		glued = false
	}
	p.ws(spOut)
	if glued {
		p.atGlued(o.RCurlyPos) // `}` follows the last field on its line
	} else {
		p.at(o.RCurlyPos)
	}
	p.tok(token.RCURLY)
}

// call prints `f(...)`. An argument on a later line than the previous one
// ended (or than `(`) starts a new line one level in; if `)` is on a later
// line than the last argument ended, that argument gets a comma and `)`
// its own line.
func (p *printer) call(c *ast.CallExpr) {
	p.operand(c.Value)
	p.tok(token.LPAREN)
	prevEnd := c.LParenPos
	for i, arg := range c.Args {
		if arg == nil {
			p.fail("nil call argument")
		}
		ownLine := p.startsLine(prevEnd, ast.StartPos(arg))
		if ownLine {
			p.ws(spBreak, spIn)
		}
		p.expr(arg)
		prevEnd = ast.EndPos(arg)
		if i+1 < len(c.Args) {
			p.tok(token.COMMA)
			p.ws(spBlank)
		}
		if ownLine {
			p.ws(spOut)
		}
	}
	if differentLines(prevEnd, c.RParenPos) {
		if len(c.Args) > 0 {
			// Alloy writes this comma even with no arguments, and `f(,)`
			// does not parse.
			p.tok(token.COMMA)
		}
		p.ws(spBreak)
	}
	p.tok(token.RPAREN)
}

// trimBlanks removes the blanks and tabs that end lines, turns form feeds
// into newlines and unwraps the text shielded by tabwriter.Escape, which it
// copies unchanged.
func trimBlanks(in []byte) []byte {
	out := make([]byte, 0, len(in))
	var blanks []byte // blanks seen since the last text, kept if text follows
	shielded := false
	for _, c := range in {
		if shielded {
			if c == tabwriter.Escape {
				shielded = false
				continue
			}
			out = append(out, c)
			continue
		}
		switch c {
		case ' ', '\t', '\v':
			if c == '\v' {
				c = '\t'
			}
			blanks = append(blanks, c)
		case '\n', '\f':
			blanks = blanks[:0]
			out = append(out, '\n')
		case tabwriter.Escape:
			out = append(out, blanks...)
			blanks = blanks[:0]
			shielded = true
		default:
			out = append(out, blanks...)
			blanks = blanks[:0]
			out = append(out, c)
		}
	}
	return out
}
