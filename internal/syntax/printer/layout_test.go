package printer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

// TestRealConfigs formats real configs from Grafana's repositories and
// compares each with what `alloy fmt` printed for it, byte for byte; the
// .alloy-fmt files, being Alloy's layout, must format to themselves.
func TestRealConfigs(t *testing.T) {
	checkAlloyPairs(t, "testdata/real", 18)
}

// TestLayoutRules does the same for small files that each exercise one of
// Alloy's layout rules; their .alloy-fmt files were printed by Alloy's own
// printer (see testdata/layout/README.md).
func TestLayoutRules(t *testing.T) {
	checkAlloyPairs(t, "testdata/layout", 10)
}

func checkAlloyPairs(t *testing.T, dir string, atLeast int) {
	inputs, _ := filepath.Glob(filepath.Join(dir, "*.alloy"))
	if len(inputs) < atLeast {
		t.Fatalf("%d .alloy files in %s, want at least %d", len(inputs), dir, atLeast)
	}
	for _, in := range inputs {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".alloy"), func(t *testing.T) {
			src := readFile(t, in)
			want := readFile(t, in+"-fmt")
			got, err := printer.Format(in, src)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("differs from alloy fmt:\n%s", lineDiff(string(got), string(want)))
			}
			checkRoundTrip(t, in, src)
			checkSettles(t, in, src, got)
		})
	}
}

// TestDeviations covers the inputs on which shoal's layout departs from
// Alloy's on purpose. Each NAME.alloy has shoal's layout in NAME.want and
// Alloy's in NAME.alloy-fmt (and Alloy's layout of that in NAME.alloy-fmt2
// when it parses). The test proves each departure is needed: Alloy's
// output does not parse, or parses to another tree or other comments, or
// changes when Alloy formats it again. shoal's output is a fixed point.
func TestDeviations(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/deviations/*.alloy")
	if len(inputs) < 5 {
		t.Fatalf("only %d deviation cases", len(inputs))
	}
	for _, in := range inputs {
		t.Run(strings.TrimSuffix(filepath.Base(in), ".alloy"), func(t *testing.T) {
			src := readFile(t, in)
			want := readFile(t, strings.TrimSuffix(in, ".alloy")+".want")
			got, err := printer.Format(in, src)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("differs from .want:\n%s", lineDiff(string(got), string(want)))
			}
			checkRoundTrip(t, in, src)
			checkSettles(t, in, src, got)

			alloyOut := readFile(t, in+"-fmt")
			if bytes.Equal(alloyOut, got) {
				t.Fatal("shoal prints what Alloy prints: not a deviation")
			}
			if alloyBroken(in, src, alloyOut) {
				return
			}
			again, err := os.ReadFile(in + "-fmt2")
			if err != nil {
				t.Fatalf("Alloy's output parses to the same tree; want %s-fmt2 to show it is not a fixed point", in)
			}
			if bytes.Equal(again, alloyOut) {
				t.Fatal("Alloy's output is sound and a fixed point: shoal should print it")
			}
		})
	}
}

// alloyBroken reports whether Alloy's output for src fails to parse or
// parses to a different tree or different comments.
func alloyBroken(name string, src, alloyOut []byte) bool {
	f1, err := parser.ParseFile(name, src)
	if err != nil {
		return false
	}
	f2, err := parser.ParseFile(name, alloyOut)
	return err != nil || dump(f1) != dump(f2) || commentTexts(f1) != commentTexts(f2)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
