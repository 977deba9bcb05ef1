package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

func write(t *testing.T, path, content string) {
	t.Helper()
	// Write then rename, so the watcher never sees a half-written file.
	// The temporary file is made outside the watched directory: its own
	// events would start scans that still read the old content, and a
	// burst that mixes old and new content can leave the health probe,
	// which reads scans and failures from file SD's metrics, counting the
	// last scan of the burst as the good one: a known limit, documented in
	// docs/operations.md, that this test is not about.
	tmp := filepath.Join(t.TempDir(), filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func addresses(ts []discovery.Target) string {
	var as []string
	for _, t := range ts {
		as = append(as, t["__address__"])
	}
	return strings.Join(as, ",")
}

func start(t *testing.T, args Arguments) (*discovery.Component, *discoverytest.Recorder) {
	t.Helper()
	opts, rec, _ := discoverytest.Options(t, "discovery.file.test")
	if err := args.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := New(opts, args)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return c, rec
}

func args(files ...string) Arguments {
	a := DefaultArguments
	a.Files = files
	return a
}

func TestJSONAndYAMLFilesMatchedByGlobsArePickedUpWhenTheyChange(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.json"), `[{"targets": ["10.0.0.2:9100", "10.0.0.1:9100"], "labels": {"env": "prod"}}]`)

	c, rec := start(t, args(filepath.Join(dir, "*.json"), filepath.Join(dir, "*.yaml")))
	discoverytest.Eventually(t, wait, c.Ready, "discovery never became ready")
	ts, _ := rec.Targets()
	if got := addresses(ts); got != "10.0.0.1:9100,10.0.0.2:9100" {
		t.Fatalf("targets after start = %s, want both JSON targets sorted", got)
	}
	if ts[0]["env"] != "prod" || ts[0]["__meta_filepath"] != filepath.Join(dir, "a.json") {
		t.Fatalf("group labels not merged into the target: %v", ts[0])
	}

	write(t, filepath.Join(dir, "b.yaml"), "- targets: ['10.0.0.3:9100']\n  labels:\n    env: dev\n")
	discoverytest.Eventually(t, wait, func() bool {
		ts, _ := rec.Targets()
		return addresses(ts) == "10.0.0.1:9100,10.0.0.2:9100,10.0.0.3:9100"
	}, "the YAML file's target never appeared")

	if err := os.Remove(filepath.Join(dir, "a.json")); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool {
		ts, _ := rec.Targets()
		return addresses(ts) == "10.0.0.3:9100"
	}, "the removed file's targets stayed")
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v, want healthy", h)
	}
}

func TestNoMatchingFileIsAnEmptyButCompleteRefresh(t *testing.T) {
	c, rec := start(t, args(filepath.Join(t.TempDir(), "*.json")))
	discoverytest.Eventually(t, wait, c.Ready, "discovery with no files never became ready")
	ts, ok := rec.Targets()
	if !ok || len(ts) != 0 {
		t.Fatalf("exports = %v (published %v), want an empty target list", ts, ok)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v, want healthy", h)
	}
}

func TestBrokenFileMakesItUnhealthyAndKeepsTheLastGoodTargets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	write(t, path, `[{"targets": ["good:1"]}]`)
	c, rec := start(t, args(path))
	discoverytest.Eventually(t, wait, c.Ready, "never ready")

	write(t, path, `[{"targets": ["oops:1"]`)
	discoverytest.Eventually(t, wait, func() bool {
		return c.CurrentHealth().State == component.HealthUnhealthy
	}, "a broken file did not make the component unhealthy")
	if msg := c.CurrentHealth().Message; !strings.Contains(msg, path) {
		t.Errorf("health message %q does not name the file", msg)
	}
	if ts, _ := rec.Targets(); addresses(ts) != "good:1" {
		t.Fatalf("targets = %s, want the last good ones kept", addresses(ts))
	}

	write(t, path, `[{"targets": ["fixed:1"]}]`)
	discoverytest.Eventually(t, wait, func() bool {
		ts, _ := rec.Targets()
		return addresses(ts) == "fixed:1" && c.CurrentHealth().State == component.HealthHealthy
	}, "fixing the file did not recover: %+v", c.CurrentHealth())
}

func TestUpdateWithOtherFilesSwitchesTargetsWithoutAnEmptyExport(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.json"), `[{"targets": ["a:1"]}]`)
	write(t, filepath.Join(dir, "b.json"), `[{"targets": ["b:1"]}]`)
	c, rec := start(t, args(filepath.Join(dir, "a.json")))
	discoverytest.Eventually(t, wait, c.Ready, "never ready")

	// The same arguments again change nothing.
	if err := c.Update(args(filepath.Join(dir, "a.json"))); err != nil {
		t.Fatal(err)
	}
	if err := c.Update(args(filepath.Join(dir, "b.json"))); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool {
		ts, _ := rec.Targets()
		return addresses(ts) == "b:1"
	}, "update to another file did not switch the targets")
	var seen []string
	for _, e := range rec.All() {
		seen = append(seen, addresses(e.(discovery.Exports).Targets))
	}
	if got := strings.Join(seen, " then "); got != "a:1 then b:1" {
		t.Errorf("exports published: %s, want a:1 then b:1", got)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		args Arguments
		want string
	}{
		{"no files", args(), "at least one path"},
		{"not json or yaml", args("/etc/targets.txt"), "not valid for file discovery"},
		{"star in a directory", args("/etc/*/t.json"), "not valid for file discovery"},
		{"zero interval", Arguments{Files: []string{"t.json"}}, "refresh_interval must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.args.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	valid := args("/etc/sd/*.yml")
	if err := valid.Validate(); err != nil {
		t.Fatalf("a valid glob was rejected: %v", err)
	}
}
