package filematch

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
)

// FuzzExpand feeds arbitrary __path__ and __path_exclude__ patterns,
// rooted in a small directory tree, to the globbing: it must not panic,
// and every target must be a regular file under the tree that the
// exclude pattern does not match.
func FuzzExpand(f *testing.F) {
	for _, s := range [][2]string{
		{"**/*.log", "**/*.bad.log"}, {"*.{log,txt}", ""}, {"a/[b-c]/*", "a/c/**"},
		{"**", ""}, {"[", "["}, {"a/{b,", "\\"}, {"a/?/x.log", "{a,b}/**"},
	} {
		f.Add(s[0], s[1])
	}
	dir := f.TempDir()
	for _, p := range []string{"x.log", "y.txt", "a/b/x.log", "a/c/z.bad.log", "a/b/deep/w.log"} {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	opts := component.Options{ID: "local.file_match.fuzz", Logger: slog.New(slog.DiscardHandler)}
	f.Fuzz(func(t *testing.T, pattern, exclude string) {
		// Stay inside the tree: no parent references, no absolute paths.
		if strings.Contains(pattern, "..") || len(pattern) > 64 || len(exclude) > 64 {
			t.Skip()
		}
		a := Arguments{SyncPeriod: time.Second, PathTargets: []discovery.Target{
			{"__path__": dir + "/" + strings.TrimLeft(pattern, "/"), "__path_exclude__": exclude},
		}}
		for _, tg := range expand(a, time.Now(), opts) {
			p := tg["__path__"]
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("%q is not a regular file: %v", p, err)
			}
			if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
				t.Fatalf("%q is outside %s", p, dir)
			}
		}
	})
}
