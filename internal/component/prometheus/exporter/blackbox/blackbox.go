// Package blackbox is the prometheus.exporter.blackbox component:
// blackbox_exporter's probers (http, tcp, icmp, dns, grpc), linked as a
// library and configured by blackbox_exporter's own YAML (the config or
// config_file argument). It exports one target per probed address, as
// Alloy does: job "integrations/blackbox/<name>", instance the component's
// ID, and __param_target/__param_module for the scrape to send, so that each
// scrape of a target runs one probe.
package blackbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	kitlog "github.com/go-kit/log"
	bbconfig "github.com/prometheus/blackbox_exporter/config"
	"github.com/prometheus/blackbox_exporter/prober"
	"gopkg.in/yaml.v3"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Registration is prometheus.exporter.blackbox's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.blackbox",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.BuildWithTargets("prometheus.exporter.blackbox", "blackbox", create, buildTargets),
}

// DefaultArguments are Alloy's defaults: probe_timeout_offset is
// blackbox_exporter's --timeout-offset default.
var DefaultArguments = Arguments{ProbeTimeoutOffset: 500 * time.Millisecond}

// Arguments are prometheus.exporter.blackbox's, as Alloy names them.
type Arguments struct {
	ConfigFile         string               `alloy:"config_file,attr,optional"`
	Config             types.OptionalSecret `alloy:"config,attr,optional"`
	Targets            []Target             `alloy:"target,block,optional"`
	ProbeTimeoutOffset time.Duration        `alloy:"probe_timeout_offset,attr,optional"`
	// TargetsList takes the targets from another component's export: each
	// has name, address (or __address__), optionally module, and any other
	// label is kept on the exported target.
	TargetsList []map[string]string `alloy:"targets,attr,optional"`
}

// Target is a target block: one address probed with one module.
type Target struct {
	Name    string            `alloy:"name,attr"`
	Address string            `alloy:"address,attr"`
	Module  string            `alloy:"module,attr,optional"`
	Labels  map[string]string `alloy:"labels,attr,optional"`
}

// SetToDefault implements the syntax's defaulter.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks what Alloy checks: exactly one of config and config_file,
// an inline config that blackbox_exporter accepts, and either target blocks
// or the targets list, each target named and addressed.
func (a *Arguments) Validate() error {
	if a.ConfigFile != "" && a.Config.Value != "" {
		return errors.New("config and config_file are mutually exclusive")
	}
	if a.ConfigFile == "" && a.Config.Value == "" {
		return errors.New("config or config_file must be set")
	}
	if a.Config.Value != "" {
		if _, err := parseConfig([]byte(a.Config.Value)); err != nil {
			return fmt.Errorf("invalid blackbox_exporter config: %w", err)
		}
	}
	if len(a.Targets) != 0 && len(a.TargetsList) != 0 {
		return errors.New("the block `target` and the attribute `targets` are mutually exclusive")
	}
	for _, t := range a.TargetsList {
		if _, ok := t["name"]; !ok {
			return errors.New("all targets must have a `name`")
		}
		if _, ok := address(t); !ok {
			return errors.New("all targets must have an `address` or an `__address__` label")
		}
	}
	for _, t := range a.Targets {
		if t.Name == "" || t.Address == "" {
			return errors.New("a target's `name` and `address` must not be empty")
		}
	}
	if a.ProbeTimeoutOffset < 0 {
		return errors.New("probe_timeout_offset must not be negative")
	}
	return nil
}

// targets returns the target blocks, or the targets list converted to
// them, the list's other labels kept as the target's labels.
func (a *Arguments) targets() []Target {
	if len(a.Targets) != 0 {
		return a.Targets
	}
	out := make([]Target, 0, len(a.TargetsList))
	for _, m := range a.TargetsList {
		addr, _ := address(m)
		t := Target{Name: m["name"], Address: addr, Module: m["module"], Labels: map[string]string{}}
		for k, v := range m {
			switch k {
			case "name", "address", "__address__", "module":
			default:
				t.Labels[k] = v
			}
		}
		out = append(out, t)
	}
	return out
}

func address(m map[string]string) (string, bool) {
	if v, ok := m["address"]; ok {
		return v, true
	}
	v, ok := m["__address__"]
	return v, ok
}

// parseConfig decodes blackbox_exporter's YAML as blackbox_exporter does
// (unknown fields refused, its defaults applied).
func parseConfig(b []byte) (*bbconfig.Config, error) {
	c := &bbconfig.Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return c, nil
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	a := args.(Arguments)
	var (
		c   *bbconfig.Config
		err error
	)
	if a.ConfigFile != "" {
		b, rerr := os.ReadFile(a.ConfigFile)
		if rerr != nil {
			return nil, "", fmt.Errorf("reading blackbox config file: %w", rerr)
		}
		if c, err = parseConfig(b); err != nil {
			return nil, "", fmt.Errorf("blackbox config file %s: %w", a.ConfigFile, err)
		}
	} else if c, err = parseConfig([]byte(a.Config.Value)); err != nil {
		return nil, "", fmt.Errorf("invalid blackbox_exporter config: %w", err)
	}
	logger := kitLogger(opts.Logger)
	offset := a.ProbeTimeoutOffset.Seconds()
	history := &prober.ResultHistory{MaxResults: 0}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prober.Handler(w, r, c, logger, history, offset, nil, nil)
	})
	// Alloy's instance for blackbox targets is the component's ID.
	return h, opts.ID, nil
}

// buildTargets exports one target per probed address, as Alloy does: the
// target's own labels first (so the exporter's labels win), job suffixed
// with the target's name, and the probe's parameters as __param_ labels.
func buildTargets(base discovery.Target, args component.Arguments) []discovery.Target {
	a := args.(Arguments)
	var out []discovery.Target
	for _, t := range a.targets() {
		tg := make(discovery.Target, len(base)+len(t.Labels)+2)
		for k, v := range t.Labels {
			tg[k] = v
		}
		for k, v := range base {
			tg[k] = v
		}
		tg["job"] = base["job"] + "/" + t.Name
		tg["__param_target"] = t.Address
		if t.Module != "" {
			tg["__param_module"] = t.Module
		}
		out = append(out, tg)
	}
	return out
}

// kitLogger passes blackbox_exporter's go-kit log lines to the component's
// logger at their level, as Alloy does.
func kitLogger(l *slog.Logger) kitlog.Logger {
	return kitlog.LoggerFunc(func(kv ...any) error {
		lvl := slog.LevelInfo
		msg := ""
		attrs := make([]any, 0, len(kv))
		for i := 0; i+1 < len(kv); i += 2 {
			k := fmt.Sprint(kv[i])
			switch k {
			case "level":
				switch fmt.Sprint(kv[i+1]) {
				case "debug":
					lvl = slog.LevelDebug
				case "warn":
					lvl = slog.LevelWarn
				case "error":
					lvl = slog.LevelError
				}
			case "msg":
				msg = fmt.Sprint(kv[i+1])
			default:
				attrs = append(attrs, k, kv[i+1])
			}
		}
		l.Log(context.Background(), lvl, msg, attrs...)
		return nil
	})
}
