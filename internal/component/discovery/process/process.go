// Package process is the discovery.process component: one target per
// process of the host, read from /proc every refresh_interval, with its
// executable, working directory, command line, owner and container, and
// joined by container ID with the targets of `join` (discovery.docker's or
// discovery.kubernetes' containers), as Alloy does.
//
// It owns the Alloy arguments, the /proc reading (Alloy's own discoverer,
// not Prometheus') and the join. Running it is the parent discovery
// package, through prometheus' refresh loop. It reads /proc of Linux only.
package process

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/refresh"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.process's arguments.
type Arguments struct {
	Join            []discovery.Target `alloy:"join,attr,optional"`
	RefreshInterval time.Duration      `alloy:"refresh_interval,attr,optional"`
	DiscoverConfig  DiscoverConfig     `alloy:"discover_config,block,optional"`
}

// DiscoverConfig is the discover_config block: which labels to read.
type DiscoverConfig struct {
	Cwd         bool `alloy:"cwd,attr,optional"`
	Exe         bool `alloy:"exe,attr,optional"`
	Commandline bool `alloy:"commandline,attr,optional"`
	Username    bool `alloy:"username,attr,optional"`
	UID         bool `alloy:"uid,attr,optional"`
	ContainerID bool `alloy:"container_id,attr,optional"`
	CgroupPath  bool `alloy:"cgroup_path,attr,optional"`
}

// DefaultArguments are Alloy's: a one-minute refresh; cwd, exe,
// commandline and container_id read, username, uid and cgroup_path not.
var DefaultArguments = Arguments{
	RefreshInterval: time.Minute,
	DiscoverConfig: DiscoverConfig{
		Cwd:         true,
		Exe:         true,
		Commandline: true,
		ContainerID: true,
	},
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the interval.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to the discoverer's config.
func (a *Arguments) SDConfig() (*SDConfig, error) {
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	return &SDConfig{ProcRoot: "/proc", Interval: a.RefreshInterval, Discover: a.DiscoverConfig, Join: slices.Clone(a.Join)}, nil
}

// The labels, Alloy's.
const (
	labelPID         = "__process_pid__"
	labelExe         = "__meta_process_exe"
	labelCwd         = "__meta_process_cwd"
	labelCommandline = "__meta_process_commandline"
	labelUsername    = "__meta_process_username"
	labelUID         = "__meta_process_uid"
	labelCgroupPath  = "__meta_process_cgroup_path"
	labelContainerID = "__container_id__"
)

// SDConfig is the discoverer's config, a prometheus discovery config.
type SDConfig struct {
	ProcRoot string
	Interval time.Duration
	Discover DiscoverConfig
	Join     []discovery.Target
}

// Name is the mechanism's name in prometheus' refresh metrics.
func (*SDConfig) Name() string { return "process" }

// NewDiscovererMetrics returns the refresh metrics only.
func (*SDConfig) NewDiscovererMetrics(_ prometheus.Registerer, rmi promdiscovery.RefreshMetricsInstantiator) promdiscovery.DiscovererMetrics {
	return &metrics{refresh: rmi}
}

type metrics struct {
	refresh promdiscovery.RefreshMetricsInstantiator
}

func (*metrics) Register() error { return nil }
func (*metrics) Unregister()     {}

// NewDiscoverer builds the refresh-loop discoverer.
func (c *SDConfig) NewDiscoverer(opts promdiscovery.DiscovererOptions) (promdiscovery.Discoverer, error) {
	m, ok := opts.Metrics.(*metrics)
	if !ok {
		return nil, errors.New("invalid discovery metrics type")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := *c
	return refresh.NewDiscovery(refresh.Options{
		Logger:              logger,
		Mech:                "process",
		SetName:             opts.SetName,
		Interval:            c.Interval,
		MetricsInstantiator: m.refresh,
		RefreshF: func(context.Context) ([]*targetgroup.Group, error) {
			procs, err := cfg.scan(logger)
			if err != nil {
				return nil, err
			}
			g := &targetgroup.Group{Source: "process"}
			for _, t := range join(procs, cfg.Join) {
				ls := make(model.LabelSet, len(t))
				for k, v := range t {
					ls[model.LabelName(k)] = model.LabelValue(v)
				}
				g.Targets = append(g.Targets, ls)
			}
			return []*targetgroup.Group{g}, nil
		},
	}), nil
}

// scan reads every process of ProcRoot. A process that ends while it is
// read is left out; one whose exe, cwd or command line cannot be read
// (another user's, without the privilege) is left out as Alloy does.
func (c *SDConfig) scan(logger *slog.Logger) ([]discovery.Target, error) {
	entries, err := os.ReadDir(c.ProcRoot)
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	users := map[string]string{}
	var out []discovery.Target
	for _, e := range entries {
		pid := e.Name()
		if _, err := strconv.Atoi(pid); err != nil || !e.IsDir() {
			continue
		}
		dir := filepath.Join(c.ProcRoot, pid)
		t := discovery.Target{labelPID: pid}
		skip := false
		gone := func(err error) bool {
			if errors.Is(err, fs.ErrNotExist) {
				return true
			}
			logger.Debug("reading a process", "pid", pid, "err", err)
			return true
		}
		if c.Discover.Exe {
			exe, err := os.Readlink(filepath.Join(dir, "exe"))
			if err != nil {
				skip = gone(err)
			}
			setIf(t, labelExe, exe)
		}
		if c.Discover.Cwd && !skip {
			cwd, err := os.Readlink(filepath.Join(dir, "cwd"))
			if err != nil {
				skip = gone(err)
			}
			setIf(t, labelCwd, cwd)
		}
		if c.Discover.Commandline && !skip {
			b, err := os.ReadFile(filepath.Join(dir, "cmdline"))
			if err != nil {
				skip = gone(err)
			}
			setIf(t, labelCommandline, strings.Join(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), " "))
		}
		if skip {
			continue
		}
		if c.Discover.Username || c.Discover.UID {
			if uid := readUID(filepath.Join(dir, "status")); uid != "" {
				if c.Discover.UID {
					t[labelUID] = uid
				}
				if c.Discover.Username {
					name, ok := users[uid]
					if !ok {
						if u, err := user.LookupId(uid); err == nil {
							name = u.Username
						}
						users[uid] = name
					}
					setIf(t, labelUsername, name)
				}
			}
		}
		if c.Discover.ContainerID || c.Discover.CgroupPath {
			b, err := os.ReadFile(filepath.Join(dir, "cgroup"))
			if err != nil {
				gone(err)
				continue
			}
			if c.Discover.ContainerID {
				setIf(t, labelContainerID, containerIDFromCgroup(b))
			}
			if c.Discover.CgroupPath {
				setIf(t, labelCgroupPath, strings.Join(strings.Split(strings.TrimRight(string(b), "\n"), "\n"), "|"))
			}
		}
		out = append(out, t)
	}
	return out, nil
}

func setIf(t discovery.Target, k, v string) {
	if v != "" {
		t[k] = v
	}
}

// readUID returns the real UID of a /proc/PID/status file.
func readUID(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "Uid:"); ok {
			if fields := strings.Fields(rest); len(fields) > 0 {
				return fields[0]
			}
		}
	}
	return ""
}

// containerIDRe finds a 64-hex container ID at the end of a cgroup path
// (docker, containerd, CRI-O, systemd scopes such as docker-ID.scope).
// It is compiled at first use, not when every node starts.
var containerIDRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^.*/(?:.*-)?([0-9a-f]{64})(?:\.|\s*$)`)
})

// containerIDFromCgroup returns the container ID of a /proc/PID/cgroup
// file, or "".
func containerIDFromCgroup(b []byte) string {
	for line := range bytes.Lines(b) {
		if m := containerIDRe().FindSubmatch(bytes.TrimRight(line, "\n")); len(m) > 1 {
			return string(m[1])
		}
	}
	return ""
}

var containerIDPrefixes = []string{"docker://", "containerd://", "cri-o://"}

// containerIDOf is the container ID a target carries: the process'
// own, Kubernetes' (without its runtime prefix) or Docker's.
func containerIDOf(t discovery.Target) string {
	if id := t[labelContainerID]; id != "" {
		return id
	}
	if id := t["__meta_kubernetes_pod_container_id"]; id != "" {
		for _, p := range containerIDPrefixes {
			if rest, ok := strings.CutPrefix(id, p); ok {
				return rest
			}
		}
		return ""
	}
	return t["__meta_docker_container_id"]
}

// join merges each process with the join target of its container (where
// both have a label, the container's wins, as in Alloy's merge). Processes
// without a matching container and join targets without a container ID
// pass unchanged, and every join target with a container ID is kept too,
// as Alloy keeps it.
func join(procs, containers []discovery.Target) []discovery.Target {
	out := make([]discovery.Target, 0, len(procs)+len(containers))
	byID := make(map[string]discovery.Target, len(containers))
	var idOrder []string
	for _, c := range containers {
		if id := containerIDOf(c); id != "" {
			if _, dup := byID[id]; !dup {
				idOrder = append(idOrder, id)
			}
			byID[id] = c
		} else {
			out = append(out, c)
		}
	}
	for _, p := range procs {
		c, ok := byID[containerIDOf(p)]
		if !ok || containerIDOf(p) == "" {
			out = append(out, p)
			continue
		}
		m := make(discovery.Target, len(p)+len(c))
		for k, v := range p {
			m[k] = v
		}
		for k, v := range c {
			m[k] = v
		}
		out = append(out, m)
	}
	for _, id := range idOrder {
		out = append(out, byID[id])
	}
	return out
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.process component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.process.
var Registration = component.Registration{
	Name:      "discovery.process",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
