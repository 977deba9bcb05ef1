package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// metric is one figure of a benchmark line, such as 971 ns/op.
type metric struct {
	Value float64
	Unit  string
}

// benchResult is one line of `go test -bench` output.
type benchResult struct {
	Pkg     string
	Name    string // without the -GOMAXPROCS suffix
	Procs   int
	N       int64
	Metrics []metric
}

// benchRun is everything read from the output of one or more `go test
// -bench` invocations.
type benchRun struct {
	Results  []benchResult
	Failures []string // FAIL lines and panics, with their package
	Skips    []string
	Notes    []string // lines the caller marked with "#shoalbench "
}

// notePrefix marks a line that bench/run.sh wrote into the output to record
// how a package was run.
const notePrefix = "#shoalbench "

// maxDetail bounds the log lines kept under one failure.
const maxDetail = 3

// parseBench reads go test's benchmark output. It is lenient: lines it
// does not know are ignored, as go test mixes test logs into the stream.
func parseBench(r io.Reader) (benchRun, error) {
	var out benchRun
	pkg := ""
	pending := "" // a benchmark name printed alone, its figures to follow
	// detail is where the indented log lines under a FAIL or SKIP go, so
	// that the record says why; nil outside one.
	var detail *string
	// A marked run that printed no figures, no failure and no skip failed
	// some other way (a bad flag, a build error): firstLine keeps its first
	// words of output to say so.
	var note, firstLine string
	reported := 0
	closeNote := func() {
		if note != "" && len(out.Results)+len(out.Failures)+len(out.Skips) == reported {
			f := note + ": no figures"
			if firstLine != "" {
				f += " — " + firstLine
			}
			out.Failures = append(out.Failures, f)
		}
		note, firstLine = "", ""
		reported = len(out.Results) + len(out.Failures) + len(out.Skips)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		failLine := strings.HasPrefix(trimmed, "--- FAIL: ") || strings.HasPrefix(line, "FAIL\t") || strings.HasPrefix(line, "panic: ")
		skipLine := strings.HasPrefix(trimmed, "--- SKIP: ")
		if detail != nil && !failLine && !skipLine && strings.HasPrefix(line, "    ") && trimmed != "" {
			if strings.Count(*detail, " — ") < maxDetail {
				*detail += " — " + trimmed
			}
			continue
		}
		detail = nil
		if note != "" && firstLine == "" && trimmed != "" {
			firstLine = trimmed
		}
		switch {
		case strings.HasPrefix(line, notePrefix):
			closeNote()
			note = strings.TrimSpace(strings.TrimPrefix(line, notePrefix))
			out.Notes = append(out.Notes, note)
			continue
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimSpace(strings.TrimPrefix(line, "pkg: "))
			pending = ""
			continue
		case failLine:
			out.Failures = append(out.Failures, withPkg(pkg, trimmed))
			// Only the newest entry is ever extended, and nothing is
			// appended to the slice while it is.
			detail = &out.Failures[len(out.Failures)-1]
			continue
		case skipLine:
			out.Skips = append(out.Skips, withPkg(pkg, trimmed))
			detail = &out.Skips[len(out.Skips)-1]
			continue
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name := ""
		if strings.HasPrefix(fields[0], "Benchmark") {
			name, fields = fields[0], fields[1:]
			if len(fields) == 0 || !isCount(fields[0]) {
				// The benchmark wrote output before its figures.
				pending = name
				continue
			}
		} else if pending != "" && isCount(fields[0]) {
			name = pending
		} else {
			continue
		}
		pending = ""
		res, ok := parseFigures(name, fields)
		if !ok {
			continue
		}
		res.Pkg = pkg
		out.Results = append(out.Results, res)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading benchmark output: %w", err)
	}
	closeNote()
	return out, nil
}

func withPkg(pkg, s string) string {
	if pkg == "" {
		return s
	}
	return shortPkg(pkg) + ": " + s
}

func isCount(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// parseFigures reads "N value unit value unit ..." after a benchmark name.
func parseFigures(name string, fields []string) (benchResult, bool) {
	res := benchResult{Name: name, Procs: 1}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if p, err := strconv.Atoi(name[i+1:]); err == nil && p > 0 {
			res.Name, res.Procs = name[:i], p
		}
	}
	n, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || n <= 0 {
		return res, false
	}
	res.N = n
	rest := fields[1:]
	for len(rest) >= 2 {
		v, err := strconv.ParseFloat(rest[0], 64)
		if err != nil {
			break
		}
		res.Metrics = append(res.Metrics, metric{Value: v, Unit: rest[1]})
		rest = rest[2:]
	}
	return res, len(res.Metrics) > 0
}

// shortPkg drops the module path from a package path.
func shortPkg(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/shoal-dev/shoal/")
}

// formatValue prints a figure with three significant digits at most, the
// precision a benchmark on a shared machine deserves.
func formatValue(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000 || v <= -1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func writeGoBench(w io.Writer, r io.Reader, title string) error {
	run, err := parseBench(r)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## %s\n\n", title)
	for _, n := range run.Notes {
		fmt.Fprintf(w, "- `%s`\n", n)
	}
	if len(run.Notes) > 0 {
		fmt.Fprintln(w)
	}
	t := table{header: []string{"package", "benchmark", "iterations", "figures"}}
	for _, res := range run.Results {
		figs := make([]string, 0, len(res.Metrics))
		for _, m := range res.Metrics {
			figs = append(figs, formatValue(m.Value)+" "+m.Unit)
		}
		t.add(shortPkg(res.Pkg), strings.TrimPrefix(res.Name, "Benchmark"), strconv.FormatInt(res.N, 10), strings.Join(figs, ", "))
	}
	if len(run.Results) == 0 {
		fmt.Fprintln(w, "No benchmark produced figures.")
		if len(run.Notes) == 0 && len(run.Failures) == 0 {
			fmt.Fprintln(w, "\n- **failed:** the output held no benchmark run at all.")
		}
	} else {
		t.write(w)
	}
	fmt.Fprintln(w)
	for _, s := range run.Skips {
		fmt.Fprintf(w, "- skipped: %s\n", escapeCell(s))
	}
	for _, f := range run.Failures {
		fmt.Fprintf(w, "- **failed:** %s\n", escapeCell(f))
	}
	if len(run.Skips)+len(run.Failures) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}
