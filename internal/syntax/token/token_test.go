package token_test

import (
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/token"
)

func TestPositionString(t *testing.T) {
	for _, c := range []struct {
		p    token.Position
		want string
	}{
		{token.Position{Filename: "a.alloy", Line: 3, Column: 7}, "a.alloy:3:7"},
		{token.Position{Line: 3, Column: 7}, "3:7"},
		{token.Position{Filename: "a.alloy"}, "a.alloy"},
		{token.Position{}, "-"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.p, got, c.want)
		}
	}
}

func TestFilePositions(t *testing.T) {
	src := "ab\n\tcd\n\nxé y"
	f := token.NewFile("f")
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			f.AddLine(i + 1)
		}
	}
	for off, want := range map[int]string{
		0: "f:1:1", 2: "f:1:3", 3: "f:2:1", 4: "f:2:2", 7: "f:3:1", 8: "f:4:1",
		11: "f:4:4", // columns count bytes: é is two
	} {
		if got := f.Pos(off).String(); got != want {
			t.Errorf("offset %d: got %s, want %s", off, got, want)
		}
	}
	if token.NoPos.IsValid() || token.NoPos.String() != "-" {
		t.Errorf("NoPos: valid=%v %q", token.NoPos.IsValid(), token.NoPos.String())
	}
	if got := f.Pos(3).Add(1).Position().Column; got != 2 {
		t.Errorf("Add: column %d", got)
	}
}

func TestPrecedence(t *testing.T) {
	want := map[token.Token]int{
		token.OR: 1, token.AND: 2,
		token.EQ: 3, token.NEQ: 3, token.LT: 3, token.LTE: 3, token.GT: 3, token.GTE: 3,
		token.ADD: 4, token.SUB: 4, token.MUL: 5, token.DIV: 5, token.MOD: 5, token.POW: 6,
		token.NOT: 0, token.ASSIGN: 0, token.IDENT: 0,
	}
	for tok, prec := range want {
		if got := tok.BinaryPrecedence(); got != prec {
			t.Errorf("%s: precedence %d, want %d", tok, got, prec)
		}
	}
	if !token.POW.RightAssociative() || token.ADD.RightAssociative() {
		t.Error("only ^ is right-associative")
	}
	if token.UnaryPrec <= token.POW.BinaryPrecedence() {
		t.Error("unary operators must bind tighter than ^")
	}
}

func TestTokenStrings(t *testing.T) {
	for tok, want := range map[token.Token]string{
		token.IDENT: "IDENT", token.STRING: "STRING", token.BOOL: "BOOL", token.NUMBER: "NUMBER",
		token.LCURLY: "{", token.RPAREN: ")", token.NEQ: "!=", token.OR: "||", token.EOF: "EOF",
	} {
		if tok.String() != want {
			t.Errorf("got %q, want %q", tok.String(), want)
		}
	}
	if token.Lookup("true") != token.BOOL || token.Lookup("null") != token.NULL || token.Lookup("nullx") != token.IDENT {
		t.Error("Lookup")
	}
}
