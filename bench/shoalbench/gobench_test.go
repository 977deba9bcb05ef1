package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestParseBenchReadsEveryFigureOfGoTestOutput(t *testing.T) {
	f, err := os.Open("testdata/gotest-bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := parseBench(f)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		pkg, name string
		n         int64
		units     []string
	}
	wants := []want{
		{"internal/cluster", "BenchmarkOwnershipRecompute100kTargets100Nodes", 60, []string{"ns/op", "ms/recompute"}},
		{"internal/cluster", "BenchmarkOwns100Nodes", 7735860, []string{"ns/op"}},
		{"internal/cluster", "BenchmarkGossipConvergence100Nodes", 2, []string{"ns/op", "ms/propagation", "ms/worst"}},
		{"internal/cluster", "BenchmarkFailureDetection/idle", 2, []string{"ns/op", "ms/detection", "ms/worst"}},
		{"internal/scrape", "BenchmarkScrapeParseLabelBatch", 5000, []string{"ns/op", "MB/s", "B/op", "allocs/op", "ns/sample", "allocs/sample"}},
	}
	if len(run.Results) != len(wants) {
		t.Fatalf("%d results, want %d: %+v", len(run.Results), len(wants), run.Results)
	}
	for i, w := range wants {
		r := run.Results[i]
		if shortPkg(r.Pkg) != w.pkg || r.Name != w.name || r.N != w.n || r.Procs != 2 {
			t.Errorf("result %d = %s %s n=%d procs=%d, want %s %s n=%d procs=2", i, shortPkg(r.Pkg), r.Name, r.N, r.Procs, w.pkg, w.name, w.n)
		}
		var units []string
		for _, m := range r.Metrics {
			units = append(units, m.Unit)
		}
		if strings.Join(units, ",") != strings.Join(w.units, ",") {
			t.Errorf("%s units = %v, want %v", w.name, units, w.units)
		}
	}
	if got := run.Results[1].Metrics[0].Value; got != 242.3 {
		t.Errorf("Owns100Nodes ns/op = %v, want 242.3", got)
	}
	if len(run.Failures) != 2 || !strings.Contains(run.Failures[0], "cpu-saturated") || !strings.Contains(run.Failures[1], "internal/web") {
		t.Errorf("failures = %q, want the failed sub-benchmark and the failed package", run.Failures)
	}
	if !strings.Contains(run.Failures[0], "— detection_test.go:120: node n3 never declared dead") {
		t.Errorf("failure %q should carry the log line under it", run.Failures[0])
	}
	if len(run.Skips) != 1 || !strings.HasSuffix(run.Skips[0], "— x_test.go:10: needs root") {
		t.Errorf("skips = %q, want one", run.Skips)
	}
	if len(run.Notes) != 1 || !strings.HasPrefix(run.Notes[0], "go test") {
		t.Errorf("notes = %q, want the run.sh note", run.Notes)
	}
}

func TestParseBenchIgnoresLinesThatAreNotFigures(t *testing.T) {
	for _, in := range []string{
		"BenchmarkX-2 10\n",          // no figures at all
		"BenchmarkX-2 0 5 ns/op\n",   // zero iterations
		"BenchmarkX-2 ten 5 ns/op\n", // not a count
		"    some_test.go:12: 10 ns/op\n",
		"ok  \tgithub.com/x\t1.0s\n",
	} {
		run, err := parseBench(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Results) != 0 {
			t.Errorf("%q gave %+v, want no result", in, run.Results)
		}
	}
}

func TestParseBenchReportsAMarkedRunWithoutFigures(t *testing.T) {
	in := "#shoalbench go test -bench X -benchtime bad ./a\n" +
		"invalid value \"bad\" for flag -test.benchtime: invalid duration\n" +
		"Usage of a.test:\n" +
		"#shoalbench go test -bench Y ./b\n" +
		"pkg: github.com/shoal-dev/shoal/b\n" +
		"BenchmarkY-2 10 5 ns/op\n" +
		"#shoalbench go test -bench Z ./c\n"
	run, err := parseBench(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"go test -bench X -benchtime bad ./a: no figures — invalid value \"bad\" for flag -test.benchtime: invalid duration",
		"go test -bench Z ./c: no figures",
	}
	if strings.Join(run.Failures, "\n") != strings.Join(want, "\n") {
		t.Errorf("failures = %q, want %q", run.Failures, want)
	}
	if len(run.Results) != 1 {
		t.Errorf("results = %+v, want Y's", run.Results)
	}
}

func TestGoBenchSectionIsATableWithFailuresBelow(t *testing.T) {
	in, err := os.ReadFile("testdata/gotest-bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeGoBench(&out, bytes.NewReader(in), "3. Go benchmarks"); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"## 3. Go benchmarks\n",
		"| internal/cluster | Owns100Nodes | 7735860 | 242 ns/op |",
		"| internal/cluster | FailureDetection/idle | 2 | 1500000000 ns/op, 1450 ms/detection, 1600 ms/worst |",
		"- **failed:** internal/cluster: --- FAIL: BenchmarkFailureDetection/cpu-saturated",
		"- `go test -run ^$ -bench Owns -benchtime 1s ./internal/cluster`",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("section lacks %q:\n%s", want, s)
		}
	}
}

func FuzzParseBench(f *testing.F) {
	f.Add([]byte("BenchmarkX-2 10 5 ns/op\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := parseBench(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range run.Results {
			if r.N <= 0 || len(r.Metrics) == 0 || r.Procs <= 0 {
				t.Fatalf("result %+v from %q", r, data)
			}
			for _, m := range r.Metrics {
				if m.Unit == "" {
					t.Fatalf("metric without unit in %+v", r)
				}
			}
		}
		var out bytes.Buffer
		if err := writeGoBench(&out, bytes.NewReader(data), "t"); err != nil {
			t.Fatal(err)
		}
		// Every table row must keep the table's four columns, whatever
		// the names held.
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 5 {
				t.Fatalf("row breaks the table: %q", line)
			}
		}
	})
}
