package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes content beside path and renames it over path, as
// editors and Kubernetes do.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func content(rec *discoverytest.Recorder) string {
	e, _ := rec.Last().(Exports)
	return e.Content.Value
}

func start(t *testing.T, a Arguments) (*Component, *discoverytest.Recorder) {
	t.Helper()
	opts, rec, _ := discoverytest.Options(t, "local.file.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return c, rec
}

func args(path string) Arguments {
	a := DefaultArguments
	a.Filename = path
	return a
}

func TestContentIsExportedAtOnceAndSecretWhenAsked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "password")
	writeFile(t, path, "hunter2")
	a := args(path)
	a.IsSecret = true
	c, rec := start(t, a)
	e := rec.Last().(Exports)
	if e.Content.Value != "hunter2" || !e.Content.IsSecret {
		t.Fatalf("exports = %+v, want the content as a secret", e.Content)
	}
	if s := fmt.Sprint(e.Content); strings.Contains(s, "hunter2") {
		t.Fatalf("a secret content printed as %q", s)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}

	// Turning is_secret off re-exports the same content as plain text.
	a.IsSecret = false
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	if e := rec.Last().(Exports); e.Content.IsSecret || fmt.Sprint(e.Content) != "hunter2" {
		t.Fatalf("exports after is_secret=false: %+v", e.Content)
	}
}

func TestFSNotifyPicksUpWritesAndRenames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, "one")
	a := args(path)
	a.PollFrequency = time.Hour // only events can explain a change
	_, rec := start(t, a)

	writeFile(t, path, "two")
	discoverytest.Eventually(t, wait, func() bool { return content(rec) == "two" }, "an in-place write was missed: %q", content(rec))
	replaceFile(t, path, "three")
	discoverytest.Eventually(t, wait, func() bool { return content(rec) == "three" }, "a rename over the file was missed: %q", content(rec))
}

func TestPollDetectorPicksUpChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, "one")
	a := args(path)
	a.Detector = DetectorPoll
	a.PollFrequency = 20 * time.Millisecond
	_, rec := start(t, a)
	writeFile(t, path, "two")
	discoverytest.Eventually(t, wait, func() bool { return content(rec) == "two" }, "polling missed a change")
}

func TestUnreadableFileIsUnhealthyAndKeepsTheLastContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, "kept")
	a := args(path)
	a.PollFrequency = 20 * time.Millisecond
	c, rec := start(t, a)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, wait, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, path)
	}, "a removed file did not turn unhealthy: %+v", c.CurrentHealth())
	if got := content(rec); got != "kept" {
		t.Fatalf("content = %q, want the last content kept", got)
	}

	writeFile(t, path, "back")
	discoverytest.Eventually(t, wait, func() bool {
		return content(rec) == "back" && c.CurrentHealth().State == component.HealthHealthy
	}, "no recovery: %q %+v", content(rec), c.CurrentHealth())
}

func TestMissingFileFailsNewAndUpdate(t *testing.T) {
	dir := t.TempDir()
	opts, _, _ := discoverytest.Options(t, "local.file.test")
	if _, err := New(opts, args(filepath.Join(dir, "nope"))); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("New = %v, want an error naming the file", err)
	}

	path := filepath.Join(dir, "yes")
	writeFile(t, path, "x")
	c, rec := start(t, args(path))
	if err := c.Update(args(filepath.Join(dir, "nope"))); err == nil {
		t.Fatal("Update to a missing file succeeded")
	}
	other := filepath.Join(dir, "other")
	writeFile(t, other, "y")
	if err := c.Update(args(other)); err != nil {
		t.Fatal(err)
	}
	if got := content(rec); got != "y" {
		t.Fatalf("content after switching files = %q, want y", got)
	}
	// The watch follows the new file.
	writeFile(t, other, "z")
	discoverytest.Eventually(t, wait, func() bool { return content(rec) == "z" }, "the new file is not watched")
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no filename", func(a *Arguments) { a.Filename = "" }, "filename must be set"},
		{"unknown detector", func(a *Arguments) { a.Detector = "inotify" }, `unknown detector "inotify"`},
		{"zero poll frequency", func(a *Arguments) { a.PollFrequency = 0 }, "poll_frequency must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args("/x")
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}
