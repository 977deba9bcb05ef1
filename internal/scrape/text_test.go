package scrape

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

const textType = "text/plain; version=0.0.4"

// scrapeTwice parses first and then second, as two scrapes of one target,
// and returns what the second scrape produced.
func scrapeTwice(t testing.TB, slow bool, first, second []byte) ([]sample.Sample, parseResult, error) {
	t.Helper()
	cfg := testConfig()
	cfg.SampleLimit = 1000
	cfg.LabelLimit = 30
	tg, err := newTarget(labels.FromStrings("__address__", "h:1", "job", "diff"), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newParser(tg, &cfg)
	p.slowText = slow
	var res parseResult
	var b sample.Batch
	for tick, body := range [][]byte{first, second} {
		b = sample.Batch{}
		p.cache.begin()
		// parse may append a line break to a body; give each run its own
		// copy.
		res, err = p.parse([]byte(string(body)), textType, int64(tick+1), &b)
		n := 0
		if err != nil {
			p.cache.abort(staleAppender(&b, int64(tick+1), &n))
			continue
		}
		p.cache.commit(staleAppender(&b, int64(tick+1), &n))
	}
	return b.Samples, res, err
}

// sameSamples compares two scrapes' samples, NaN payloads included.
func sameSamples(a, b []sample.Sample) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d samples against %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if !labels.Equal(x.Labels, y.Labels) || x.T != y.T || math.Float64bits(x.V) != math.Float64bits(y.V) {
			return fmt.Sprintf("sample %d: %s %d %v against %s %d %v", i, x.Labels, x.T, x.V, y.Labels, y.T, y.V)
		}
	}
	return ""
}

// checkSameAsTextparse fails t when the fast path reads second (after
// first filled the cache) differently from textparse alone.
func checkSameAsTextparse(t *testing.T, first, second []byte) {
	t.Helper()
	fast, fres, ferr := scrapeTwice(t, false, first, second)
	slow, sres, serr := scrapeTwice(t, true, first, second)
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("fast path error %v, textparse error %v\nbody: %q", ferr, serr, second)
	}
	if ferr != nil {
		// A failed scrape sends nothing; the texts may differ in how
		// much of the next line they quote.
		return
	}
	if d := sameSamples(fast, slow); d != "" {
		t.Fatalf("fast path and textparse differ: %s\nbody: %q", d, second)
	}
	if fres.total != sres.total || fres.added != sres.added || fres.seriesAdded != sres.seriesAdded || fres.duplicates != sres.duplicates {
		t.Fatalf("counts differ: fast %+v, textparse %+v\nbody: %q", fres, sres, second)
	}
}

func TestKnownTextMatchesTextparse(t *testing.T) {
	base := "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 1\na_total{x=\"2\"} 2 1000\nb 3\n{\"utf8.name\",y=\"q\\\"}\"} 4\n"
	for _, tc := range []struct{ name, second string }{
		{"same lines, new values", strings.NewReplacer(" 1\n", " 10\n", " 3\n", " NaN\n", " 4\n", " +Inf\n").Replace(base)},
		{"a new series among known ones", strings.Replace(base, "b 3\n", "b 3\nc{z=\"9\"} 5\n", 1)},
		{"a known series with a bad value", strings.Replace(base, "b 3\n", "b 3x\n", 1)},
		{"hexadecimal and underscored values", strings.Replace(base, "b 3\n", "b 0x1p3\n", 1)},
		{"a bad type line", strings.Replace(base, "counter", "countr", 1)},
		{"a label value spanning lines", base + "c{v=\"two\nlines\"} 5\n"},
		{"a NUL byte", base + "b\x00 1\n"},
		{"no final line break", strings.TrimSuffix(base, "\n")},
		{"blank and indented lines", base + "\n   \n  b 5\n"},
		{"value right after the braces", strings.Replace(base, "a_total{x=\"1\"} 1", "a_total{x=\"1\"}1", 1)},
		{"trailing blanks and a timestamp", strings.Replace(base, "b 3\n", "b 3 \t 77 \n", 1)},
		{"a timestamp out of range", strings.Replace(base, "b 3\n", "b 3 99999999999999999999\n", 1)},
		{"the same series twice", base + "b 7\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkSameAsTextparse(t, []byte(base), []byte(tc.second))
		})
	}
}

// A steady target is read by the fast path: a second scrape of the same
// lines adds no series and sends every sample with its new value.
func TestKnownTextServesSteadyTargets(t *testing.T) {
	first := []byte("# TYPE m gauge\nm{a=\"1\"} 1\nm{a=\"2\"} 2\n")
	second := []byte("# TYPE m gauge\nm{a=\"1\"} 5\nm{a=\"2\"} 6\n")
	got, res, err := scrapeTwice(t, false, first, second)
	if err != nil {
		t.Fatal(err)
	}
	if res.seriesAdded != 0 || len(got) != 2 || got[0].V != 5 || got[1].V != 6 || got[0].Labels.Get("a") != "1" {
		t.Fatalf("second scrape: %+v, %v", res, got)
	}
}

// FuzzKnownTextMatchesTextparse checks that the fast path never reads a
// body differently from textparse: same samples, same counts, and an error
// exactly when textparse errs. The first body fills the cache, the second
// is read by both; then the second is read after itself. Seeds live in
// testdata/text.
func FuzzKnownTextMatchesTextparse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/text/*")
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		first, second, _ := strings.Cut(string(b), "\n---\n")
		f.Add([]byte(first), []byte(second))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		checkSameAsTextparse(t, first, second)
		// The same body twice: every line it has is known the second
		// time, which random pairs of bodies rarely achieve.
		checkSameAsTextparse(t, second, second)
	})
}

// The Content-Type is remembered only while it stays the same: a target
// that switches to OpenMetrics is read by the OpenMetrics parser.
func TestContentTypeChangesAreHonored(t *testing.T) {
	cfg := testConfig()
	tg, err := newTarget(labels.FromStrings("__address__", "h:1"), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newParser(tg, &cfg)
	for i, tc := range []struct {
		ct      string
		body    string
		wantErr bool
	}{
		{textType, "a 1\n", false},
		{textType, "a 2\n", false},
		// OpenMetrics requires "# EOF"; the text format does not.
		{"application/openmetrics-text; version=1.0.0", "a 3\n", true},
		{textType, "a 5\n", false},
	} {
		var b sample.Batch
		p.cache.begin()
		_, err := p.parse([]byte(tc.body), tc.ct, int64(i), &b)
		n := 0
		if err != nil {
			p.cache.abort(staleAppender(&b, int64(i), &n))
		} else {
			p.cache.commit(staleAppender(&b, int64(i), &n))
		}
		if (err != nil) != tc.wantErr {
			t.Fatalf("scrape %d (%q): err = %v, want error %v", i, tc.ct, err, tc.wantErr)
		}
	}
}
