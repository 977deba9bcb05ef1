package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// PrometheusBinary is where Debian's prometheus package installs it.
const PrometheusBinary = "/usr/bin/prometheus"

// RequirePrometheus returns the Prometheus binary, or ends the test: under
// CI=true a missing binary fails it (CI must have it), elsewhere it skips
// with the reason.
func RequirePrometheus(t testing.TB) string {
	t.Helper()
	bin := PrometheusBinary
	if env := os.Getenv("PROMETHEUS_BIN"); env != "" {
		bin = env
	}
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("Debian's prometheus is not installed at %s (apt-get install prometheus): %v", bin, err)
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip("skipping: " + msg)
	}
	return bin
}

// process is a child process with its log in a file, stopped at cleanup.
type process struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab: %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("lab: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{}), logPath: logPath}
	go func() {
		// Owned by the process value: stop waits for done.
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, and SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) logTail(lines int) string {
	b, _ := os.ReadFile(p.logPath)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// waitReady polls addr's /-/ready until 200, the process exits or the
// deadline passes.
func waitReady(ctx context.Context, p *process, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("lab: %s exited before it was ready:\n%s", p.name, p.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("lab: %s not ready: %w\n%s", p.name, ctx.Err(), p.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startOnFreePort starts a server process whose listen address is given by
// args(addr), retrying with another port when the one chosen was taken.
func startOnFreePort(ctx context.Context, name, logPath, bin string, args func(addr string) []string) (*process, string, error) {
	var lastErr error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			return nil, "", err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		p, err := startProcess(name, logPath, bin, args(addr)...)
		if err != nil {
			return nil, "", err
		}
		if err := waitReady(ctx, p, "http://"+addr); err != nil {
			p.stop(5 * time.Second)
			lastErr = err
			if strings.Contains(err.Error(), "address already in use") {
				continue
			}
			return nil, "", err
		}
		return p, addr, nil
	}
	return nil, "", lastErr
}

// PrometheusOption configures StartPrometheus.
type PrometheusOption func(*promConfig)

type promConfig struct {
	oooWindow time.Duration
}

// OutOfOrderWindow turns on the TSDB's out-of-order window (off by default,
// as in Prometheus and Mimir).
func OutOfOrderWindow(d time.Duration) PrometheusOption {
	return func(c *promConfig) { c.oooWindow = d }
}

// Prometheus is a real Prometheus server used as a remote-write receiver.
type Prometheus struct {
	Addr string
	proc *process
	dir  string
}

// StartPrometheus runs Debian's Prometheus with its remote-write receiver
// on a free loopback port and a fresh TSDB, waits until it is ready, and
// stops it when the test ends.
func StartPrometheus(t testing.TB, opts ...PrometheusOption) *Prometheus {
	t.Helper()
	bin := RequirePrometheus(t)
	var c promConfig
	for _, o := range opts {
		o(&c)
	}
	dir := t.TempDir()
	cfg := "global:\n  scrape_interval: 15s\n"
	if c.oooWindow > 0 {
		cfg += fmt.Sprintf("storage:\n  tsdb:\n    out_of_order_time_window: %s\n", model.Duration(c.oooWindow))
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	proc, addr, err := startOnFreePort(context.Background(), "prometheus", filepath.Join(dir, "prometheus.log"), bin, func(addr string) []string {
		return []string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + filepath.Join(dir, "tsdb"),
			"--web.listen-address=" + addr,
			"--web.enable-remote-write-receiver",
			"--log.level=warn",
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{Addr: addr, proc: proc, dir: dir}
	t.Cleanup(func() {
		p.proc.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.proc.logTail(40))
		}
	})
	return p
}

// RemoteWriteURL is the URL to configure in a remote_write endpoint.
func (p *Prometheus) RemoteWriteURL() string { return "http://" + p.Addr + "/api/v1/write" }

// apiResponse is the envelope of Prometheus' HTTP API.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func (p *Prometheus) api(ctx context.Context, path string, params url.Values) (apiResponse, error) {
	var r apiResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+p.Addr+path, strings.NewReader(params.Encode()))
	if err != nil {
		return r, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, fmt.Errorf("lab: prometheus %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, fmt.Errorf("lab: prometheus %s: %w", path, err)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("lab: prometheus %s: %s: %w", path, resp.Status, err)
	}
	if r.Status != "success" {
		return r, fmt.Errorf("lab: prometheus %s %q: %s: %s", path, params.Get("query"), r.ErrorType, r.Error)
	}
	return r, nil
}

// Query evaluates an instant PromQL query at time at (now when zero).
func (p *Prometheus) Query(ctx context.Context, promql string, at time.Time) (model.Vector, error) {
	params := url.Values{"query": {promql}}
	if !at.IsZero() {
		params.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	r, err := p.api(ctx, "/api/v1/query", params)
	if err != nil {
		return nil, err
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("lab: query %q gave a %s, not a vector", promql, r.Data.ResultType)
	}
	var v model.Vector
	if err := json.Unmarshal(r.Data.Result, &v); err != nil {
		return nil, fmt.Errorf("lab: query %q: %w", promql, err)
	}
	return v, nil
}

// QueryRange evaluates a range query.
func (p *Prometheus) QueryRange(ctx context.Context, promql string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	params := url.Values{
		"query": {promql},
		"start": {strconv.FormatFloat(float64(start.UnixMilli())/1000, 'f', 3, 64)},
		"end":   {strconv.FormatFloat(float64(end.UnixMilli())/1000, 'f', 3, 64)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', 3, 64)},
	}
	r, err := p.api(ctx, "/api/v1/query_range", params)
	if err != nil {
		return nil, err
	}
	var m model.Matrix
	if err := json.Unmarshal(r.Data.Result, &m); err != nil {
		return nil, fmt.Errorf("lab: query_range %q: %w", promql, err)
	}
	return m, nil
}

// SelfMetric sums a metric of Prometheus' own /metrics, such as
// prometheus_tsdb_out_of_order_samples_total.
func (p *Prometheus) SelfMetric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.Addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("lab: prometheus /metrics: %w", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("lab: prometheus /metrics: %w", err)
	}
	var sum float64
	for _, m := range fams[name].GetMetric() {
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
	}
	return sum, nil
}

// AgentConfig says what a Prometheus agent scrapes and where it writes.
type AgentConfig struct {
	TargetsFile    string // file_sd JSON (Targets.FileSD)
	Interval       time.Duration
	Timeout        time.Duration
	RemoteWriteURL string
}

// Agent is Debian's Prometheus in agent mode, the process shoal is
// compared against in benchmarks.
type Agent struct {
	Addr string
	proc *process
}

// StartPrometheusAgent runs Prometheus in agent mode scraping the targets
// of cfg and remote-writing to cfg.RemoteWriteURL; it stops when the test
// ends.
func StartPrometheusAgent(t testing.TB, cfg AgentConfig) *Agent {
	t.Helper()
	bin := RequirePrometheus(t)
	if cfg.Interval == 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Interval / 2
	}
	dir := t.TempDir()
	yml := fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: lab
    file_sd_configs:
      - files: [%q]
remote_write:
  - url: %q
`, model.Duration(cfg.Interval), model.Duration(cfg.Timeout), cfg.TargetsFile, cfg.RemoteWriteURL)
	cfgPath := filepath.Join(dir, "agent.yml")
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	// Prometheus 3 has --agent; 2.x (Debian 12's 2.42) a feature flag.
	mode := "--enable-feature=agent"
	if help, _ := exec.Command(bin, "--help").CombinedOutput(); strings.Contains(string(help), "--agent") {
		mode = "--agent"
	}
	proc, addr, err := startOnFreePort(context.Background(), "prometheus-agent", filepath.Join(dir, "agent.log"), bin, func(addr string) []string {
		return []string{
			mode,
			"--config.file=" + cfgPath,
			"--storage.agent.path=" + filepath.Join(dir, "wal"),
			"--web.listen-address=" + addr,
			"--log.level=warn",
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{Addr: addr, proc: proc}
	t.Cleanup(func() {
		a.proc.stop(10 * time.Second)
		if t.Failed() {
			t.Logf("prometheus agent log:\n%s", a.proc.logTail(40))
		}
	})
	return a
}

// Pid is the agent's process id.
func (a *Agent) Pid() int { return a.proc.cmd.Process.Pid }

// Usage reads the agent's CPU time and memory so far.
func (a *Agent) Usage() (Usage, error) {
	if a.proc.exited() {
		return Usage{}, fmt.Errorf("lab: prometheus agent exited:\n%s", a.proc.logTail(20))
	}
	return ProcessUsage(a.Pid())
}
