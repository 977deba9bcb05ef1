package main

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMachineReadsCPUModelAndMemory(t *testing.T) {
	if got := cpuModel("testdata/cpuinfo"); got != "AMD EPYC 7B13" {
		t.Errorf("cpu model = %q", got)
	}
	if got := memTotalMiB("testdata/meminfo"); got != 24106 {
		t.Errorf("memory = %d MiB, want 24106", got)
	}
	if cpuModel("testdata/missing") != "" || memTotalMiB("testdata/missing") != 0 {
		t.Error("a missing file should give no figure")
	}
}

func TestPipelineTableGivesRatiosAndTheGoalVerdict(t *testing.T) {
	o := pipelineOptions{targets: 300, series: 100, interval: 2 * time.Second, warmup: 30 * time.Second, duration: 3 * time.Minute, order: "shoal,prometheus"}
	runs := []systemRun{
		{name: "shoal", window: 3 * time.Minute, cpu: 4 * time.Second, samples: 2_000_000, peakRSS: 40 << 20, endRSS: 30 << 20},
		{name: "Prometheus agent", window: 3 * time.Minute, cpu: 10 * time.Second, samples: 2_000_000, peakRSS: 160 << 20, endRSS: 150 << 20},
	}
	var out bytes.Buffer
	writePipeline(&out, o, runs)
	s := out.String()
	for _, want := range []string{
		"| CPU-seconds per million samples delivered | 2.00 | 5.00 | 0.40× | met (≤ 0.5×) |",
		"| peak RSS (VmHWM) | 40.0 MiB | 160.0 MiB | 0.25× | met (≤ 0.5×) |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	runs[0].cpu = 6 * time.Second
	out.Reset()
	writePipeline(&out, o, runs)
	if !strings.Contains(out.String(), "| 0.60× | missed (goal ≤ 0.5×) |") {
		t.Errorf("a ratio over the goal should be reported as missed:\n%s", out.String())
	}
}

func TestPipelineTableReportsAFailedSystemWithoutRatios(t *testing.T) {
	runs := []systemRun{
		{name: "shoal", window: time.Minute, cpu: time.Second, samples: 1000, peakRSS: 1 << 20},
		{name: "Prometheus agent", err: errors.New("prometheus exited:\nlevel=error msg=boom")},
	}
	var out bytes.Buffer
	writePipeline(&out, pipelineOptions{interval: 2 * time.Second, order: "shoal,prometheus"}, runs)
	s := out.String()
	if !strings.Contains(s, "| failed | n/a | ≤ 0.5×: not measured |") {
		t.Errorf("a failed system should leave its cells failed and no ratio:\n%s", s)
	}
	if !strings.Contains(s, "**Prometheus agent failed:** prometheus exited:<br>level=error msg=boom") {
		t.Errorf("the failure should be explained below the table:\n%s", s)
	}
}

func TestTableEscapesCellsThatWouldBreakIt(t *testing.T) {
	var out bytes.Buffer
	tb := table{header: []string{"a", "b"}}
	tb.add("x|y", "line1\nline2")
	tb.write(&out)
	if want := "| x\\|y | line1<br>line2 |\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("row = %q, want suffix %q", out.String(), want)
	}
}

func TestPprofTopKeepsTheSummaryAndTheFirstRows(t *testing.T) {
	in, err := os.ReadFile("testdata/pprof-top.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := pprofTop(string(in), 5)
	lines := strings.Split(got, "\n")
	if strings.Contains(got, "Build ID") || strings.Contains(got, "File:") {
		t.Errorf("the top keeps per-build lines:\n%s", got)
	}
	if !strings.HasPrefix(lines[0], "Duration:") {
		t.Errorf("the top should start with the profile's duration:\n%s", got)
	}
	header := -1
	for i, l := range lines {
		if strings.Contains(l, "flat%") {
			header = i
		}
	}
	if header < 0 || len(lines)-header-1 != 5 {
		t.Errorf("want the header and 5 rows:\n%s", got)
	}
}

func TestPprofOwnKeepsOnlyShoalsFunctions(t *testing.T) {
	in, err := os.ReadFile("testdata/pprof-top-cum.txt")
	if err != nil {
		t.Fatal(err)
	}
	got := pprofOwn(string(in), 4)
	lines := strings.Split(got, "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "cum%") {
		t.Fatalf("want the header and 4 rows:\n%s", got)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "internal/") || strings.Contains(l, "github.com/shoal-dev") {
			t.Errorf("row %q is not one of shoal's functions, shortened", l)
		}
	}
}

func TestRSSPartsSplitsAnonymousFromFileBackedMemory(t *testing.T) {
	anon, file := rssParts("testdata/status")
	if anon != 61340<<10 || file != 46384<<10 {
		t.Errorf("anon, file = %d, %d", anon, file)
	}
	if a, f := rssParts("testdata/missing"); a != 0 || f != 0 {
		t.Error("a missing file should give zeros")
	}
}

func TestRoundsAddUpToOneFigurePerSystem(t *testing.T) {
	a := systemRun{name: "shoal", window: time.Minute, cpu: 3 * time.Second, samples: 1_000_000, peakRSS: 90 << 20, endRSS: 80 << 20, scrapes: 10, expected: 10, rounds: []float64{3}}
	b := systemRun{name: "shoal", window: time.Minute, cpu: 5 * time.Second, samples: 1_000_000, peakRSS: 70 << 20, endRSS: 60 << 20, scrapes: 9, expected: 10, rounds: []float64{5}, profile: "top"}
	a.merge(b)
	if a.cpuPerMillion() != 4 {
		t.Errorf("CPU-s per million over both rounds = %v, want 4", a.cpuPerMillion())
	}
	if a.peakRSS != 90<<20 || a.endRSS != 60<<20 {
		t.Errorf("peak %d end %d: want the larger peak and the last round's RSS", a.peakRSS, a.endRSS)
	}
	if a.scrapes != 19 || a.expected != 20 || formatRounds(a.rounds) != "3.00, 5.00" || a.profile != "top" {
		t.Errorf("merged = %+v", a)
	}
	a.merge(systemRun{err: errors.New("exited")})
	if a.err == nil {
		t.Error("a failed round must fail the system")
	}
}
