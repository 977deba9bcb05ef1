package importsource

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/local/file"
)

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	// Write then rename, as editors and config management do.
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

func TestFileSource(t *testing.T) {
	for _, det := range []file.Detector{file.DetectorFSNotify, file.DetectorPoll} {
		t.Run(string(det), func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "math.alloy")
			writeFile(t, name, "v1")
			a := FileArguments{Filename: name, Detector: det, PollFrequency: time.Hour}
			if det == file.DetectorPoll {
				a.PollFrequency = 50 * time.Millisecond
			}
			_, rec := start(t, "import.file", &a, testOptions(t))
			c := rec.waitFile(t, name, "v1")
			if c.ModulePath != dir || len(c.Files) != 1 {
				t.Fatalf("delivered %s, want only %s with module_path %s", describe(result{c: c}), name, dir)
			}
			// With fsnotify the poll (every hour) cannot be what sees this.
			writeFile(t, name, "v2")
			rec.waitFile(t, name, "v2")

			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			if err := rec.waitErr(t); !os.IsNotExist(err) {
				t.Fatalf("removed file: error %v, want not-exist", err)
			}
			// Back with the same content: delivered again, to clear the error.
			writeFile(t, name, "v2")
			rec.waitFile(t, name, "v2")
		})
	}
}

func TestFileSourceDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.alloy"), "a1")
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a module")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub", "deep.alloy"), "not read")
	if err := os.Mkdir(filepath.Join(dir, "dir.alloy"), 0o755); err != nil {
		t.Fatal(err)
	}

	_, rec := start(t, "import.file", &FileArguments{Filename: dir, Detector: file.DetectorFSNotify, PollFrequency: time.Hour}, testOptions(t))
	c := rec.waitFile(t, filepath.Join(dir, "a.alloy"), "a1")
	if len(c.Files) != 1 || c.ModulePath != dir {
		t.Fatalf("delivered %s, want a.alloy alone, module_path %s", describe(result{c: c}), dir)
	}

	b := filepath.Join(dir, "b.alloy")
	writeFile(t, b, "b1")
	c = rec.waitFile(t, b, "b1")
	if string(c.Files[filepath.Join(dir, "a.alloy")]) != "a1" || len(c.Files) != 2 {
		t.Fatalf("after adding b.alloy: %s", describe(result{c: c}))
	}
	writeFile(t, filepath.Join(dir, "a.alloy"), "a2")
	rec.waitFile(t, filepath.Join(dir, "a.alloy"), "a2")
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	rec.waitLast(t, func(g result) bool { _, ok := g.c.Files[b]; return g.err == nil && !ok }, "b.alloy gone")

	// A file outside the module is not news: of these three writes, only
	// the last is delivered.
	n := rec.contents()
	writeFile(t, filepath.Join(dir, "notes.txt"), "still not a module")
	writeFile(t, filepath.Join(dir, "sub", "deep.alloy"), "still not read")
	writeFile(t, filepath.Join(dir, "a.alloy"), "a3")
	rec.waitFile(t, filepath.Join(dir, "a.alloy"), "a3")
	if got := rec.contents(); got != n+1 {
		t.Fatalf("%d deliveries after changing two files outside the module and one inside, want %d", got-n, 1)
	}
}

func TestFileSourceUpdate(t *testing.T) {
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one.alloy"), filepath.Join(dir, "two.alloy")
	writeFile(t, one, "1")
	writeFile(t, two, "2")
	a := FileArguments{Filename: one, Detector: file.DetectorPoll, PollFrequency: time.Hour}
	src, rec := start(t, "import.file", &a, testOptions(t))
	rec.waitFile(t, one, "1")
	a.Filename = two
	if err := src.Update(a); err != nil {
		t.Fatal(err)
	}
	c := rec.waitFile(t, two, "2")
	if _, ok := c.Files[one]; ok {
		t.Fatal("the old file is still delivered")
	}
	bad := a
	bad.Detector = "inotify"
	if err := src.Update(bad); err == nil {
		t.Fatal("Update accepted an unknown detector")
	}
}
