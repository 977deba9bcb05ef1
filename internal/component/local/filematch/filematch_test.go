package filematch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// paths returns the exported __path__ values, relative to dir.
func paths(t *testing.T, rec *discoverytest.Recorder, dir string) []string {
	ts, _ := rec.Targets()
	var out []string
	for _, tg := range ts {
		rel, err := filepath.Rel(dir, tg["__path__"])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, filepath.ToSlash(rel))
	}
	slices.Sort(out)
	return out
}

func start(t *testing.T, a Arguments) (*Component, *discoverytest.Recorder) {
	t.Helper()
	opts, rec, _ := discoverytest.Options(t, "local.file_match.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func TestDoublestarGlobsExcludesAndLabels(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"top.log", "a/one.log", "a/b/two.log", "a/b/three.txt", "a/b/noise.bad.log", "a/c/four.json", "a/c/five.yaml"} {
		touch(t, filepath.Join(dir, f))
	}
	if err := os.MkdirAll(filepath.Join(dir, "a", "dir.log"), 0o755); err != nil { // a directory: never a target
		t.Fatal(err)
	}
	a := DefaultArguments
	a.PathTargets = []discovery.Target{
		{"__path__": dir + "/**/*.log", "__path_exclude__": "**/*.bad.log", "job": "logs"},
		{"__path__": dir + "/a/{b,c}/*.{txt,json}", "service": "x"},
	}
	_, rec := start(t, a)
	want := []string{"a/b/three.txt", "a/b/two.log", "a/c/four.json", "a/one.log", "top.log"}
	if got := paths(t, rec, dir); !slices.Equal(got, want) {
		t.Fatalf("paths = %v, want %v", got, want)
	}
	ts, _ := rec.Targets()
	for _, tg := range ts {
		if !filepath.IsAbs(tg["__path__"]) {
			t.Errorf("%v: __path__ is not absolute", tg)
		}
		switch filepath.Ext(tg["__path__"]) {
		case ".log":
			if tg["job"] != "logs" || tg["__path_exclude__"] != "**/*.bad.log" {
				t.Errorf("%v: the path target's labels are not kept", tg)
			}
		default:
			if tg["service"] != "x" || tg["job"] != "" {
				t.Errorf("%v: wrong labels", tg)
			}
		}
	}
}

func TestSyncFollowsNewAndRemovedFiles(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "a.log"))
	a := DefaultArguments
	a.SyncPeriod = 20 * time.Millisecond
	a.PathTargets = []discovery.Target{{"__path__": filepath.Join(dir, "*.log")}}
	c, rec := start(t, a)
	discoverytest.Run(t, c)

	touch(t, filepath.Join(dir, "b.log"))
	discoverytest.Eventually(t, wait, func() bool { return slices.Equal(paths(t, rec, dir), []string{"a.log", "b.log"}) }, "a new file was missed: %v", paths(t, rec, dir))
	if err := os.Remove(filepath.Join(dir, "a.log")); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool { return slices.Equal(paths(t, rec, dir), []string{"b.log"}) }, "a removed file stayed: %v", paths(t, rec, dir))

	// Unchanged files are not published again.
	n := rec.Count()
	c.sync()
	c.sync()
	if rec.Count() != n {
		t.Fatalf("published %d more times with nothing changed", rec.Count()-n)
	}
}

func TestIgnoreOlderThan(t *testing.T) {
	dir := t.TempDir()
	touch(t, filepath.Join(dir, "new.log"))
	touch(t, filepath.Join(dir, "old.log"))
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "old.log"), old, old); err != nil {
		t.Fatal(err)
	}
	a := DefaultArguments
	a.PathTargets = []discovery.Target{{"__path__": filepath.Join(dir, "*.log")}}
	c, rec := start(t, a)
	if got := paths(t, rec, dir); !slices.Equal(got, []string{"new.log", "old.log"}) {
		t.Fatalf("with the default 0s nothing is ignored: %v", got)
	}
	a.IgnoreOlderThan = time.Hour
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	if got := paths(t, rec, dir); !slices.Equal(got, []string{"new.log"}) {
		t.Fatalf("paths with ignore_older_than=1h: %v, want new.log only", got)
	}
}

func TestNoMatchExportsAnEmptyList(t *testing.T) {
	a := DefaultArguments
	a.PathTargets = []discovery.Target{{"__path__": filepath.Join(t.TempDir(), "*.log")}, {"__path__": "[bad"}}
	_, rec := start(t, a)
	ts, ok := rec.Targets()
	if !ok || ts == nil || len(ts) != 0 {
		t.Fatalf("targets = %#v, want an empty list exported", ts)
	}
}

func TestArgumentsAndDecoding(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `local.file_match "logs" {
  path_targets      = [{"__path__" = "/var/log/**/*.log", "job" = "varlog"}]
  ignore_older_than = "1h"
}`, "local.file_match", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.PathTargets) != 1 || a.PathTargets[0]["job"] != "varlog" || a.SyncPeriod != 10*time.Second || a.IgnoreOlderThan != time.Hour {
		t.Fatalf("decoded %+v", a)
	}
	err := discoverytest.Decode(t, `local.file_match "x" {
  path_targets = []
  sync_period  = "0s"
}`, "local.file_match", nil, &a)
	if err == nil || !strings.Contains(err.Error(), "sync_period must be greater than 0") {
		t.Fatalf("a zero sync_period: %v", err)
	}
}

// TestRealConfigBlock decodes the local.file_match block of Grafana's
// alloy-scenarios linux config (testdata/linux-scenario.alloy) and expands
// its brace pattern in a directory laid out like /var/log.
func TestRealConfigBlock(t *testing.T) {
	src, err := os.ReadFile("testdata/linux-scenario.alloy")
	if err != nil {
		t.Fatal(err)
	}
	var a Arguments
	vars := map[string]any{"constants": map[string]any{"hostname": "node-1"}}
	if err := discoverytest.Decode(t, string(src), "local.file_match", vars, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.PathTargets) != 1 || a.PathTargets[0]["instance"] != "node-1" || a.PathTargets[0]["__path__"] != "/var/log/{syslog,messages,*.log}" {
		t.Fatalf("decoded %+v", a)
	}
	dir := t.TempDir()
	for _, f := range []string{"syslog", "messages", "dpkg.log", "auth.log.1", "journal/x.log"} {
		touch(t, filepath.Join(dir, f))
	}
	a.PathTargets[0]["__path__"] = strings.Replace(a.PathTargets[0]["__path__"], "/var/log", dir, 1)
	_, rec := start(t, a)
	if got := paths(t, rec, dir); !slices.Equal(got, []string{"dpkg.log", "messages", "syslog"}) {
		t.Fatalf("paths = %v", got)
	}
	ts, _ := rec.Targets()
	if ts[0]["job"] != "integrations/node_exporter" || ts[0]["__address__"] != "localhost" {
		t.Fatalf("labels lost: %v", ts[0])
	}
}
