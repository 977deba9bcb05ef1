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
	o := pipelineOptions{targets: 300, series: 100, interval: 2 * time.Second, warmup: 30 * time.Second, duration: 3 * time.Minute, order: "shoal,prometheus,vmagent"}
	runs := []systemRun{
		{name: "shoal", window: 3 * time.Minute, cpu: 4 * time.Second, samples: 2_000_000, peakRSS: 40 << 20, endRSS: 30 << 20, anonRSS: 20 << 20},
		{name: "Prometheus agent", window: 3 * time.Minute, cpu: 10 * time.Second, samples: 2_000_000, peakRSS: 160 << 20, endRSS: 150 << 20},
		{name: "vmagent", window: 3 * time.Minute, cpu: 16 * time.Second, samples: 2_000_000, peakRSS: 50 << 20, endRSS: 25 << 20},
	}
	var out bytes.Buffer
	writePipeline(&out, o, runs)
	s := out.String()
	for _, want := range []string{
		"| figure | shoal | Prometheus agent | vmagent | shoal ÷ Prometheus agent | shoal ÷ vmagent |",
		"| CPU-seconds per million samples delivered | 2.00 | 5.00 | 8.00 | 0.40× | 0.25× |",
		"| peak RSS (VmHWM) | 40.0 MiB | 160.0 MiB | 50.0 MiB | 0.25× | 0.80× |",
		"- CPU per sample ≤ 0.5× Prometheus agent's: met (≤ 0.5×).",
		"- CPU per sample ≤ 0.5× vmagent's: met (≤ 0.5×).",
		"- anonymous RSS ≤ vmagent's whole RSS: met (≤ 1×).",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	runs[0].cpu = 6 * time.Second
	runs[0].anonRSS = 26 << 20
	out.Reset()
	writePipeline(&out, o, runs)
	for _, want := range []string{
		"- CPU per sample ≤ 0.5× Prometheus agent's: missed (goal ≤ 0.5×).",
		"- anonymous RSS ≤ vmagent's whole RSS: missed (goal ≤ 1×).",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("a ratio over the goal should be reported as missed (%q):\n%s", want, out.String())
		}
	}
}

func TestPipelineTableReportsAFailedSystemWithoutRatios(t *testing.T) {
	runs := []systemRun{
		{name: "shoal", window: time.Minute, cpu: time.Second, samples: 1000, peakRSS: 1 << 20},
		{name: "Prometheus agent", err: errors.New("prometheus exited:\nlevel=error msg=boom")},
	}
	var out bytes.Buffer
	writePipeline(&out, pipelineOptions{interval: 2 * time.Second, order: "shoal,prometheus,vmagent"}, runs)
	s := out.String()
	if !strings.Contains(s, "| CPU-seconds per million samples delivered | 1000.00 | failed | failed |  |  |") {
		t.Errorf("a failed or missing system should leave its cells failed and no ratio:\n%s", s)
	}
	if !strings.Contains(s, "**Prometheus agent failed:** prometheus exited:<br>level=error msg=boom") {
		t.Errorf("the failure should be explained below the table:\n%s", s)
	}
	if !strings.Contains(s, "**vmagent failed:** not run") || !strings.Contains(s, "- against vmagent: not measured.") {
		t.Errorf("a system that did not run should say so:\n%s", s)
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

func TestParseSizesReadsTheSeriesAndRefusesNonsense(t *testing.T) {
	got, err := parseSizes("30k:300x100:2s, 1M:1000x1000:10s")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].label != "30k" || got[0].targets != 300 || got[0].series != 100 || got[0].interval != 2*time.Second ||
		got[1].active() != 1000*1001 {
		t.Fatalf("parseSizes = %+v", got)
	}
	for _, bad := range []string{"1M", "1M:1000:10s", "1M:0x10:10s", "1M:10x10:never"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}

func TestScaleTableGivesBytesPerSeriesAndRatios(t *testing.T) {
	sizes := []scaleSize{{label: "1M", targets: 1000, series: 999, interval: 10 * time.Second}}
	results := map[string][]systemRun{"1M": {
		{name: "shoal", window: time.Minute, cpu: 12 * time.Second, samples: 6_000_000, peakRSS: 200_000_000},
		{name: "vmagent", window: time.Minute, cpu: 24 * time.Second, samples: 6_000_000, peakRSS: 160_000_000},
		{name: "Prometheus agent", err: errors.New("killed")},
	}}
	var out bytes.Buffer
	writeScale(&out, scaleOptions{}, sizes, []string{"shoal", "vmagent", "prometheus"}, results)
	s := out.String()
	for _, want := range []string{
		"| 1M | 1000 × 999, 10s | shoal | 2.00 | 190.7 MiB | 0.0 / 0.0 MiB | 200 | 0 |  |",
		"| 1M | 1000 × 999, 10s | vmagent | 4.00 | 152.6 MiB | 0.0 / 0.0 MiB | 160 | 0 | 0.50×, 1.25× |",
		"| 1M | 1000 × 999, 10s | Prometheus agent | failed |",
		"**Prometheus agent at 1M failed:** killed",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("scale table lacks %q:\n%s", want, s)
		}
	}
}
