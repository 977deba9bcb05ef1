package diag_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

func pos(file string, off, line, col int) token.Position {
	return token.Position{Filename: file, Offset: off, Line: line, Column: col}
}

func TestFprintShowsLineAndCaret(t *testing.T) {
	src := []byte("a = 1\n\tfoo = [1 2]\n")
	ds := diag.Diagnostics{
		{StartPos: pos("c.alloy", 15, 2, 10), EndPos: pos("c.alloy", 15, 2, 10), Message: "missing ',' in expression list"},
		{Severity: diag.SeverityLevelWarn, StartPos: pos("c.alloy", 0, 1, 1), EndPos: pos("c.alloy", 0, 1, 1), Message: "unused"},
		{StartPos: pos("other.alloy", 0, 1, 1), Message: "no source for this one"},
	}
	var b strings.Builder
	if err := diag.Fprint(&b, ds, map[string][]byte{"c.alloy": src}); err != nil {
		t.Fatal(err)
	}
	want := "c.alloy:2:10: missing ',' in expression list\n" +
		"   2 | \tfoo = [1 2]\n" +
		"     | \t        ^\n" +
		"\n" +
		"c.alloy:1:1: warning: unused\n" +
		"   1 | a = 1\n" +
		"     | ^\n" +
		"other.alloy:1:1: no source for this one\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFprintUnderlinesRange(t *testing.T) {
	src := []byte(`x = "héllo" + 1`)
	d := diag.Diagnostic{StartPos: pos("f", 4, 1, 5), EndPos: pos("f", 11, 1, 12), Message: "bad"}
	var b strings.Builder
	diag.Fprint(&b, diag.Diagnostics{d}, map[string][]byte{"f": src})
	lines := strings.Split(b.String(), "\n")
	if got, want := lines[2], "     |     ^^^^^^^"; got != want {
		t.Errorf("caret line %q, want %q", got, want)
	}
}

func TestDiagnosticsAsError(t *testing.T) {
	var ds diag.Diagnostics
	if ds.ErrorOrNil() != nil || ds.HasErrors() {
		t.Fatal("empty diagnostics are not an error")
	}
	ds.Add(diag.Diagnostic{Severity: diag.SeverityLevelWarn, StartPos: pos("a", 0, 1, 1), Message: "w"})
	if ds.ErrorOrNil() != nil {
		t.Fatal("warnings alone are not an error")
	}
	ds.Add(diag.Diagnostic{StartPos: pos("a", 0, 2, 3), Message: "boom"})
	ds.Add(diag.Diagnostic{StartPos: pos("a", 0, 1, 9), Message: "first"})
	ds.Sort()
	if got := ds.Error(); got != "a:1:1: w (and 2 more diagnostics)" {
		t.Errorf("Error() = %q", got)
	}
	if ds[1].Message != "first" {
		t.Errorf("Sort: %v", ds)
	}
	wrapped := fmt.Errorf("loading: %w", ds.ErrorOrNil())
	if got := diag.From(wrapped); len(got) != 3 {
		t.Errorf("From(wrapped) = %v", got)
	}
	if diag.From(errors.New("plain")) != nil {
		t.Error("From(plain error) should be nil")
	}
	if got := (diag.Diagnostic{Message: "m"}).Error(); got != "m" {
		t.Errorf("positionless Error() = %q", got)
	}
}

func TestDedupKeepsTheFirstOfEachPositionAndMessage(t *testing.T) {
	at := func(line int, msg string) diag.Diagnostic {
		return diag.Diagnostic{StartPos: token.Position{Filename: "f.alloy", Line: line, Column: 1}, Message: msg}
	}
	ds := diag.Diagnostics{at(1, "a"), at(2, "b"), at(1, "a"), at(1, "c"), at(2, "b")}
	got := ds.Dedup()
	if len(got) != 3 || got[0].Message != "a" || got[1].Message != "b" || got[2].Message != "c" {
		t.Fatalf("Dedup = %v", got)
	}
	if len(ds) != 5 || ds[2].Message != "a" {
		t.Fatalf("Dedup changed its input: %v", ds)
	}
}
