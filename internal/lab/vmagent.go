package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// VMAgentVersion is the vmagent release the benchmarks compare against. It
// is built from source with the Go toolchain (bench/run.sh does it), never
// taken from Debian, whose package is years old and starts a service.
const VMAgentVersion = "v1.151.0"

// VMAgentBinary finds vmagent: $VMAGENT_BIN, else `vmagent` on PATH, else
// $(go env GOPATH)/bin/vmagent.
func VMAgentBinary() (string, error) {
	if env := os.Getenv("VMAGENT_BIN"); env != "" {
		return env, nil
	}
	if p, err := exec.LookPath("vmagent"); err == nil {
		return p, nil
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "vmagent")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("lab: vmagent not found; build it with: go install github.com/VictoriaMetrics/VictoriaMetrics/app/vmagent@%s", VMAgentVersion)
}

// RunVMAgent runs vmagent scraping the file_sd targets of cfg with the same
// job, interval and timeout as RunPrometheusAgent's YAML, and remote-writing
// Prometheus' protocol to cfg.RemoteWriteURL. queue (when not nil) sets the
// rows per request, so that both agents send requests of one size. Its
// config, queue and log go under dir (which must exist); ctx bounds the wait
// for readiness; Stop ends it.
func RunVMAgent(ctx context.Context, cfg AgentConfig, queue *AgentQueue, dir string) (*Agent, error) {
	bin, err := VMAgentBinary()
	if err != nil {
		return nil, err
	}
	yml := scrapeYAML(cfg)
	cfgPath := filepath.Join(dir, "vmagent.yml")
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		return nil, fmt.Errorf("lab: vmagent config: %w", err)
	}
	help, _ := exec.CommandContext(ctx, bin, "-help").CombinedOutput()
	proc, addr, err := startOnFreePort(ctx, "vmagent", filepath.Join(dir, "vmagent.log"), bin, func(addr string) []string {
		args := []string{
			"-promscrape.config=" + cfgPath,
			"-promscrape.fileSDCheckInterval=5s",
			"-remoteWrite.url=" + cfg.RemoteWriteURL,
			"-remoteWrite.tmpDataPath=" + filepath.Join(dir, "queue"),
			"-httpListenAddr=" + addr,
			"-loggerLevel=WARN",
		}
		if strings.Contains(string(help), "remoteWrite.forcePromProto") {
			// The lab receivers speak Prometheus' protocol only; say so
			// rather than rely on vmagent's probe falling back.
			args = append(args, "-remoteWrite.forcePromProto")
		}
		if queue != nil && queue.MaxSamplesPerSend > 0 {
			args = append(args, fmt.Sprintf("-remoteWrite.maxRowsPerBlock=%d", queue.MaxSamplesPerSend))
		}
		return args
	})
	if err != nil {
		return nil, err
	}
	return &Agent{Addr: addr, proc: proc}, nil
}

// VMAgentVersionLine returns the first line of `vmagent -version`.
func VMAgentVersionLine(ctx context.Context) (string, error) {
	bin, err := VMAgentBinary()
	if err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, bin, "-version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("lab: %s -version: %w", bin, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}
