package relabel

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// rule returns a rule block with Alloy's defaults and f applied.
func rule(f func(c *Config)) Config {
	var c Config
	c.SetToDefault()
	f(&c)
	return c
}

// apply runs the rules on in, returning the result or "dropped".
func apply(t *testing.T, in labels.Labels, rules ...Config) string {
	t.Helper()
	prs, err := Rules(rules).Prometheus()
	if err != nil {
		t.Fatalf("converting rules: %v", err)
	}
	lb := labels.NewBuilder(in)
	if !relabel.ProcessBuilder(lb, prs...) {
		return "dropped"
	}
	return lb.Labels().String()
}

func TestEachActionAsAlloyDocumentsIt(t *testing.T) {
	in := labels.FromStrings("__address__", "10.0.0.1:9100", "job", "Node", "env", "prod", "__meta_pod", "web-1", "team", "prod")
	for _, tc := range []struct {
		name string
		rule Config
		want string
	}{
		{"replace copies a source label's value into the target label with the default regex and $1",
			rule(func(c *Config) { c.SourceLabels = []string{"__meta_pod"}; c.TargetLabel = "pod" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", pod="web-1", team="prod"}`},
		{"replace joins source labels with the separator and uses capture groups",
			rule(func(c *Config) {
				c.SourceLabels = []string{"job", "env"}
				c.Separator = "/"
				c.Regex = "(.*)/(.*)"
				c.Replacement = "$2-$1"
				c.TargetLabel = "id"
			}),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", id="prod-Node", job="Node", team="prod"}`},
		{"replace does nothing when the anchored regex does not match",
			rule(func(c *Config) { c.SourceLabels = []string{"job"}; c.Regex = "ode"; c.TargetLabel = "x" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", team="prod"}`},
		{"replace with an empty result deletes the target label",
			rule(func(c *Config) {
				c.SourceLabels = []string{"missing"}
				c.Regex = "(.*)"
				c.Replacement = "$1"
				c.TargetLabel = "env"
			}),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", job="Node", team="prod"}`},
		{"keep keeps a target whose joined source labels match",
			rule(func(c *Config) { c.Action = Keep; c.SourceLabels = []string{"env"}; c.Regex = "prod|staging" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", team="prod"}`},
		{"keep drops a target whose source labels do not match",
			rule(func(c *Config) { c.Action = Keep; c.SourceLabels = []string{"env"}; c.Regex = "dev" }),
			"dropped"},
		{"drop drops a target whose source labels match",
			rule(func(c *Config) { c.Action = Drop; c.SourceLabels = []string{"job"}; c.Regex = "No.*" }),
			"dropped"},
		{"action names are case-insensitive",
			rule(func(c *Config) { c.Action = "DROP"; c.SourceLabels = []string{"job"}; c.Regex = "Node" }),
			"dropped"},
		{"hashmod writes the md5-based modulus of the source value",
			rule(func(c *Config) {
				c.Action = HashMod
				c.SourceLabels = []string{"__address__"}
				c.Modulus = 1
				c.TargetLabel = "shard"
			}),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", shard="0", team="prod"}`},
		{"labelmap copies labels whose names match under the replacement name",
			rule(func(c *Config) { c.Action = LabelMap; c.Regex = "__meta_(.+)" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", pod="web-1", team="prod"}`},
		{"labeldrop removes labels whose names match",
			rule(func(c *Config) { c.Action = LabelDrop; c.Regex = "__meta_.*|team" }),
			`{__address__="10.0.0.1:9100", env="prod", job="Node"}`},
		{"labelkeep removes labels whose names do not match",
			rule(func(c *Config) { c.Action = LabelKeep; c.Regex = "__address__|job" }),
			`{__address__="10.0.0.1:9100", job="Node"}`},
		{"lowercase writes the lower-cased source value",
			rule(func(c *Config) { c.Action = Lowercase; c.SourceLabels = []string{"job"}; c.TargetLabel = "job" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="node", team="prod"}`},
		{"uppercase writes the upper-cased source value",
			rule(func(c *Config) { c.Action = Uppercase; c.SourceLabels = []string{"env"}; c.TargetLabel = "ENV" }),
			`{ENV="PROD", __address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", team="prod"}`},
		{"keepequal keeps a target whose source value equals the target label",
			rule(func(c *Config) { c.Action = KeepEqual; c.SourceLabels = []string{"env"}; c.TargetLabel = "team" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", team="prod"}`},
		{"keepequal drops a target whose source value differs from the target label",
			rule(func(c *Config) { c.Action = KeepEqual; c.SourceLabels = []string{"env"}; c.TargetLabel = "job" }),
			"dropped"},
		{"dropequal drops a target whose source value equals the target label",
			rule(func(c *Config) { c.Action = DropEqual; c.SourceLabels = []string{"env"}; c.TargetLabel = "team" }),
			"dropped"},
		{"dropequal keeps a target whose source value differs",
			rule(func(c *Config) { c.Action = DropEqual; c.SourceLabels = []string{"env"}; c.TargetLabel = "job" }),
			`{__address__="10.0.0.1:9100", __meta_pod="web-1", env="prod", job="Node", team="prod"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := apply(t, in, tc.rule); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestRulesApplyInOrder(t *testing.T) {
	in := labels.FromStrings("a", "1")
	got := apply(t, in,
		rule(func(c *Config) { c.SourceLabels = []string{"a"}; c.TargetLabel = "b" }),
		rule(func(c *Config) { c.Action = Drop; c.SourceLabels = []string{"b"}; c.Regex = "1" }),
	)
	if got != "dropped" {
		t.Fatalf("got %s, want the second rule to see the first one's label and drop", got)
	}
}

func TestValidationMatchesAlloy(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule Config
		want string
	}{
		{"an unknown action is rejected", rule(func(c *Config) { c.Action = "rename"; c.TargetLabel = "x" }), `unknown relabel action "rename"`},
		{"an empty action is rejected", rule(func(c *Config) { c.Action = "" }), "relabel action cannot be empty"},
		{"a regex that does not compile is rejected", rule(func(c *Config) { c.Regex = "(("; c.TargetLabel = "x" }), `invalid regex "(("`},
		{"replace needs a target label", rule(func(c *Config) { c.SourceLabels = []string{"a"} }), "requires 'target_label'"},
		{"hashmod needs a modulus", rule(func(c *Config) { c.Action = HashMod; c.TargetLabel = "x" }), "requires non-zero modulus"},
		{"lowercase forbids a replacement", rule(func(c *Config) { c.Action = Lowercase; c.TargetLabel = "x"; c.Replacement = "y" }), "'replacement' can not be set"},
		{"keepequal forbids a regex", rule(func(c *Config) { c.Action = KeepEqual; c.TargetLabel = "x"; c.Regex = "a" }), "requires only 'source_labels' and `target_label`"},
		{"labeldrop forbids source labels", rule(func(c *Config) { c.Action = LabelDrop; c.SourceLabels = []string{"a"} }), "requires only 'regex'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rule.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	bad := Rules{rule(func(c *Config) { c.TargetLabel = "ok" }), rule(func(c *Config) { c.Action = "nope" })}
	if _, err := bad.Prometheus(); err == nil || !strings.HasPrefix(err.Error(), "rule 2: ") {
		t.Fatalf("Rules.Prometheus() = %v, want the error to name rule 2", err)
	}
}

func TestDefaultsAreAlloys(t *testing.T) {
	var c Config
	c.SetToDefault()
	if c.Separator != ";" || c.Regex != "(.*)" || c.Replacement != "$1" || c.Action != Replace || c.Modulus != 0 {
		t.Fatalf("defaults = %+v", c)
	}
}
