package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// machine describes where a run happened, so that figures from different
// runs are never compared without knowing it.
type machine struct {
	Date       time.Time
	CPU        string
	Cores      int
	MemoryMiB  int64
	Kernel     string
	Go         string
	Prometheus string
	VMAgent    string
	Shoal      string
	Commit     string
	LoadAvg    string
}

func readMachine(ctx context.Context, shoalBin string) machine {
	m := machine{Date: time.Now().UTC(), Cores: runtime.NumCPU(), CPU: "unknown", Kernel: "unknown"}
	if name := cpuModel("/proc/cpuinfo"); name != "" {
		m.CPU = name
	}
	m.MemoryMiB = memTotalMiB("/proc/meminfo")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	m.Go = firstLine(exec.CommandContext(ctx, "go", "version").Output())
	if m.Go == "" {
		m.Go = runtime.Version()
	}
	if v, err := lab.PrometheusVersion(ctx); err == nil {
		m.Prometheus = v
	} else {
		m.Prometheus = "not available: " + err.Error()
	}
	if v, err := lab.VMAgentVersionLine(ctx); err == nil {
		m.VMAgent = v
	} else {
		m.VMAgent = "not available: " + err.Error()
	}
	m.Shoal = firstLine(exec.CommandContext(ctx, shoalBin, "version").Output())
	m.Commit = firstLine(exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output())
	if dirty := firstLine(exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()); dirty != "" && m.Commit != "" {
		m.Commit += " (with uncommitted changes in the working tree)"
	}
	return m
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// cpuModel returns the first "model name" of a cpuinfo file.
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// memTotalMiB returns MemTotal of a meminfo file in MiB, or 0.
func memTotalMiB(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb >> 10
			}
		}
	}
	return 0
}

func writeMachine(ctx context.Context, w io.Writer, shoalBin string) error {
	m := readMachine(ctx, shoalBin)
	fmt.Fprintf(w, "# shoal benchmark results\n\n")
	fmt.Fprintf(w, "Written by `make bench` (bench/run.sh) on %s. See bench/README.md for what each figure measures.\n\n", m.Date.Format("2006-01-02 15:04 MST"))
	t := table{header: []string{"machine", ""}}
	t.add("date", m.Date.Format(time.RFC3339))
	t.add("CPU", m.CPU)
	t.add("cores", strconv.Itoa(m.Cores))
	t.add("memory", fmt.Sprintf("%d MiB", m.MemoryMiB))
	t.add("kernel", m.Kernel)
	t.add("Go", m.Go)
	t.add("Prometheus", m.Prometheus)
	t.add("vmagent", m.VMAgent)
	t.add("shoal", orNone(m.Shoal))
	t.add("commit", orNone(m.Commit))
	t.add("load average at start", orNone(m.LoadAvg))
	t.write(w)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The cores may be shared with other work (see the load average). CPU-seconds are the measured process's own (utime+stime), so contention inflates them far less than wall-clock figures; compare the two systems within one run only.\n\n")
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
