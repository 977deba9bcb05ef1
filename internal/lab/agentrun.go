package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// AgentQueue is the queue_config of an agent's remote_write. A benchmark
// sets it to shoal's own defaults, so that both systems send requests of the
// same size and the comparison measures the pipelines, not the batch sizes.
type AgentQueue struct {
	Capacity          int
	MinShards         int
	MaxShards         int
	MaxSamplesPerSend int
	BatchSendDeadline time.Duration
}

// RunPrometheusAgent is StartPrometheusAgent for a program rather than a
// test: the agent's config, WAL and log go under dir (which must exist), ctx
// bounds the wait for readiness, queue (when not nil) is written as the
// remote_write's queue_config, and Stop ends the process. A program that
// dies leaves no agent behind (the child gets SIGKILL with its parent).
func RunPrometheusAgent(ctx context.Context, cfg AgentConfig, queue *AgentQueue, dir string) (*Agent, error) {
	bin := PrometheusBinary
	if env := os.Getenv("PROMETHEUS_BIN"); env != "" {
		bin = env
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("lab: Debian's prometheus is not installed at %s (apt-get install prometheus): %w", bin, err)
	}
	yml := scrapeYAML(cfg) + fmt.Sprintf(`remote_write:
  - url: %q
`, cfg.RemoteWriteURL)
	if queue != nil {
		yml += fmt.Sprintf(`    queue_config:
      capacity: %d
      min_shards: %d
      max_shards: %d
      max_samples_per_send: %d
      batch_send_deadline: %s
`, queue.Capacity, max(queue.MinShards, 1), queue.MaxShards, queue.MaxSamplesPerSend, model.Duration(queue.BatchSendDeadline))
	}
	cfgPath := filepath.Join(dir, "agent.yml")
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		return nil, fmt.Errorf("lab: prometheus agent config: %w", err)
	}
	mode := "--enable-feature=agent"
	if help, _ := exec.CommandContext(ctx, bin, "--help").CombinedOutput(); strings.Contains(string(help), "--agent") {
		mode = "--agent"
	}
	proc, addr, err := startOnFreePort(ctx, "prometheus-agent", filepath.Join(dir, "agent.log"), bin, func(addr string) []string {
		return []string{
			mode,
			"--config.file=" + cfgPath,
			"--storage.agent.path=" + filepath.Join(dir, "wal"),
			"--web.listen-address=" + addr,
			"--log.level=warn",
		}
	})
	if err != nil {
		return nil, err
	}
	return &Agent{Addr: addr, proc: proc}, nil
}

// scrapeYAML is the scrape part of a Prometheus-format config that both
// agents read: job "lab" over cfg's file_sd targets at cfg's interval and
// timeout (2s and half of it by default).
func scrapeYAML(cfg AgentConfig) string {
	if cfg.Interval == 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Interval / 2
	}
	return fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: lab
    file_sd_configs:
      - files: [%q]
`, model.Duration(cfg.Interval), model.Duration(cfg.Timeout), cfg.TargetsFile)
}

// Stop sends the agent SIGTERM, and SIGKILL after grace, and waits for it
// to exit.
func (a *Agent) Stop(grace time.Duration) { a.proc.stop(grace) }

// LogTail returns the last lines of the agent's log.
func (a *Agent) LogTail(lines int) string { return a.proc.logTail(lines) }

// PrometheusVersion returns the first line of `prometheus --version`.
func PrometheusVersion(ctx context.Context) (string, error) {
	bin := PrometheusBinary
	if env := os.Getenv("PROMETHEUS_BIN"); env != "" {
		bin = env
	}
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("lab: %s --version: %w", bin, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}
