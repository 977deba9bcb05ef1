// Package scanner turns the source text of shoal's configuration language
// (Grafana Alloy's syntax) into tokens: identifiers, numbers, strings,
// operators and comments, with a TERMINATOR inserted at each newline that
// can end a statement, as Go inserts semicolons.
//
// It owns lexical errors (bad characters, unterminated strings and
// comments, bad escapes, single-quoted strings). It does not build trees:
// that is the parser's job.
package scanner

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// ErrorHandler is called for each lexical error with its position and
// message.
type ErrorHandler func(pos token.Pos, msg string)

// Mode controls what the scanner returns.
type Mode uint

const (
	// IncludeComments makes Scan return COMMENT tokens. Without it comments
	// are skipped without allocating.
	IncludeComments Mode = 1 << iota
	// AvoidAutoTerminators disables TERMINATOR insertion at newlines.
	AvoidAutoTerminators
)

const bom = 0xFEFF

// Scanner reads tokens from one source file. The zero Scanner is not
// usable; call New.
type Scanner struct {
	file *token.File
	src  []byte
	err  ErrorHandler
	mode Mode

	ch         rune // current character; -1 at end of input
	offset     int  // offset of ch
	readOffset int  // offset just after ch

	insertTerm bool // a newline here would end a statement

	// codeAfter is an offset before which findLineEnd is known to be false:
	// a token follows on the line. It keeps a line of many comments linear.
	codeAfter int

	// idents interns identifier spellings: configs repeat a few dozen
	// names thousands of times, and the tree then shares one string each.
	idents map[string]string

	// ErrorCount is the number of errors reported.
	ErrorCount int
}

// New returns a Scanner over src that records line starts in file and
// reports errors to eh (which may be nil).
func New(file *token.File, src []byte, eh ErrorHandler, mode Mode) *Scanner {
	s := &Scanner{file: file, src: src, err: eh, mode: mode, ch: ' '}
	s.next()
	if s.ch == bom {
		s.next()
	}
	return s
}

func (s *Scanner) errorf(off int, format string, args ...any) {
	s.ErrorCount++
	if s.err != nil {
		s.err(s.file.Pos(off), fmt.Sprintf(format, args...))
	}
}

// next reads the next character into s.ch.
func (s *Scanner) next() {
	if s.readOffset >= len(s.src) {
		s.offset = len(s.src)
		if s.ch == '\n' {
			s.file.AddLine(s.offset)
		}
		s.ch = -1
		return
	}
	s.offset = s.readOffset
	if s.ch == '\n' {
		s.file.AddLine(s.offset)
	}
	r, w := rune(s.src[s.readOffset]), 1
	switch {
	case r == 0:
		s.errorf(s.offset, "illegal character NUL")
	case r >= utf8.RuneSelf:
		r, w = utf8.DecodeRune(s.src[s.readOffset:])
		if r == utf8.RuneError && w == 1 {
			s.errorf(s.offset, "illegal UTF-8 encoding")
		} else if r == bom && s.offset > 0 {
			s.errorf(s.offset, "illegal byte order mark")
		}
	}
	s.readOffset += w
	s.ch = r
}

// peek returns the byte after s.ch without advancing, or 0 at the end.
func (s *Scanner) peek() byte {
	if s.readOffset < len(s.src) {
		return s.src[s.readOffset]
	}
	return 0
}

// Scan returns the next token, its position and, for literals, comments,
// ILLEGAL and TERMINATOR, its source text (TERMINATOR's is "\n" at a
// newline and "" at the end of the file). Operators have an empty lit. At
// the end of input Scan returns EOF forever.
func (s *Scanner) Scan() (pos token.Pos, tok token.Token, lit string) {
scanAgain:
	s.skipWhitespace()

	pos = s.file.Pos(s.offset)
	insertTerm := false

	switch ch := s.ch; {
	case isLetter(ch):
		lit = s.scanIdentifier()
		tok = token.Lookup(lit)
		insertTerm = true
	case isDecimal(ch) || ch == '.' && isDecimal(rune(s.peek())):
		// As in Alloy, a fraction may start with its point: .5
		tok, lit = s.scanNumber()
		insertTerm = true
	default:
		s.next() // always make progress
		switch ch {
		case -1:
			if s.insertTerm {
				s.insertTerm = false
				return pos, token.TERMINATOR, ""
			}
			tok = token.EOF
		case '\n':
			// Only reached when s.insertTerm was set: skipWhitespace
			// skips newlines otherwise.
			s.insertTerm = false
			return pos, token.TERMINATOR, "\n"
		case '"':
			tok, lit = token.STRING, s.scanString(pos.Offset())
			insertTerm = true
		case '`':
			tok, lit = token.STRING, s.scanRawString(pos.Offset())
			insertTerm = true
		case '\'':
			tok, lit = token.STRING, s.scanSingleQuoted(pos.Offset())
			insertTerm = true
		case '/':
			if s.ch == '/' || s.ch == '*' {
				if s.insertTerm && s.findLineEnd() {
					// Return the terminator first, at the comment's
					// position; the comment is scanned on the next call.
					s.rewind(pos.Offset())
					s.insertTerm = false
					return pos, token.TERMINATOR, "\n"
				}
				comment, ok := s.scanComment(pos.Offset())
				if !ok {
					s.insertTerm = false
				}
				if s.mode&IncludeComments == 0 {
					goto scanAgain
				}
				return pos, token.COMMENT, comment
			}
			tok = token.DIV
		case '{':
			tok = token.LCURLY
		case '}':
			tok = token.RCURLY
			insertTerm = true
		case '(':
			tok = token.LPAREN
		case ')':
			tok = token.RPAREN
			insertTerm = true
		case '[':
			tok = token.LBRACK
		case ']':
			tok = token.RBRACK
			insertTerm = true
		case ',':
			tok = token.COMMA
		case '.':
			tok = token.DOT
		case '+':
			tok = token.ADD
		case '-':
			tok = token.SUB
		case '*':
			tok = token.MUL
		case '%':
			tok = token.MOD
		case '^':
			tok = token.POW
		case '=':
			tok = s.switch2(token.ASSIGN, token.EQ)
		case '!':
			tok = s.switch2(token.NOT, token.NEQ)
		case '<':
			tok = s.switch2(token.LT, token.LTE)
		case '>':
			tok = s.switch2(token.GT, token.GTE)
		case '&':
			if s.ch == '&' {
				s.next()
				tok = token.AND
			} else {
				s.errorf(pos.Offset(), "illegal character %#U; did you mean &&?", ch)
				tok, lit = token.ILLEGAL, "&"
			}
		case '|':
			if s.ch == '|' {
				s.next()
				tok = token.OR
			} else {
				s.errorf(pos.Offset(), "illegal character %#U; did you mean ||?", ch)
				tok, lit = token.ILLEGAL, "|"
			}
		case ':':
			s.errorf(pos.Offset(), "illegal character %#U; object fields are written key = value", ch)
			tok, lit = token.ILLEGAL, ":"
		case '?':
			s.errorf(pos.Offset(), "illegal character %#U; the language has no ternary operator", ch)
			tok, lit = token.ILLEGAL, "?"
		default:
			if ch != bom && ch != 0 && (ch != utf8.RuneError || s.offset-pos.Offset() != 1) {
				// NUL, BOM and invalid UTF-8 were reported by next.
				s.errorf(pos.Offset(), "illegal character %#U", ch)
			}
			tok, lit = token.ILLEGAL, string(s.src[pos.Offset():s.offset])
			insertTerm = s.insertTerm // keep the line's terminator state
		}
	}

	if s.mode&AvoidAutoTerminators == 0 {
		s.insertTerm = insertTerm
	}
	return pos, tok, lit
}

// switch2 returns with if the current character is '=' (consuming it), or
// without.
func (s *Scanner) switch2(without, with token.Token) token.Token {
	if s.ch == '=' {
		s.next()
		return with
	}
	return without
}

// rewind moves the scanner back to off, which must be on the current line.
func (s *Scanner) rewind(off int) {
	s.readOffset = off
	s.ch = ' '
	s.next()
}

func (s *Scanner) skipWhitespace() {
	for s.ch == ' ' || s.ch == '\t' || s.ch == '\r' || (s.ch == '\n' && !s.insertTerm) {
		s.next()
	}
}

// findLineEnd reports whether, from the '/' just consumed (s.ch is the
// second character of a comment), only comments and spaces remain before
// the next newline or the end of input. It does not move the scanner.
func (s *Scanner) findLineEnd() bool {
	src := s.src
	i := s.offset - 1 // at the '/'
	if i < s.codeAfter {
		return false
	}
	for {
		// at a comment start
		if i+1 >= len(src) || src[i] != '/' {
			return false
		}
		switch src[i+1] {
		case '/':
			return true
		case '*':
			i += 2
			for ; i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/'); i++ {
				if src[i] == '\n' {
					return true
				}
			}
			if i+1 >= len(src) {
				return true // unterminated: runs to the end of input
			}
			i += 2
		default:
			s.codeAfter = i
			return false
		}
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r') {
			i++
		}
		if i >= len(src) || src[i] == '\n' {
			return true
		}
		if src[i] != '/' {
			s.codeAfter = i
			return false
		}
	}
}

// scanComment scans a comment whose '/' is at off; s.ch is '/' or '*'. It
// returns the text (without the newline of a // comment) and false if a
// /* comment was not terminated. The text is only allocated when comments
// are returned.
func (s *Scanner) scanComment(off int) (string, bool) {
	ok := true
	if s.ch == '/' {
		for s.ch != '\n' && s.ch >= 0 {
			s.next()
		}
	} else {
		s.next() // consume '*'
		for {
			if s.ch < 0 {
				s.errorf(off, "comment not terminated")
				ok = false
				break
			}
			ch := s.ch
			s.next()
			if ch == '*' && s.ch == '/' {
				s.next()
				break
			}
		}
	}
	if s.mode&IncludeComments == 0 {
		return "", ok
	}
	end := s.offset
	if s.src[off+1] == '/' {
		for end > off+2 && s.src[end-1] == '\r' {
			end-- // keep a CRLF file's comments free of \r
		}
	}
	return string(s.src[off:end]), ok
}

func (s *Scanner) scanIdentifier() string {
	off := s.offset
	for isLetter(s.ch) || isDigit(s.ch) {
		s.next()
	}
	b := s.src[off:s.offset]
	if id, ok := s.idents[string(b)]; ok {
		return id
	}
	if s.idents == nil {
		s.idents = make(map[string]string)
	}
	id := string(b)
	s.idents[id] = id
	return id
}

// scanNumber scans decimal digits with an optional fraction and exponent.
// A '.' belongs to the number only when a digit follows it, so `1.foo` is
// NUMBER DOT IDENT.
func (s *Scanner) scanNumber() (token.Token, string) {
	off := s.offset
	tok := token.NUMBER
	for isDecimal(s.ch) {
		s.next()
	}
	if s.ch == '.' && isDecimal(rune(s.peek())) {
		tok = token.FLOAT
		s.next()
		for isDecimal(s.ch) {
			s.next()
		}
	}
	if s.ch == 'e' || s.ch == 'E' {
		tok = token.FLOAT
		s.next()
		if s.ch == '+' || s.ch == '-' {
			s.next()
		}
		if !isDecimal(s.ch) {
			s.errorf(s.offset, "exponent has no digits")
		}
		for isDecimal(s.ch) {
			s.next()
		}
	}
	if isLetter(s.ch) {
		digits := s.offset
		onlyLetters := true
		for isLetter(s.ch) || isDigit(s.ch) {
			onlyLetters = onlyLetters && isLetter(s.ch)
			s.next()
		}
		text := string(s.src[off:s.offset])
		if onlyLetters && tok == token.NUMBER && digits > off {
			// 15s, 10MiB: durations and sizes are strings in Alloy.
			s.errorf(off, "invalid number %s: durations and sizes must be quoted strings, as in \"%s\"", text, text)
		} else {
			s.errorf(off, "invalid number %s: numbers are decimal, as in 42, 1.5 or 2e10", text)
		}
	}
	return tok, string(s.src[off:s.offset])
}

// scanString scans a double-quoted string whose opening quote is at off.
func (s *Scanner) scanString(off int) string {
	for {
		ch := s.ch
		if ch == '\n' || ch < 0 {
			s.errorf(off, "string literal not terminated")
			break
		}
		s.next()
		if ch == '"' {
			break
		}
		if ch == '\\' {
			s.scanEscape('"')
		}
	}
	return string(s.src[off:s.offset])
}

// scanEscape checks the escape whose backslash was just consumed, as Go
// defines them.
func (s *Scanner) scanEscape(quote rune) {
	off := s.offset - 1 // the backslash
	var n int
	var base, max uint32
	switch s.ch {
	case 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\', quote:
		s.next()
		return
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n, base, max = 3, 8, 255
	case 'x':
		s.next()
		n, base, max = 2, 16, 255
	case 'u':
		s.next()
		n, base, max = 4, 16, unicode.MaxRune
	case 'U':
		s.next()
		n, base, max = 8, 16, unicode.MaxRune
	default:
		if s.ch < 0 || s.ch == '\n' {
			return // reported as an unterminated string
		}
		s.errorf(off, "unknown escape sequence \\%c", s.ch)
		if s.ch != quote {
			s.next()
		}
		return
	}

	var x uint32
	need, kind := n, "hex"
	if base == 8 {
		kind = "octal"
	}
	for ; n > 0; n-- {
		d := uint32(digitVal(s.ch))
		if d >= base {
			s.errorf(off, "invalid escape sequence %s: %s needs %d %s digits",
				string(s.src[off:s.offset]), string(s.src[off:off+2]), need, kind)
			return
		}
		x = x*base + d
		s.next()
	}
	if x > max || 0xD800 <= x && x < 0xE000 {
		s.errorf(off, "escape sequence is invalid Unicode code point %#U", x)
	}
}

// scanRawString scans a backtick string whose opening backtick is at off.
// Carriage returns are kept in the literal; the vm strips them like Go.
func (s *Scanner) scanRawString(off int) string {
	for {
		ch := s.ch
		if ch < 0 {
			s.errorf(off, "raw string literal not terminated")
			break
		}
		s.next()
		if ch == '`' {
			break
		}
	}
	return string(s.src[off:s.offset])
}

// scanSingleQuoted reports a single-quoted string and consumes it up to the
// closing quote on the same line, so that parsing can go on.
func (s *Scanner) scanSingleQuoted(off int) string {
	for {
		ch := s.ch
		if ch == '\n' || ch < 0 {
			break
		}
		s.next()
		if ch == '\'' {
			break
		}
		if ch == '\\' && s.ch != '\n' && s.ch >= 0 {
			s.next()
		}
	}
	s.errorf(off, "illegal single-quoted string; use double quotes (\"...\") or backticks (`...`)")
	return string(s.src[off:s.offset])
}

func isLetter(ch rune) bool {
	return 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_' ||
		ch >= utf8.RuneSelf && unicode.IsLetter(ch)
}

func isDigit(ch rune) bool {
	return isDecimal(ch) || ch >= utf8.RuneSelf && unicode.IsDigit(ch)
}

func isDecimal(ch rune) bool { return '0' <= ch && ch <= '9' }

func digitVal(ch rune) int {
	switch {
	case '0' <= ch && ch <= '9':
		return int(ch - '0')
	case 'a' <= ch && ch <= 'f':
		return int(ch - 'a' + 10)
	case 'A' <= ch && ch <= 'F':
		return int(ch - 'A' + 10)
	}
	return 16
}

// IsIdentifier reports whether s would scan as a single identifier: a
// letter or underscore followed by letters, digits and underscores, and not
// one of the keywords true, false and null.
func IsIdentifier(s string) bool {
	if s == "" || token.Lookup(s) != token.IDENT {
		return false
	}
	for i, r := range s {
		if !isLetter(r) && (i == 0 || !isDigit(r)) {
			return false
		}
	}
	return true
}
