package printer_test

import (
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
	"github.com/shoal-dev/shoal/internal/syntax/scanner"
	"github.com/shoal-dev/shoal/internal/syntax/token"
)

// TestCommentsAndBreaksAnywhere puts comments and line breaks at random
// token boundaries of the valid corpus. Every variant that still parses
// must print to text that parses to the same tree with the same comments,
// and formatting must be a fixed point (or, where Alloy's own layout is
// not, settle: see checkSettles). The fuzzer rarely builds such
// inputs by itself. Bounded to 4000 variants or 20 seconds.
func TestCommentsAndBreaksAnywhere(t *testing.T) {
	inserts := []string{" /* c */ ", "/*c*/", " // line\n", "\n", "\n\n", " /* multi\nline */ ", "\n// own\n", "\n/* own */\n"}
	rng := rand.New(rand.NewSource(1))
	corpus := validCorpus(t)
	names := make([]string, 0, len(corpus))
	for name := range corpus {
		names = append(names, name)
	}
	sort.Strings(names)

	deadline := time.Now().Add(20 * time.Second)
	checked := 0
	for i := 0; i < 4000 && time.Now().Before(deadline); i++ {
		name := names[rng.Intn(len(names))]
		src := corpus[name]
		bounds := tokenBounds(src)
		if len(bounds) == 0 {
			continue
		}
		mutated := append([]byte(nil), src...)
		// Insert from the end so earlier offsets stay valid.
		picks := make([]int, 1+rng.Intn(6))
		for j := range picks {
			picks[j] = bounds[rng.Intn(len(bounds))]
		}
		sort.Sort(sort.Reverse(sort.IntSlice(picks)))
		for _, off := range picks {
			ins := inserts[rng.Intn(len(inserts))]
			mutated = append(mutated[:off], append([]byte(ins), mutated[off:]...)...)
		}
		if _, err := parser.ParseFile("m.alloy", mutated); err != nil {
			continue
		}
		checked++
		checkRoundTrip(t, "m.alloy", mutated)
		once, err := printer.Format("m.alloy", mutated)
		if err != nil {
			t.Fatalf("Format: %v\n%s", err, mutated)
		}
		checkSettles(t, "m.alloy", mutated, once)
	}
	if checked < 100 {
		t.Fatalf("only %d variants parsed", checked)
	}
	t.Logf("%d variants checked", checked)
}

// tokenBounds returns the offsets just after each token of src.
func tokenBounds(src []byte) []int {
	s := scanner.New(token.NewFile(""), src, nil, scanner.AvoidAutoTerminators)
	var out []int
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF || tok == token.ILLEGAL {
			return out
		}
		n := len(lit)
		if !tok.IsLiteral() {
			n = len(tok.String())
		}
		out = append(out, pos.Offset()+n)
	}
}
