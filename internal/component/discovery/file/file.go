// Package file is the discovery.file component: targets read from JSON or
// YAML files in Prometheus' file_sd format, matched by globs, re-read when
// the files change (fsnotify) and every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Reading the files is
// prometheus' discovery/file; running it is the parent discovery package.
package file

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promfile "github.com/prometheus/prometheus/discovery/file"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.file's arguments.
type Arguments struct {
	Files           []string      `alloy:"files,attr"`
	RefreshInterval time.Duration `alloy:"refresh_interval,attr,optional"`
}

// DefaultArguments re-read the files every 5 minutes besides watching them.
var DefaultArguments = Arguments{RefreshInterval: 5 * time.Minute}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// validName is file_sd's rule: a .json, .yml or .yaml file, with at most
// one * and only in the last path element.
var validName = regexp.MustCompile(`^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`)

// Validate checks that files are given, are JSON or YAML, and that the
// interval is positive.
func (a *Arguments) Validate() error {
	if len(a.Files) == 0 {
		return errors.New("files must contain at least one path")
	}
	for _, f := range a.Files {
		if !validName.MatchString(f) {
			return fmt.Errorf("path %q is not valid for file discovery: it must end in .json, .yml or .yaml, with * only in the file name", f)
		}
		if _, err := filepath.Match(f, ""); err != nil {
			return fmt.Errorf("path %q: %w", f, err)
		}
	}
	if a.RefreshInterval <= 0 {
		return fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	return nil
}

// SDConfig converts the arguments to prometheus' file_sd config.
func (a Arguments) SDConfig() *promfile.SDConfig {
	return &promfile.SDConfig{
		Files:           append([]string(nil), a.Files...),
		RefreshInterval: model.Duration(a.RefreshInterval),
	}
}

// mechanism: file_sd observes its scan duration after each full scan, and
// counts read and watch errors.
var mechanism = discovery.Mechanism{
	ScanMetric: "prometheus_sd_file_scan_duration_seconds",
	FailureMetrics: []string{
		"prometheus_sd_file_read_errors_total",
		"prometheus_sd_file_watcher_errors_total",
	},
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a.SDConfig(), nil
}

// New builds a discovery.file component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// Registration registers discovery.file.
var Registration = component.Registration{
	Name:      "discovery.file",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
