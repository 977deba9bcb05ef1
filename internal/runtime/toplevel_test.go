package runtime

import (
	"os"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/stability"
)

// diagLines validates src with the real registry and returns one line per
// diagnostic.
func diagLines(t *testing.T, opts Options, src string) []string {
	t.Helper()
	if opts.Registry == nil {
		opts.Registry = all.Registry()
	}
	var got []string
	for _, d := range New(opts).Validate("cfg.alloy", []byte(src)) {
		got = append(got, d.Error())
	}
	return got
}

// TestValidateRefusesOutOfScopeComponentsOnePerBlock checks a config mixing
// metrics with logs, traces and profiles: one error per refused component,
// at its position, telling out of scope, not yet implemented and unknown
// apart, and nothing about the references between refused components.
func TestValidateRefusesOutOfScopeComponentsOnePerBlock(t *testing.T) {
	src, err := os.ReadFile("testdata/scope/mixed.alloy")
	if err != nil {
		t.Fatal(err)
	}
	got := diagLines(t, Options{}, string(src))
	want := []struct{ pos, text string }{
		{"cfg.alloy:13:1", `component "loki.source.file" is out of scope: shoal is a metrics agent and does not handle logs;`},
		{"cfg.alloy:18:1", `component "loki.write" is out of scope`},
		// cfg.alloy:24 and 32, otelcol.receiver.otlp and
		// otelcol.exporter.prometheus, are shoal's: the receiver's traces
		// output names a refused component, which is not an error of its own.
		{"cfg.alloy:36:1", `component "otelcol.processor.tail_sampling" is out of scope`},
		{"cfg.alloy:42:1", `component "otelcol.exporter.otlp" is out of scope`},
		{"cfg.alloy:48:1", `component "pyroscope.scrape" is out of scope: shoal is a metrics agent and does not handle profiles;`},
		{"cfg.alloy:53:1", `component "faro.receiver" is out of scope`},
		{"cfg.alloy:55:1", `component "prometheus.exporter.snmp" is not yet implemented in shoal (see docs/migrating-from-alloy.md`},
		{"cfg.alloy:57:1", `unknown component "prometheus.scrpae"; did you mean "prometheus.scrape"?`},
		{"cfg.alloy:59:1", `component "beyla.ebpf" is out of scope`},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w.pos+": "+w.text) {
			t.Errorf("diagnostic %d = %q\nwant prefix %q", i, got[i], w.pos+": "+w.text)
		}
		if strings.Contains(w.text, "out of scope") && !strings.Contains(got[i], "docs/migrating-from-alloy.md") {
			t.Errorf("diagnostic %d does not point to the migration doc: %q", i, got[i])
		}
	}
}

func TestValidateTopLevelBlocks(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		src  string
		want []string // prefixes, in order
	}{
		{
			name: "livedebugging is accepted",
			src:  "livedebugging {\n  enabled = true\n}\n",
		},
		{
			name: "livedebugging checks its arguments",
			src:  "livedebugging {\n  enabled = \"yes\"\n}\n",
			want: []string{`cfg.alloy:2:13: "yes" should be bool, got string`},
		},
		{
			name: "tracing is refused with the reason",
			src:  "tracing {\n  sampling_fraction = 0.1\n}\n",
			want: []string{`cfg.alloy:1:1: block "tracing" is not supported: shoal has no traces pipeline`},
		},
		{
			name: "remotecfg is refused with the reason",
			src:  "remotecfg {\n  url = \"https://fleet\"\n}\n",
			want: []string{`cfg.alloy:1:1: block "remotecfg" is not supported: shoal does not fetch its configuration`},
		},
		{
			name: "foreach below the stability level names the flag",
			src:  "foreach \"x\" {\n}\n",
			want: []string{`cfg.alloy:1:1: block "foreach" is at stability level "experimental", below the minimum "generally-available"; run with --stability.level=experimental`},
		},
		{
			name: "foreach at the experimental level is refused as not implemented",
			opts: Options{StabilityLevel: stability.Experimental},
			src:  "foreach \"x\" {\n}\n",
			want: []string{`cfg.alloy:1:1: block "foreach" is not supported: shoal does not implement foreach yet`},
		},
		{
			name: "logging write_to is refused, not ignored",
			src:  "logging {\n  level    = \"debug\"\n  write_to = []\n}\n",
			want: []string{`cfg.alloy:3:3: logging: "write_to" is not supported: shoal writes its own logs to stderr only`},
		},
		{
			name: "logging destination stderr is accepted",
			src:  "logging {\n  destination = \"stderr\"\n}\n",
		},
		{
			name: "logging destination windows_event_log is refused",
			src:  "logging {\n  destination = \"windows_event_log\"\n}\n",
			want: []string{`cfg.alloy:1:1: destination "windows_event_log" is not supported`},
		},
		{
			name: "http tls windows_certificate_filter is refused",
			src:  "http {\n  tls {\n    windows_certificate_filter {\n    }\n  }\n}\n",
			want: []string{`cfg.alloy:3:5: http: "tls.windows_certificate_filter" is not supported`},
		},
		{
			name: "an Alloy component below the level says both",
			src:  "prometheus.exporter.static \"x\" {}\n",
			want: []string{`cfg.alloy:1:1: component "prometheus.exporter.static" is not yet implemented in shoal (see docs/migrating-from-alloy.md for the list and what to do meanwhile); in Alloy it is experimental and also needs --stability.level=experimental`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diagLines(t, tt.opts, tt.src)
			if len(got) != len(tt.want) {
				t.Fatalf("diagnostics:\n  %s\nwant prefixes:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("diagnostic %d = %q, want prefix %q", i, got[i], w)
				}
			}
		})
	}
}

// TestStabilityLevelRefusesComponents registers a component as experimental
// and checks it is refused at the default level, naming the flag, and
// accepted at --stability.level=experimental.
func TestStabilityLevelRefusesComponents(t *testing.T) {
	reg := component.Registration{
		Name:      "test.experimental",
		Args:      struct{}{},
		Stability: stability.Experimental,
		Build: func(component.Options, component.Arguments) (component.Component, error) {
			return &idle{}, nil
		},
	}
	community := component.Registration{Name: "test.community", Args: struct{}{}, Community: true,
		Build: func(component.Options, component.Arguments) (component.Component, error) { return &idle{}, nil }}
	registry := component.NewRegistry(reg, community)
	src := "test.experimental \"a\" {}\n\ntest.community \"b\" {}\n"

	got := diagLines(t, Options{Registry: registry}, src)
	want := []string{
		`cfg.alloy:1:1: component "test.experimental" is at stability level "experimental", below the minimum "generally-available"; run with --stability.level=experimental to use it`,
		`cfg.alloy:3:1: component "test.community" is a community component; run with --feature.community-components.enabled to use it`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("diagnostics:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if got := diagLines(t, Options{Registry: registry, StabilityLevel: stability.Experimental, CommunityComponents: true}, src); len(got) != 0 {
		t.Fatalf("refused at --stability.level=experimental with community components: %v", got)
	}
	if got := diagLines(t, Options{Registry: registry, StabilityLevel: stability.PublicPreview, CommunityComponents: true}, src); len(got) != 1 {
		t.Fatalf("at public-preview want the experimental component refused, got %v", got)
	}
}

// TestMigrationDocExampleSplits checks the example of splitting a config in
// docs/migrating-from-alloy.md: the whole config gives exactly the two
// errors the doc shows, and the metrics half is valid. The testdata copies
// are compared with the doc's code blocks so that the two cannot drift.
func TestMigrationDocExampleSplits(t *testing.T) {
	doc, err := os.ReadFile("../../docs/migrating-from-alloy.md")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile("testdata/split/config.alloy")
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := os.ReadFile("testdata/split/shoal.alloy")
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range [][]byte{whole, metrics} {
		if !strings.Contains(string(doc), "```alloy\n"+string(src)+"```") {
			t.Fatalf("the doc no longer shows testdata:\n%s", src)
		}
	}
	var got []string
	for _, d := range New(Options{Registry: all.Registry()}).Validate("config.alloy", whole) {
		got = append(got, d.Error())
	}
	if len(got) != 2 {
		t.Fatalf("whole config: %d errors, want 2:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, line := range got {
		if !strings.Contains(string(doc), line+"\n") {
			t.Errorf("the doc does not show the error %q", line)
		}
	}
	if diags := New(Options{Registry: all.Registry()}).Validate("shoal.alloy", metrics); len(diags) != 0 {
		t.Fatalf("the metrics half is not valid: %v", diags)
	}
}

// TestStabilityLevelRefusesFunctions: a standard-library function below
// --stability.level is refused once, where it is written, even in an
// argument whose value never needs it; the level that permits it accepts
// the same config.
func TestStabilityLevelRefusesFunctions(t *testing.T) {
	src := `local.file "x" {
  filename = coalesce("/etc/hostname", array.combine_maps([], [], ["a"]))
}
`
	got := diagLines(t, Options{}, src)
	want := `cfg.alloy:2:40: function "array.combine_maps" is at stability level "experimental", below the minimum "generally-available"; run with --stability.level=experimental to use it`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("diagnostics:\n  %s\nwant once:\n  %s", strings.Join(got, "\n  "), want)
	}
	if got := diagLines(t, Options{StabilityLevel: stability.Experimental}, src); len(got) != 0 {
		t.Fatalf("refused at --stability.level=experimental: %v", got)
	}
}
