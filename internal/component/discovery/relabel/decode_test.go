package relabel

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/syntax/alloyjson"
)

func TestRuleBlocksDecodeWithAlloysDefaults(t *testing.T) {
	src := `
discovery.relabel "keep_web" {
  targets = [
    {"__address__" = "10.0.0.1:80", "app" = "web"},
    {"__address__" = "10.0.0.2:80", "app" = "db"},
  ]

  rule {
    source_labels = ["app"]
    regex         = "web"
    action        = "keep"
  }

  rule {
    target_label = "env"
    replacement  = "prod"
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.relabel", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Targets) != 2 || len(a.Rules) != 2 {
		t.Fatalf("decoded %+v", a)
	}
	if r := a.Rules[1]; r.Action != relabel.Replace || r.Separator != ";" || r.Regex != "(.*)" || r.Replacement != "prod" {
		t.Fatalf("second rule = %+v, want Alloy's defaults for the unset fields", r)
	}
	rules, err := relabel.Rules(a.Rules).Prometheus()
	if err != nil {
		t.Fatal(err)
	}
	out := Relabel(a.Targets, rules)
	if len(out) != 1 || out[0]["env"] != "prod" {
		t.Fatalf("output = %v", out)
	}
}

func TestTargetsFromAnotherDiscoveryExportDecode(t *testing.T) {
	file := discovery.Exports{Targets: []discovery.Target{{"__address__": "a:1", "__meta_filepath": "/t.json"}}}
	vars := map[string]any{"discovery": map[string]any{"file": map[string]any{"x": file}}}
	var a Arguments
	if err := discoverytest.Decode(t, `discovery.relabel "y" {
  targets = discovery.file.x.targets
}`, "discovery.relabel", vars, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Targets) != 1 || a.Targets[0]["__meta_filepath"] != "/t.json" {
		t.Fatalf("decoded %+v", a.Targets)
	}
}

func TestExportsEncodeForTheAPI(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "discovery.relabel.x")
	var r relabel.Config
	r.SetToDefault()
	r.TargetLabel = "env"
	c, err := New(opts, Arguments{Targets: []discovery.Target{{"__address__": "a:1"}}, Rules: []relabel.Config{r}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := alloyjson.MarshalBody(c.Exports())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"name":"output"`) || !strings.Contains(string(b), `"a:1"`) || !strings.Contains(string(b), `"capsule"`) {
		t.Fatalf("exports encode as %s", b)
	}
}

func TestBadRuleIsReportedAtDecode(t *testing.T) {
	var a Arguments
	err := discoverytest.Decode(t, `discovery.relabel "x" {
  targets = []
  rule {
    action = "hashmod"
    target_label = "shard"
  }
}`, "discovery.relabel", nil, &a)
	if err == nil {
		t.Fatal("a hashmod rule without modulus was accepted")
	}
	t.Log(err)
}
