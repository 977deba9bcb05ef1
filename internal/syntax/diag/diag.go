// Package diag holds the diagnostics of shoal's configuration language: an
// error or warning tied to a file:line:col range, lists of them that act as
// one error, and a printer that shows each with the offending source line
// and a caret, the way alloy does.
//
// Every stage that checks a config (parser, vm, runtime) reports through
// these types so that the user sees one format. The package does not decide
// what is an error; it only carries and prints them.
package diag

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// Severity is how bad a Diagnostic is.
type Severity int

// The severities, named as Alloy names them. Error is the zero value, so a
// Diagnostic built without a Severity is an error.
const (
	SeverityLevelError Severity = iota
	SeverityLevelWarn
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case SeverityLevelError:
		return "error"
	case SeverityLevelWarn:
		return "warning"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// Diagnostic is one problem found in a source file.
type Diagnostic struct {
	Severity Severity
	StartPos token.Position
	EndPos   token.Position // last byte of the offending range; may be zero
	Message  string
	// Value optionally names the offending value, e.g. the text of a bad
	// literal; printers may show it, it is not part of Error().
	Value string
}

// Error returns "file:line:col: message".
func (d Diagnostic) Error() string {
	if !d.StartPos.IsValid() && d.StartPos.Filename == "" {
		return d.Message
	}
	return d.StartPos.String() + ": " + d.Message
}

// Diagnostics is a list of diagnostics; as an error it reads as its first
// entry plus a count of the rest.
type Diagnostics []Diagnostic

// Add appends d.
func (ds *Diagnostics) Add(d Diagnostic) { *ds = append(*ds, d) }

// Error returns the first diagnostic's text, followed by
// " (and N more diagnostics)" when there are more.
func (ds Diagnostics) Error() string {
	switch len(ds) {
	case 0:
		return "no errors"
	case 1:
		return ds[0].Error()
	}
	return fmt.Sprintf("%s (and %d more diagnostics)", ds[0].Error(), len(ds)-1)
}

// HasErrors reports whether any diagnostic is an error rather than a
// warning.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityLevelError {
			return true
		}
	}
	return false
}

// ErrorOrNil returns ds as an error if it holds any error, else nil. Use it
// to avoid returning a non-nil error interface wrapping an empty list.
func (ds Diagnostics) ErrorOrNil() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

// Sort orders ds by file, then offset (line and column), keeping the report
// order of diagnostics at the same place.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].StartPos, ds[j].StartPos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// From returns the diagnostics carried by err: err itself if it is a
// Diagnostics or Diagnostic (possibly wrapped), else nil.
func From(err error) Diagnostics {
	var ds Diagnostics
	if errors.As(err, &ds) {
		return ds
	}
	var d Diagnostic
	if errors.As(err, &d) {
		return Diagnostics{d}
	}
	return nil
}

// Fprint writes every diagnostic as "FILE:LINE:COL: message" (warnings as
// "FILE:LINE:COL: warning: message"), followed, when sources holds the
// file's text, by the offending line and carets under the offending range:
//
//	config.alloy:3:9: missing ',' in expression list
//	   3 | 	foo = [1 2]
//	     | 	        ^
//
// Tabs in the source line are kept in the caret line so the caret lines up
// whatever the terminal's tab width. Diagnostics are separated by a blank
// line when a source excerpt is shown.
func Fprint(w io.Writer, diags Diagnostics, sources map[string][]byte) error {
	bw := bufio.NewWriter(w)
	for i, d := range diags {
		src, haveSrc := sources[d.StartPos.Filename]
		line, ok := sourceLine(src, d.StartPos)
		if i > 0 && (haveSrc && ok) {
			bw.WriteByte('\n')
		}
		prefix := ""
		if d.Severity == SeverityLevelWarn {
			prefix = "warning: "
		}
		if d.StartPos.IsValid() || d.StartPos.Filename != "" {
			bw.WriteString(d.StartPos.String())
			bw.WriteString(": ")
		}
		bw.WriteString(prefix)
		bw.WriteString(d.Message)
		bw.WriteByte('\n')
		if !haveSrc || !ok {
			continue
		}
		num := strconv.Itoa(d.StartPos.Line)
		gutter := strings.Repeat(" ", max(0, 4-len(num)))
		bw.WriteString(gutter + num + " | ")
		bw.WriteString(line)
		bw.WriteByte('\n')
		bw.WriteString(strings.Repeat(" ", len(gutter)+len(num)) + " | ")
		bw.WriteString(caretLine(line, d.StartPos, d.EndPos))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// sourceLine returns the text of pos's line in src without its newline.
func sourceLine(src []byte, pos token.Position) (string, bool) {
	if src == nil || pos.Line < 1 {
		return "", false
	}
	start := pos.Offset - (pos.Column - 1)
	if start < 0 || start > len(src) || pos.Offset > len(src) {
		return "", false
	}
	end := start
	for end < len(src) && src[end] != '\n' {
		end++
	}
	line := strings.TrimSuffix(string(src[start:end]), "\r")
	return strings.ToValidUTF8(line, "\uFFFD"), true
}

// caretLine builds the marker line under line for the range start..end.
func caretLine(line string, start, end token.Position) string {
	col := start.Column - 1
	if col > len(line) {
		col = len(line)
	}
	var b strings.Builder
	for _, r := range line[:col] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	n := 1
	if end.Line == start.Line && end.Column > start.Column {
		last := min(end.Column, len(line))
		if last > col {
			n = max(1, utf8.RuneCountInString(line[col:last]))
		}
	}
	b.WriteString(strings.Repeat("^", n))
	return b.String()
}

// Dedup returns ds without the diagnostics that repeat an earlier one's
// position and message, keeping the first of each. Two checks of one
// config (a load-time check and an evaluation) may find the same fault.
func (ds Diagnostics) Dedup() Diagnostics {
	type key struct {
		pos token.Position
		msg string
	}
	seen := make(map[key]bool, len(ds))
	out := ds[:0:0]
	for _, d := range ds {
		k := key{d.StartPos, d.Message}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}
