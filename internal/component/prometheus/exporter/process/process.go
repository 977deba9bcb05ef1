// Package process is the prometheus.exporter.process component:
// process-exporter's collector (github.com/ncabatoff/process-exporter),
// linked as a library, groups the host's processes by Alloy's matcher
// blocks and exports namedprocess_namegroup_* series for each group. Its
// target is host-specific (instance the host name), as in Alloy.
//
// The collector reads /proc, so it is linked only into Linux builds;
// elsewhere a config using the component decodes and validates, but
// building it fails.
//
// Like Alloy, each rebuild (a config reload that changes the component's
// arguments) leaves process-exporter's idle scrape goroutine behind: the
// library gives no way to stop it.
package process

import (
	"fmt"
	"net/http"

	pconfig "github.com/ncabatoff/process-exporter/config"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

// Registration is prometheus.exporter.process's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.process",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.process", "process", create),
}

// DefaultArguments are Alloy's defaults.
var DefaultArguments = Arguments{
	ProcFSPath: "/proc",
	Children:   true,
	Threads:    true,
	SMaps:      true,
}

// Arguments are prometheus.exporter.process's, as Alloy names them.
type Arguments struct {
	Matchers []MatcherGroup `alloy:"matcher,block,optional"`

	ProcFSPath        string `alloy:"procfs_path,attr,optional"`
	Children          bool   `alloy:"track_children,attr,optional"`
	Threads           bool   `alloy:"track_threads,attr,optional"`
	SMaps             bool   `alloy:"gather_smaps,attr,optional"`
	Recheck           bool   `alloy:"recheck_on_scrape,attr,optional"`
	RemoveEmptyGroups bool   `alloy:"remove_empty_groups,attr,optional"`
}

// MatcherGroup is a matcher block: a process joins the group named by the
// name template (default "{{.ExeBase}}") when every rule kind given
// matches it: its comm among comm, its executable among exe, and its
// command line by every cmdline regular expression.
type MatcherGroup struct {
	Name         string   `alloy:"name,attr,optional"`
	CommRules    []string `alloy:"comm,attr,optional"`
	ExeRules     []string `alloy:"exe,attr,optional"`
	CmdlineRules []string `alloy:"cmdline,attr,optional"`
}

// SetToDefault implements the syntax's defaulter.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate compiles the matchers as process-exporter does, so that a bad
// regular expression, a bad name template or an empty matcher is a config
// error at its block.
func (a *Arguments) Validate() error {
	if _, err := a.rules().ToConfig(); err != nil {
		return fmt.Errorf("matcher: %w", err)
	}
	return nil
}

func (a *Arguments) rules() pconfig.MatcherRules {
	out := make(pconfig.MatcherRules, 0, len(a.Matchers))
	for _, m := range a.Matchers {
		out = append(out, pconfig.MatcherGroup{Name: m.Name, CommRules: m.CommRules, ExeRules: m.ExeRules, CmdlineRules: m.CmdlineRules})
	}
	return out
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	exporter.WarnIfClustered(opts)
	a := args.(Arguments)
	h, err := newHandler(&a)
	if err != nil {
		return nil, "", err
	}
	return h, exporter.HostName(), nil
}
