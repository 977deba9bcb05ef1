// Package relabel is the `rule` block that discovery.relabel,
// prometheus.relabel and remote write's write_relabel_config share: Alloy's
// attribute names, defaults and validation, and the conversion to
// prometheus' *relabel.Config, which does the actual work.
//
// It owns what a rule is and how it is checked. It does not apply rules to
// targets or samples (the components do, with relabel.ProcessBuilder) and
// does not cache results (prometheus.relabel does).
package relabel

import (
	"errors"
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

// Action is what a rule does, named as in Alloy and Prometheus. Names are
// case-insensitive in the config; they are compared in lower case.
type Action string

// The actions a rule can take.
const (
	Replace   Action = "replace"
	Keep      Action = "keep"
	Drop      Action = "drop"
	KeepEqual Action = "keepequal"
	DropEqual Action = "dropequal"
	HashMod   Action = "hashmod"
	LabelMap  Action = "labelmap"
	LabelDrop Action = "labeldrop"
	LabelKeep Action = "labelkeep"
	Lowercase Action = "lowercase"
	Uppercase Action = "uppercase"
)

// Actions lists every valid action, in the order Alloy documents them.
var Actions = []Action{Replace, Keep, Drop, HashMod, LabelMap, LabelDrop, LabelKeep, Lowercase, Uppercase, KeepEqual, DropEqual}

// The defaults of an empty rule block.
const (
	DefaultSeparator   = ";"
	DefaultRegex       = "(.*)"
	DefaultReplacement = "$1"
	DefaultAction      = Replace
)

// Config is one `rule` block.
type Config struct {
	SourceLabels []string `alloy:"source_labels,attr,optional"`
	Separator    string   `alloy:"separator,attr,optional"`
	Regex        string   `alloy:"regex,attr,optional"`
	Modulus      uint64   `alloy:"modulus,attr,optional"`
	TargetLabel  string   `alloy:"target_label,attr,optional"`
	Replacement  string   `alloy:"replacement,attr,optional"`
	Action       Action   `alloy:"action,attr,optional"`
}

// SetToDefault sets Alloy's defaults: separator ";", regex "(.*)",
// replacement "$1", action "replace".
func (c *Config) SetToDefault() {
	*c = Config{
		Separator:   DefaultSeparator,
		Regex:       DefaultRegex,
		Replacement: DefaultReplacement,
		Action:      DefaultAction,
	}
}

// Validate checks the rule as Alloy does: a known action, a regex that
// compiles, and the fields each action requires or forbids.
func (c *Config) Validate() error {
	_, err := c.Prometheus()
	return err
}

// Prometheus converts the rule to prometheus' form, validated. The regex is
// anchored at both ends, as in Prometheus.
func (c *Config) Prometheus() (*relabel.Config, error) {
	action := Action(strings.ToLower(string(c.Action)))
	if action == "" {
		return nil, errors.New("relabel action cannot be empty")
	}
	known := false
	for _, a := range Actions {
		if a == action {
			known = true
			break
		}
	}
	if !known {
		return nil, fmt.Errorf("unknown relabel action %q", c.Action)
	}

	// Prometheus recognises the default regex by identity (the keepequal and
	// dropequal checks and the replace fast path), so reuse its value.
	re := relabel.DefaultRelabelConfig.Regex
	if c.Regex != DefaultRegex {
		var err error
		re, err = relabel.NewRegexp(c.Regex)
		if err != nil {
			return nil, fmt.Errorf("invalid regex %q: %w", c.Regex, err)
		}
	}

	var src model.LabelNames
	if c.SourceLabels != nil {
		src = make(model.LabelNames, len(c.SourceLabels))
		for i, l := range c.SourceLabels {
			src[i] = model.LabelName(l)
		}
	}

	pc := &relabel.Config{
		SourceLabels:         src,
		Separator:            c.Separator,
		Regex:                re,
		Modulus:              c.Modulus,
		TargetLabel:          c.TargetLabel,
		Replacement:          c.Replacement,
		Action:               relabel.Action(action),
		NameValidationScheme: model.UTF8Validation,
	}
	if err := pc.Validate(model.UTF8Validation); err != nil {
		return nil, err
	}
	return pc, nil
}

// Rules is a list of rules, as exported by discovery.relabel and
// prometheus.relabel under `rules`. It travels through the config as a
// capsule: other components can take it, users cannot look inside.
type Rules []Config

// AlloyCapsule marks Rules as a capsule value.
func (Rules) AlloyCapsule() {}

// Prometheus converts every rule, naming the first invalid one by its
// position in the list (1-based, as the blocks appear in the config).
func (r Rules) Prometheus() ([]*relabel.Config, error) {
	out := make([]*relabel.Config, 0, len(r))
	for i := range r {
		pc, err := r[i].Prometheus()
		if err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
		out = append(out, pc)
	}
	return out, nil
}
