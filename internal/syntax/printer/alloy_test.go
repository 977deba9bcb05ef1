package printer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

// TestAlloyPrinterFiles formats each of Alloy's printer test inputs and
// compares the result with its .expect file byte for byte, or checks that it
// fails with the message of its .error file.
//
// The .expect files do not agree among themselves on how a file ends:
// mixed_object.expect ends in a blank line, raw_string.expect has no final
// newline, the others end in one newline, and no formatter can produce all
// three from their inputs. Like Alloy's own test, the comparison therefore
// ignores trailing whitespace at the very end; every other byte must match.
// Format itself always ends a non-empty file with exactly one newline.
func TestAlloyPrinterFiles(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/alloy/*.in")
	if len(inputs) == 0 {
		t.Fatal("no .in files in testdata/alloy")
	}
	for _, in := range inputs {
		base := strings.TrimSuffix(in, ".in")
		t.Run(filepath.Base(base), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := printer.Format(in, src)

			if wantErr, rerr := os.ReadFile(base + ".error"); rerr == nil {
				if err == nil {
					t.Fatalf("Format succeeded, want error %q", wantErr)
				}
				if !strings.Contains(err.Error(), strings.TrimSpace(string(wantErr))) {
					t.Fatalf("error %q does not contain %q", err, wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			want, err := os.ReadFile(base + ".expect")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimRight(got, " \t\n"), bytes.TrimRight(want, " \t\n")) {
				t.Errorf("formatted output differs from %s.expect\n--- got\n%s\n--- want\n%s\n--- diff\n%s",
					base, got, want, lineDiff(string(got), string(want)))
			}
			if !bytes.HasSuffix(got, []byte("\n")) || bytes.HasSuffix(got, []byte("\n\n")) {
				t.Errorf("output does not end in exactly one newline: %q", tail(got))
			}
			again, err := printer.Format(in, got)
			if err != nil {
				t.Fatalf("formatting the output again: %v", err)
			}
			if !bytes.Equal(again, got) {
				t.Errorf("not a fixed point:\n%s", lineDiff(string(again), string(got)))
			}
		})
	}
}

func tail(b []byte) []byte {
	if len(b) > 20 {
		return b[len(b)-20:]
	}
	return b
}

// lineDiff lists the lines that differ between got and want.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			b.WriteString("line ")
			b.WriteString(strings.Repeat(" ", 0))
			b.WriteString(itoa(i+1) + ":\n\tgot:  " + quote(gl) + "\n\twant: " + quote(wl) + "\n")
		}
	}
	return b.String()
}

func itoa(i int) string {
	s := ""
	if i == 0 {
		return "0"
	}
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

func quote(s string) string { return "`" + strings.ReplaceAll(s, "\t", "→") + "`" }
