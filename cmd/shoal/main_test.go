package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestValidateReportsEveryRefusedComponent runs `shoal validate` on a config
// mixing metrics with loki, otelcol traces, pyroscope, faro and beyla
// components: one error per such component, each at file:line:col. Its
// OTLP-metrics blocks (otelcol.receiver.otlp, otelcol.exporter.prometheus)
// are shoal's and pass.
func TestValidateReportsEveryRefusedComponent(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"validate", "testdata/mixed.alloy"}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
	}
	re := regexp.MustCompile(`(?m)^testdata/mixed\.alloy:(\d+):(\d+): (.*)$`)
	var got []string
	for _, m := range re.FindAllStringSubmatch(stderr.String(), -1) {
		if strings.Contains(m[3], "-tags shoal_lean") {
			// The lean build also refuses the OTLP components it
			// leaves out (TestLeanBuildSaysWhatItLeftOut).
			if !strings.Contains(m[3], `"otelcol.receiver.otlp"`) && !strings.Contains(m[3], `"otelcol.exporter.prometheus"`) {
				t.Errorf("the lean build refuses %s", m[0])
			}
			continue
		}
		got = append(got, m[1]+":"+m[2]+" "+m[3])
	}
	want := []string{
		`13:1 component "loki.source.file" is out of scope`,
		`18:1 component "loki.write" is out of scope`,
		`36:1 component "otelcol.processor.tail_sampling" is out of scope`,
		`42:1 component "otelcol.exporter.otlp" is out of scope`,
		`48:1 component "pyroscope.scrape" is out of scope`,
		`53:1 component "faro.receiver" is out of scope`,
		`55:1 component "prometheus.exporter.snmp" is not yet implemented in shoal`,
		`57:1 unknown component "prometheus.scrpae"; did you mean "prometheus.scrape"?`,
		`59:1 component "beyla.ebpf" is out of scope`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), stderr.String())
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}

func TestValidateHonoursTheStabilityLevel(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"validate", "testdata/foreach.alloy"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "testdata/foreach.alloy:1:1: block \"foreach\" is at stability level \"experimental\"") ||
		!strings.Contains(stderr.String(), "--stability.level=experimental") {
		t.Fatalf("default level: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"validate", "testdata/foreach.alloy", "--stability.level=experimental"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "does not implement foreach yet") {
		t.Fatalf("experimental level: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"validate", "--stability.level=nope", "testdata/foreach.alloy"}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "invalid stability level") {
		t.Fatalf("bad level: exit %d\n%s", code, stderr.String())
	}
}

func TestRunRefusesDiscoverPeers(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", "testdata/mixed.alloy", "--cluster.discover-peers=provider=aws"}, &stdout, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), "--cluster.join-addresses") {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}
