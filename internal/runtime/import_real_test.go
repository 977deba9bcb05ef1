package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
)

// These tests run the import blocks through the real sources of
// internal/importsource: a module file on disk and a git repository the
// test creates, each changed while the runtime runs.

func writeModule(t *testing.T, path string, factor int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(fmt.Sprintf(stringModule, factor)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestImportFileFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "lib.alloy")
	writeModule(t, mod, 10)
	f := newFakes()
	rt := New(Options{Registry: f.registry(), DataPath: t.TempDir()})
	load(t, rt, fmt.Sprintf(`
import.file "lib" {
	filename       = %q
	detector       = "poll"
	poll_frequency = "100ms"
}
lib.scale "s" {
	in = 5
}
test.node "dst" {
	input = lib.scale.s.out
}
`, mod))
	started(t, rt)
	if got := output(t, rt, "test.node.dst"); got != 15 {
		t.Fatalf("dst = %d, want 15", got)
	}
	writeModule(t, mod, 20)
	eventually(t, "the changed file is picked up", func() bool { return output(t, rt, "test.node.dst") == 25 })
	if f.builds("lib.scale.s/test.node.n") != 1 {
		t.Errorf("the inner component was rebuilt %d times for a changed argument", f.builds("lib.scale.s/test.node.n"))
	}
	// A broken file keeps the last good module and marks the import.
	if err := os.WriteFile(mod, []byte(`declare "scale" {`), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the import turns unhealthy", func() bool {
		return health(rt, "import.file.lib").State == component.HealthUnhealthy
	})
	if got := output(t, rt, "test.node.dst"); got != 25 {
		t.Errorf("dst = %d with a broken module, want 25 from the last good one", got)
	}
}

func TestImportGitFollowsTheRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed")
		}
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	writeModule(t, filepath.Join(repo, "lib.alloy"), 10)
	git("add", ".")
	git("commit", "-q", "-m", "first")

	f := newFakes()
	rt := New(Options{Registry: f.registry(), DataPath: t.TempDir()})
	load(t, rt, fmt.Sprintf(`
import.git "lib" {
	repository     = %q
	revision       = "main"
	path           = "lib.alloy"
	pull_frequency = "200ms"
}
lib.scale "s" {
	in = 5
}
test.node "dst" {
	input = lib.scale.s.out
}
`, "file://"+repo))
	started(t, rt)
	if got := output(t, rt, "test.node.dst"); got != 15 {
		t.Fatalf("dst = %d, want 15", got)
	}
	writeModule(t, filepath.Join(repo, "lib.alloy"), 30)
	git("commit", "-q", "-am", "second")
	eventually(t, "the new commit is picked up", func() bool { return output(t, rt, "test.node.dst") == 35 })
}
