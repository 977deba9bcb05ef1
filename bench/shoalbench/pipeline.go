package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// pipelineOptions size the comparison of shoal with Prometheus agent mode.
type pipelineOptions struct {
	shoal    string
	targets  int
	series   int
	interval time.Duration
	warmup   time.Duration
	duration time.Duration
	rounds   int
	order    string
	profile  string
	progress io.Writer
}

func pipelineFlags(fs *flag.FlagSet) *pipelineOptions {
	o := &pipelineOptions{}
	fs.StringVar(&o.shoal, "shoal", "bin/shoal", "the shoal binary")
	fs.IntVar(&o.targets, "targets", 300, "synthetic targets")
	fs.IntVar(&o.series, "series", 100, "series per target")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "scrape interval of both systems")
	fs.DurationVar(&o.warmup, "warmup", 30*time.Second, "time each system runs, after its first samples arrive, before the window opens")
	fs.DurationVar(&o.duration, "duration", 3*time.Minute, "the measured time of each system, split evenly between the rounds")
	fs.IntVar(&o.rounds, "rounds", 2, "how many times each system runs, alternating (A B A B), so that a change in the machine's load falls on both")
	fs.StringVar(&o.order, "order", "shoal,prometheus,vmagent", "the systems, in the order they run (one after the other)")
	fs.StringVar(&o.profile, "profile", "", "after shoal's window, save a CPU profile and a heap profile of it in this directory")
	return o
}

// systemRun is what one system did in its window.
type systemRun struct {
	name     string
	settings string
	window   time.Duration
	cpu      time.Duration // utime+stime spent in the window
	samples  int           // samples the receiver accepted in the window
	requests int           // remote-write requests in the window
	peakRSS  int64         // VmHWM at the window's end
	endRSS   int64         // VmRSS at the window's end
	anonRSS  int64         // RssAnon at the window's end: heap, stacks
	fileRSS  int64         // RssFile at the window's end: the binary's pages
	scrapes  int           // scrapes the targets served in the window
	expected int           // scrapes the window should hold
	rejected int           // samples the receiver rejected (whole run)
	rounds   []float64     // CPU-seconds per million samples of each round
	profile  string        // the top of a CPU profile taken after the window
	ownCum   string        // shoal's own functions in it, by cumulative time
	err      error
}

func (r systemRun) cpuPerMillion() float64 {
	if r.samples == 0 {
		return 0
	}
	return r.cpu.Seconds() / (float64(r.samples) / 1e6)
}

// measured is a running system under test.
type measured interface {
	pid() int
	// alive returns an error, with the end of the log, once the process
	// has exited.
	alive() error
	stop()
}

type shoalSystem struct{ fleet *lab.Fleet }

func (s shoalSystem) node() *lab.Node { return s.fleet.Nodes()[0] }
func (s shoalSystem) pid() int        { return s.node().Pid() }
func (s shoalSystem) alive() error {
	if s.node().Running() {
		return nil
	}
	return fmt.Errorf("shoal exited (%v):\n%s", s.node().ExitErr(), s.node().LogTail(20))
}
func (s shoalSystem) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.node().Stop(ctx)
	s.fleet.Close()
}

type agentSystem struct{ agent *lab.Agent }

func (a agentSystem) pid() int { return a.agent.Pid() }
func (a agentSystem) alive() error {
	_, err := a.agent.Usage()
	return err
}
func (a agentSystem) stop() { a.agent.Stop(30 * time.Second) }

// shoalConfig is the single-node pipeline: the same file_sd, job name,
// interval and timeout as the agent's YAML, and remote write with Alloy's
// default queue_config.
func shoalConfig(fileSD, url string, interval, timeout time.Duration) string {
	return fmt.Sprintf(`discovery.file "targets" {
  files = [%q]
}

prometheus.scrape "bench" {
  targets         = discovery.file.targets.targets
  forward_to      = [prometheus.remote_write.rx.receiver]
  job_name        = "lab"
  scrape_interval = %q
  scrape_timeout  = %q
}

prometheus.remote_write "rx" {
  endpoint {
    url = %q
  }
}
`, fileSD, interval.String(), timeout.String(), url)
}

// agentQueue is shoal's (and Alloy's) default queue_config, given to the
// agent too so that both send requests of the same size.
var agentQueue = lab.AgentQueue{Capacity: 10000, MinShards: 1, MaxShards: 50, MaxSamplesPerSend: 2000, BatchSendDeadline: 5 * time.Second}

func runPipeline(ctx context.Context, w io.Writer, o pipelineOptions) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.progress, "%s pipeline: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	systems := strings.Split(o.order, ",")
	for _, s := range systems {
		if _, ok := systemNames[s]; !ok {
			return fmt.Errorf("-order: unknown system %q (want shoal, prometheus and vmagent)", s)
		}
	}
	if _, err := os.Stat(o.shoal); err != nil {
		return fmt.Errorf("shoal binary: %w", err)
	}
	timeout := o.interval / 2
	dir, err := os.MkdirTemp("", "shoal-bench-pipeline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ts, err := lab.StartTargets(o.targets, o.series, lab.WithDir(dir))
	if err != nil {
		return err
	}
	defer ts.Close()
	logf("%d targets of %d series on loopback, interval %s", o.targets, o.series, o.interval)

	rounds := max(o.rounds, 1)
	window := o.duration / time.Duration(rounds)
	totals := map[string]*systemRun{}
	for round := 1; round <= rounds; round++ {
		for _, name := range systems {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r := measure(ctx, measureSpec{name: name, round: round, window: window, profile: name == "shoal" && round == rounds}, o, ts, dir, timeout, logf)
			if r.err != nil {
				logf("%s: %v", name, r.err)
			}
			if t, ok := totals[name]; ok {
				t.merge(r)
			} else {
				totals[name] = &r
			}
		}
	}
	var runs []systemRun
	for _, name := range systems {
		if t, ok := totals[name]; ok {
			runs = append(runs, *t)
			delete(totals, name)
		}
	}
	writePipeline(w, o, runs)
	return nil
}

// merge adds a later round of the same system: sums for the work and the
// time, the largest peak, the last round's memory, the first error.
func (r *systemRun) merge(o systemRun) {
	if r.err == nil {
		r.err = o.err
	}
	r.window += o.window
	r.cpu += o.cpu
	r.samples += o.samples
	r.requests += o.requests
	r.peakRSS = max(r.peakRSS, o.peakRSS)
	r.endRSS, r.anonRSS, r.fileRSS = o.endRSS, o.anonRSS, o.fileRSS
	r.scrapes += o.scrapes
	r.expected += o.expected
	r.rejected += o.rejected
	r.rounds = append(r.rounds, o.rounds...)
	if o.profile != "" {
		r.profile, r.ownCum = o.profile, o.ownCum
	}
}

// measureSpec is one round of one system.
type measureSpec struct {
	name    string
	round   int
	window  time.Duration
	profile bool
}

// measure runs one system alone: start it with a fresh receiver, wait for
// its first samples, warm it up, then read its /proc figures and the
// receiver's count at both ends of the window.
func measure(ctx context.Context, spec measureSpec, o pipelineOptions, ts *lab.Targets, dir string, timeout time.Duration, logf func(string, ...any)) systemRun {
	name := spec.name
	r := systemRun{name: name}
	rx, err := lab.StartReceiver()
	if err != nil {
		r.err = err
		return r
	}
	defer rx.Close()
	sysDir := filepath.Join(dir, fmt.Sprintf("%s-%d", name, spec.round))
	if err := os.MkdirAll(sysDir, 0o755); err != nil {
		r.err = err
		return r
	}
	// A million series on a loaded 2-core machine take longer than 90 s
	// to reach the receiver from every target.
	startLimit := 90 * time.Second
	if o.targets*o.series > 300_000 {
		startLimit = 4 * time.Minute
	}
	startCtx, cancel := context.WithTimeout(ctx, startLimit)
	defer cancel()
	var sys measured
	switch name {
	case "shoal":
		r.name = "shoal"
		r.settings = "single node, no clustering; queue_config defaults (capacity 10000, max_shards 50, max_samples_per_send 2000)"
		fleet, err := lab.StartFleet(startCtx, lab.FleetConfig{
			Binary:     o.shoal,
			Dir:        sysDir,
			NoCluster:  true,
			NamePrefix: "bench",
			Config: func(string) string {
				return shoalConfig(ts.FileSD(), rx.URL(), o.interval, timeout)
			},
		}, 1)
		if err != nil {
			r.err = err
			return r
		}
		sys = shoalSystem{fleet}
		if err := fleet.WaitReady(startCtx); err != nil {
			sys.stop()
			r.err = err
			return r
		}
	case "prometheus":
		r.name = "Prometheus agent"
		r.settings = "--enable-feature=agent; queue_config set to shoal's defaults"
		a, err := lab.RunPrometheusAgent(startCtx, lab.AgentConfig{
			TargetsFile: ts.FileSD(), Interval: o.interval, Timeout: timeout, RemoteWriteURL: rx.URL(),
		}, &agentQueue, sysDir)
		if err != nil {
			r.err = err
			return r
		}
		sys = agentSystem{a}
	case "vmagent":
		r.name = "vmagent"
		r.settings = fmt.Sprintf("%s built with go install; -remoteWrite.maxRowsPerBlock set to shoal's max_samples_per_send, Prometheus' protocol", lab.VMAgentVersion)
		a, err := lab.RunVMAgent(startCtx, lab.AgentConfig{
			TargetsFile: ts.FileSD(), Interval: o.interval, Timeout: timeout, RemoteWriteURL: rx.URL(),
		}, &agentQueue, sysDir)
		if err != nil {
			r.err = err
			return r
		}
		sys = agentSystem{a}
	}
	defer sys.stop()
	logf("%s started (pid %d); waiting for samples from every target", name, sys.pid())
	if err := waitAllTargets(startCtx, rx, ts, sys); err != nil {
		r.err = err
		return r
	}
	logf("%s: every target delivered; warming up for %s", name, o.warmup)
	if err := watch(ctx, o.warmup, sys); err != nil {
		r.err = err
		return r
	}
	u0, err := lab.ProcessUsage(sys.pid())
	if err != nil {
		r.err = err
		return r
	}
	s0, t0 := rx.Stats(), time.Now()
	logf("%s: measuring round %d for %s", name, spec.round, spec.window)
	if err := watch(ctx, spec.window, sys); err != nil {
		r.err = err
		return r
	}
	u1, err := lab.ProcessUsage(sys.pid())
	if err != nil {
		r.err = err
		return r
	}
	s1, t1 := rx.Stats(), time.Now()
	r.window = t1.Sub(t0)
	r.cpu = u1.CPU - u0.CPU
	r.samples = s1.Accepted - s0.Accepted
	r.requests = s1.Requests - s0.Requests
	r.peakRSS, r.endRSS = u1.PeakRSS, u1.RSS
	r.anonRSS, r.fileRSS = rssParts(fmt.Sprintf("/proc/%d/status", sys.pid()))
	r.rejected = s1.OutOfOrder + s1.Duplicates
	for _, s := range ts.Log() {
		if !s.Time.Before(t0) && s.Time.Before(t1) {
			r.scrapes++
		}
	}
	r.expected = int(float64(ts.Len()) * r.window.Seconds() / o.interval.Seconds())
	logf("%s: %.1f CPU-s for %d samples (%.2f CPU-s per million), peak RSS %.1f MiB",
		name, r.cpu.Seconds(), r.samples, r.cpuPerMillion(), mib(r.peakRSS))
	r.rounds = []float64{r.cpuPerMillion()}
	if spec.profile && o.profile != "" {
		top, own, err := profileShoal(ctx, sys.(shoalSystem), o.profile, logf)
		if err != nil {
			logf("profile: %v", err)
		}
		r.profile, r.ownCum = top, own
	}
	return r
}

// waitAllTargets waits until the receiver holds an `up` sample of every
// target.
func waitAllTargets(ctx context.Context, rx *lab.Receiver, ts *lab.Targets, sys measured) error {
	var why string
	err := lab.WaitFor(ctx, func() bool {
		if err := sys.alive(); err != nil {
			why = err.Error()
			return true
		}
		by := rx.ByInstance()
		missing := 0
		for _, a := range ts.Addrs() {
			if len(by[a].UpTimes) == 0 {
				missing++
			}
		}
		why = fmt.Sprintf("%d of %d targets have delivered nothing", missing, ts.Len())
		return missing == 0
	})
	if err != nil {
		return fmt.Errorf("%s: %w", why, err)
	}
	return sys.alive()
}

// watch lets the system run for d, failing as soon as it exits.
func watch(ctx context.Context, d time.Duration, sys measured) error {
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-end.C:
			return sys.alive()
		case <-tick.C:
			if err := sys.alive(); err != nil {
				return err
			}
		}
	}
}

// profileSeconds is the length of shoal's CPU profile: long enough for ten
// scrapes of every target, short enough for the benchmark's time budget.
const profileSeconds = 20

// profileShoal saves a CPU and a heap profile of the running node, and
// their tops as text, for the report on where shoal's time goes. It returns
// the top of the CPU profile by flat time, and shoal's own functions in it
// by cumulative time.
func profileShoal(ctx context.Context, s shoalSystem, dir string, logf func(string, ...any)) (flat, own string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	logf("shoal: taking a %d s CPU profile into %s", profileSeconds, dir)
	get := func(path, file string, d time.Duration) error {
		pctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		req, err := http.NewRequestWithContext(pctx, http.MethodGet, s.node().URL(path), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", path, resp.Status)
		}
		f, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		_, err = io.Copy(f, resp.Body)
		return errors.Join(err, f.Close())
	}
	if err := get(fmt.Sprintf("/debug/pprof/profile?seconds=%d", profileSeconds), "shoal.cpu.pprof", 2*profileSeconds*time.Second); err != nil {
		return "", "", err
	}
	if err := get("/debug/pprof/heap", "shoal.heap.pprof", 20*time.Second); err != nil {
		return "", "", err
	}
	cpu, heap := filepath.Join(dir, "shoal.cpu.pprof"), filepath.Join(dir, "shoal.heap.pprof")
	for _, p := range []struct {
		file string
		args []string
	}{
		{"cpu-top.txt", []string{"tool", "pprof", "-top", "-nodecount=40", cpu}},
		{"cpu-top-cum.txt", []string{"tool", "pprof", "-top", "-cum", "-nodecount=60", cpu}},
		{"heap-top.txt", []string{"tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=30", heap}},
	} {
		out, err := exec.CommandContext(ctx, "go", p.args...).CombinedOutput()
		_ = os.WriteFile(filepath.Join(dir, p.file), out, 0o644)
		if err != nil {
			return "", "", fmt.Errorf("go %s: %w", strings.Join(p.args, " "), err)
		}
		switch p.file {
		case "cpu-top.txt":
			flat = pprofTop(string(out), 20)
		case "cpu-top-cum.txt":
			own = pprofOwn(string(out), 15)
		}
	}
	return flat, own, nil
}

// pprofOwn keeps the column header and the first n rows of `pprof -top`
// that are shoal's own functions.
func pprofOwn(out string, n int) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "flat%") && strings.Contains(line, "cum%"):
			keep = append(keep, line)
		case strings.Contains(line, "github.com/shoal-dev/shoal/") && len(keep) > 0 && len(keep) <= n:
			keep = append(keep, strings.Replace(line, "github.com/shoal-dev/shoal/", "", 1))
		}
	}
	if len(keep) < 2 {
		return ""
	}
	return strings.Join(keep, "\n")
}

// pprofTop keeps the summary and the first n rows of `pprof -top`, without
// the File/Build ID lines that change at every build.
func pprofTop(out string, n int) string {
	var keep []string
	rows := -1
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "File:"), strings.HasPrefix(line, "Build ID:"), strings.HasPrefix(line, "Type:"), strings.HasPrefix(line, "Time:"), strings.HasPrefix(line, "Showing top"):
			continue
		case strings.Contains(line, "flat%") && strings.Contains(line, "cum%"):
			rows = 0
		case rows >= 0:
			if rows == n || strings.TrimSpace(line) == "" {
				return strings.Join(keep, "\n")
			}
			rows++
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// rssParts reads RssAnon and RssFile (bytes) from a /proc/PID/status file:
// how much of the resident memory the process allocated, and how much is
// its binary and libraries paged in.
func rssParts(path string) (anon, file int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return anon, file
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ratio formats a ÷ b, or "n/a".
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// verdict compares a ratio with the goal.
func verdict(a, b, goal float64) string {
	if a <= 0 || b <= 0 {
		return "not measured"
	}
	if a/b <= goal {
		return fmt.Sprintf("met (≤ %.2g×)", goal)
	}
	return fmt.Sprintf("missed (goal ≤ %.2g×)", goal)
}

// systemNames are the display names of the systems, by -order name.
var systemNames = map[string]string{"shoal": "shoal", "prometheus": "Prometheus agent", "vmagent": "vmagent"}

func writePipeline(w io.Writer, o pipelineOptions, runs []systemRun) {
	fmt.Fprintf(w, "## 1. Pipeline: shoal against Prometheus agent mode and vmagent\n\n")
	fmt.Fprintf(w, "%d synthetic targets × %d series (plus `lab_scrapes_total`) on loopback, scrape interval %s, timeout %s, one receiver per system (the lab's counting receiver, in the benchmark process). "+
		"The systems ran one after the other, never together, in %d alternating rounds (%s), so that a change in the machine's load falls on all; "+
		"in each round a fresh process was warmed up for %s after its first samples reached the receiver, then measured for %s, %s per system in all. "+
		"CPU is utime+stime of the process in its windows (/proc/PID/stat); samples are those the receiver accepted in the same windows; peak RSS is the largest VmHWM (/proc/PID/status) at a window's end.\n\n",
		o.targets, o.series, o.interval, o.interval/2, max(o.rounds, 1), strings.ReplaceAll(o.order, ",", " then "), o.warmup, o.duration/time.Duration(max(o.rounds, 1)), o.duration)
	byName := map[string]*systemRun{}
	for i := range runs {
		byName[runs[i].name] = &runs[i]
	}
	var cols []*systemRun
	for _, key := range strings.Split(o.order, ",") {
		name := systemNames[key]
		r := byName[name]
		if r == nil {
			r = &systemRun{name: name, err: errors.New("not run")}
		}
		if slices.Contains(cols, r) {
			continue
		}
		cols = append(cols, r)
	}
	sh := byName["shoal"]
	if sh == nil {
		sh = &systemRun{name: "shoal", err: errors.New("not run")}
	}
	var others []*systemRun
	for _, r := range cols {
		if r.name != "shoal" {
			others = append(others, r)
		}
	}
	header := []string{"figure"}
	for _, r := range cols {
		header = append(header, r.name)
	}
	for _, r := range others {
		header = append(header, "shoal ÷ "+r.name)
	}
	t := table{header: header}
	// row adds one figure: a cell per system, then shoal's ratio to each
	// other system when num gives one.
	row := func(figure string, f func(*systemRun) string, num func(*systemRun) float64) {
		cells := []string{figure}
		for _, r := range cols {
			if r.err != nil {
				cells = append(cells, "failed")
			} else {
				cells = append(cells, f(r))
			}
		}
		for _, r := range others {
			if num == nil || r.err != nil || sh.err != nil {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, ratio(num(sh), num(r)))
		}
		t.add(cells...)
	}
	row("CPU-seconds per million samples delivered", func(r *systemRun) string { return fmt.Sprintf("%.2f", r.cpuPerMillion()) }, func(r *systemRun) float64 { return r.cpuPerMillion() })
	row("the same, round by round", func(r *systemRun) string { return formatRounds(r.rounds) }, nil)
	row("peak RSS (VmHWM)", func(r *systemRun) string { return fmt.Sprintf("%.1f MiB", mib(r.peakRSS)) }, func(r *systemRun) float64 { return float64(r.peakRSS) })
	row("RSS at the last window's end", func(r *systemRun) string { return fmt.Sprintf("%.1f MiB", mib(r.endRSS)) }, func(r *systemRun) float64 { return float64(r.endRSS) })
	row("of which anonymous (heap, stacks) / file-backed (binary)", func(r *systemRun) string {
		return fmt.Sprintf("%.1f / %.1f MiB", mib(r.anonRSS), mib(r.fileRSS))
	}, func(r *systemRun) float64 { return float64(r.anonRSS) })
	row("CPU-seconds in the windows", func(r *systemRun) string {
		return fmt.Sprintf("%.2f s in %s", r.cpu.Seconds(), r.window.Round(time.Second))
	}, func(r *systemRun) float64 { return r.cpu.Seconds() })
	row("samples delivered in the windows", func(r *systemRun) string {
		return fmt.Sprintf("%d (%.0f/s)", r.samples, float64(r.samples)/r.window.Seconds())
	}, func(r *systemRun) float64 { return float64(r.samples) })
	row("remote-write requests in the windows", func(r *systemRun) string { return fmt.Sprintf("%d", r.requests) }, nil)
	row("scrapes served / expected in the windows", func(r *systemRun) string { return fmt.Sprintf("%d / %d", r.scrapes, r.expected) }, nil)
	row("samples rejected by the receiver", func(r *systemRun) string { return fmt.Sprintf("%d", r.rejected) }, nil)
	t.write(w)
	fmt.Fprintln(w)
	for _, r := range cols {
		if r.err != nil {
			fmt.Fprintf(w, "- **%s failed:** %s\n", r.name, escapeCell(firstLines(r.err.Error(), 8)))
		} else {
			fmt.Fprintf(w, "- %s: %s.\n", r.name, r.settings)
		}
	}
	fmt.Fprintln(w)
	writeGoals(w, sh, byName["Prometheus agent"], byName["vmagent"])
	if sh.profile != "" {
		fmt.Fprintf(w, "Where shoal's CPU goes: the top of a %d s CPU profile (`/debug/pprof/profile`) taken right after its window, under the same load:\n\n```\n%s\n```\n\n", profileSeconds, sh.profile)
	}
	if sh.ownCum != "" {
		fmt.Fprintf(w, "shoal's own functions in that profile, by cumulative time:\n\n```\n%s\n```\n\n", sh.ownCum)
	}
}

// writeGoals checks the run against the goals of the issues that set them:
// at most half of Prometheus agent's CPU per sample and peak RSS; at most
// half of vmagent's CPU per sample, and anonymous RSS within vmagent's
// whole RSS.
func writeGoals(w io.Writer, sh, pr, vm *systemRun) {
	ok := func(r *systemRun) bool { return sh != nil && sh.err == nil && r != nil && r.err == nil }
	fmt.Fprintln(w, "Goals:")
	fmt.Fprintln(w)
	if ok(pr) {
		fmt.Fprintf(w, "- CPU per sample ≤ 0.5× Prometheus agent's: %s.\n", verdict(sh.cpuPerMillion(), pr.cpuPerMillion(), 0.5))
		fmt.Fprintf(w, "- peak RSS ≤ 0.5× Prometheus agent's: %s.\n", verdict(float64(sh.peakRSS), float64(pr.peakRSS), 0.5))
	} else {
		fmt.Fprintln(w, "- against Prometheus agent: not measured.")
	}
	if ok(vm) {
		fmt.Fprintf(w, "- CPU per sample ≤ 0.5× vmagent's: %s.\n", verdict(sh.cpuPerMillion(), vm.cpuPerMillion(), 0.5))
		fmt.Fprintf(w, "- anonymous RSS ≤ vmagent's whole RSS: %s.\n", verdict(float64(sh.anonRSS), float64(vm.endRSS), 1))
	} else {
		fmt.Fprintln(w, "- against vmagent: not measured.")
	}
	fmt.Fprintln(w)
}

func formatRounds(rs []float64) string {
	parts := make([]string, len(rs))
	for i, v := range rs {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(parts, ", ")
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
