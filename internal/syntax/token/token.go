// Package token defines the lexical tokens of shoal's configuration language
// (Grafana Alloy's syntax), their operator precedence, and source positions.
//
// It owns the vocabulary shared by the scanner, parser, printer and every
// later stage that reports an error at a file:line:col. It does not scan,
// parse or evaluate anything.
package token

import "strconv"

// Token is a lexical token kind.
type Token int

// The token kinds. Literal kinds print as their upper-case names (IDENT,
// NUMBER, ...); operators and delimiters print as their spelling.
const (
	ILLEGAL Token = iota
	EOF
	COMMENT

	literalBeg
	IDENT  // foobar
	NUMBER // 1234
	FLOAT  // 1.234
	STRING // "foobar" or `foobar`
	BOOL   // true
	NULL   // null
	literalEnd

	operatorBeg
	OR  // ||
	AND // &&
	NOT // !

	ASSIGN // =

	EQ  // ==
	NEQ // !=
	LT  // <
	LTE // <=
	GT  // >
	GTE // >=

	ADD // +
	SUB // -
	MUL // *
	DIV // /
	MOD // %
	POW // ^

	LCURLY // {
	RCURLY // }
	LPAREN // (
	RPAREN // )
	LBRACK // [
	RBRACK // ]
	COMMA  // ,
	DOT    // .
	operatorEnd

	// TERMINATOR ends a statement: a newline after a token that may end one
	// (as in Go's automatic semicolons), or the end of the file.
	TERMINATOR
)

var tokenNames = [...]string{
	ILLEGAL: "ILLEGAL",
	EOF:     "EOF",
	COMMENT: "COMMENT",

	IDENT:  "IDENT",
	NUMBER: "NUMBER",
	FLOAT:  "FLOAT",
	STRING: "STRING",
	BOOL:   "BOOL",
	NULL:   "NULL",

	OR:  "||",
	AND: "&&",
	NOT: "!",

	ASSIGN: "=",
	EQ:     "==",
	NEQ:    "!=",
	LT:     "<",
	LTE:    "<=",
	GT:     ">",
	GTE:    ">=",

	ADD: "+",
	SUB: "-",
	MUL: "*",
	DIV: "/",
	MOD: "%",
	POW: "^",

	LCURLY: "{",
	RCURLY: "}",
	LPAREN: "(",
	RPAREN: ")",
	LBRACK: "[",
	RBRACK: "]",
	COMMA:  ",",
	DOT:    ".",

	TERMINATOR: "TERMINATOR",
}

// String returns the token's name for literal kinds and its spelling for
// operators, as used in messages such as "expected {, got STRING".
func (t Token) String() string {
	if t >= 0 && int(t) < len(tokenNames) && tokenNames[t] != "" {
		return tokenNames[t]
	}
	return "token(" + strconv.Itoa(int(t)) + ")"
}

// IsLiteral reports whether t is an identifier or a literal value.
func (t Token) IsLiteral() bool { return literalBeg < t && t < literalEnd }

// IsOperator reports whether t is an operator or delimiter.
func (t Token) IsOperator() bool { return operatorBeg < t && t < operatorEnd }

// Operator precedences. Higher binds tighter.
const (
	LowestPrec  = 0 // not a binary operator
	UnaryPrec   = 7 // ! and unary -
	HighestPrec = 8 // postfix: .field, [index], (call)
)

// BinaryPrecedence returns t's precedence as a binary operator, or
// LowestPrec if t is not one.
func (t Token) BinaryPrecedence() int {
	switch t {
	case OR:
		return 1
	case AND:
		return 2
	case EQ, NEQ, LT, LTE, GT, GTE:
		return 3
	case ADD, SUB:
		return 4
	case MUL, DIV, MOD:
		return 5
	case POW:
		return 6
	}
	return LowestPrec
}

// RightAssociative reports whether the binary operator t groups right to
// left: only ^, so that 2^3^2 is 2^(3^2).
func (t Token) RightAssociative() bool { return t == POW }

// IsUnary reports whether t can be a prefix operator.
func (t Token) IsUnary() bool { return t == NOT || t == SUB }

// Lookup maps an identifier's spelling to its keyword token (BOOL for true
// and false, NULL for null), or IDENT.
func Lookup(ident string) Token {
	switch ident {
	case "true", "false":
		return BOOL
	case "null":
		return NULL
	}
	return IDENT
}
