package importsource

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream is a real git repository that the tests commit to.
type upstream struct {
	t   *testing.T
	dir string
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed")
		}
		t.Skip("git is not installed")
	}
}

func newUpstream(t *testing.T) *upstream {
	needGit(t)
	u := &upstream{t: t, dir: filepath.Join(t.TempDir(), "upstream")}
	if err := os.Mkdir(u.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	u.git("init", "--quiet", "--initial-branch=main")
	return u
}

func (u *upstream) git(args ...string) string {
	u.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = u.dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		u.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (an empty content removes the file) and commits
// them, returning the commit id.
func (u *upstream) commit(files map[string]string) string {
	u.t.Helper()
	for name, content := range files {
		p := filepath.Join(u.dir, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				u.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			u.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			u.t.Fatal(err)
		}
	}
	u.git("add", "--all")
	u.git("commit", "--quiet", "--message", "change")
	return u.git("rev-parse", "HEAD")
}

func gitArgs(repo, path string) *GitArguments {
	a := Arguments("import.git").(*GitArguments)
	a.Repository, a.Path = repo, path
	a.PullFrequency = 50 * time.Millisecond
	return a
}

func TestGitSourceFile(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"math.alloy": "v1", "README.md": "hello"})

	opts := testOptions(t)
	clone := filepath.Join(opts.DataPath, "repo")
	name := filepath.Join(clone, "math.alloy")
	_, rec := start(t, "import.git", gitArgs("file://"+u.dir, "math.alloy"), opts)
	c := rec.waitFile(t, name, "v1")
	if c.ModulePath != clone || len(c.Files) != 1 {
		t.Fatalf("delivered %s, want math.alloy alone with module_path %s", describe(result{c: c}), clone)
	}
	// The clone is a real checkout: a module's import.file of a sibling
	// through module_path finds it there.
	if b, err := os.ReadFile(filepath.Join(clone, "README.md")); err != nil || string(b) != "hello" {
		t.Fatalf("README.md in the clone: %q, %v", b, err)
	}

	// A new commit is picked up on the next pull, into the same clone.
	marker := filepath.Join(clone, ".git", "shoal-test-marker")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	u.commit(map[string]string{"math.alloy": "v2"})
	rec.waitFile(t, name, "v2")
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the clone was made again instead of fetched into: %v", err)
	}

	// A work tree changed behind git's back is checked out again at the
	// next pull, with no error and nothing new delivered.
	n := len(rec.all())
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { b, err := os.ReadFile(name); return err == nil && string(b) == "v2" }, "math.alloy checked out again")
	if got := rec.all()[n:]; len(got) != 0 {
		t.Fatalf("updates after the work tree was damaged: %v", got)
	}

	// Removing the module is an error; putting it back recovers.
	u.commit(map[string]string{"math.alloy": ""})
	if err := rec.waitErr(t); !strings.Contains(err.Error(), `"math.alloy"`) || strings.Contains(err.Error(), opts.DataPath) {
		t.Fatalf("error %v, want one naming math.alloy and not the clone's path", err)
	}
	u.commit(map[string]string{"math.alloy": "v3"})
	rec.waitFile(t, name, "v3")
}

func TestGitSourceDirectory(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{
		"modules/a.alloy":       "a1",
		"modules/b.alloy":       "b1",
		"modules/notes.md":      "not a module",
		"modules/deep/c.alloy":  "not read",
		"other/elsewhere.alloy": "not read",
	})
	opts := testOptions(t)
	dir := filepath.Join(opts.DataPath, "repo", "modules")
	_, rec := start(t, "import.git", gitArgs(u.dir, "modules"), opts)
	c := rec.waitFile(t, filepath.Join(dir, "a.alloy"), "a1")
	if len(c.Files) != 2 || string(c.Files[filepath.Join(dir, "b.alloy")]) != "b1" {
		t.Fatalf("delivered %s, want a.alloy and b.alloy", describe(result{c: c}))
	}
	u.commit(map[string]string{"modules/b.alloy": "", "modules/n.alloy": "n1"})
	c = rec.waitFile(t, filepath.Join(dir, "n.alloy"), "n1")
	if len(c.Files) != 2 {
		t.Fatalf("after removing b.alloy and adding n.alloy: %s", describe(result{c: c}))
	}

	// The repository root.
	u2 := newUpstream(t)
	u2.commit(map[string]string{"root.alloy": "r", "x/y.alloy": "not read"})
	opts2 := testOptions(t)
	_, rec2 := start(t, "import.git", gitArgs(u2.dir, "."), opts2)
	c = rec2.waitFile(t, filepath.Join(opts2.DataPath, "repo", "root.alloy"), "r")
	if len(c.Files) != 1 {
		t.Fatalf("path \".\": %s", describe(result{c: c}))
	}
}

func TestGitSourceRevisions(t *testing.T) {
	u := newUpstream(t)
	first := u.commit(map[string]string{"m.alloy": "first"})
	u.git("tag", "v1")
	u.git("tag", "--annotate", "--message", "annotated", "v1-annotated")
	u.git("branch", "stable")
	u.commit(map[string]string{"m.alloy": "second"})

	opts := testOptions(t)
	name := filepath.Join(opts.DataPath, "repo", "m.alloy")
	a := gitArgs(u.dir, "m.alloy")
	a.PullFrequency = time.Hour // only Update makes it pull again
	src, rec := start(t, "import.git", a, opts)
	rec.waitFile(t, name, "second")

	for _, rev := range []string{"v1", "main", "v1-annotated", "main", "stable", "main", first, "main", first[:12]} {
		b := *a
		b.Revision = rev
		if err := src.Update(&b); err != nil {
			t.Fatal(err)
		}
		want := "first"
		if rev == "main" {
			want = "second"
		}
		rec.waitFile(t, name, want)
	}

	b := *a
	b.Revision = "no-such-branch"
	if err := src.Update(&b); err != nil {
		t.Fatal(err)
	}
	if err := rec.waitErr(t); !strings.Contains(err.Error(), "no-such-branch") {
		t.Fatalf("error %v, want one naming the revision", err)
	}
	// A tag moved upstream is followed.
	u.git("tag", "--force", "v1", "main")
	b.Revision = "v1"
	if err := src.Update(&b); err != nil {
		t.Fatal(err)
	}
	rec.waitFile(t, name, "second")
}

func TestGitSourceSymlinkCannotEscape(t *testing.T) {
	u := newUpstream(t)
	secret := filepath.Join(t.TempDir(), "secret.alloy")
	if err := os.WriteFile(secret, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(u.dir, "evil.alloy")); err != nil {
		t.Fatal(err)
	}
	u.commit(map[string]string{"ok.alloy": "inside"})
	_, rec := start(t, "import.git", gitArgs(u.dir, "evil.alloy"), testOptions(t))
	if err := rec.waitErr(t); !strings.Contains(err.Error(), "escapes") {
		t.Fatalf("error %v, want the link refused", err)
	}
	// Nor in a directory module.
	_, rec2 := start(t, "import.git", gitArgs(u.dir, "."), testOptions(t))
	if err := rec2.waitErr(t); !strings.Contains(err.Error(), "evil.alloy") {
		t.Fatalf("directory module: error %v, want evil.alloy refused", err)
	}
	for _, g := range append(rec.all(), rec2.all()...) {
		for _, b := range g.c.Files {
			if string(b) == "outside" {
				t.Fatal("a symbolic link in the repository read a file outside the clone")
			}
		}
	}
}

func TestGitSourceChangeRepository(t *testing.T) {
	u1, u2 := newUpstream(t), newUpstream(t)
	u1.commit(map[string]string{"m.alloy": "from one"})
	u2.commit(map[string]string{"m.alloy": "from two"})
	opts := testOptions(t)
	name := filepath.Join(opts.DataPath, "repo", "m.alloy")
	a := gitArgs(u1.dir, "m.alloy")
	src, rec := start(t, "import.git", a, opts)
	rec.waitFile(t, name, "from one")
	b := *a
	b.Repository = "file://" + u2.dir
	if err := src.Update(&b); err != nil {
		t.Fatal(err)
	}
	rec.waitFile(t, name, "from two")
}

// smartHTTP serves the repositories under root with git http-backend, the
// CGI program behind git's smart HTTP, behind basic authentication.
func smartHTTP(t *testing.T, root, user, password string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(smartHTTPHandler(t, root, user, password))
	t.Cleanup(srv.Close)
	return srv
}

func smartHTTPHandler(t *testing.T, root, user, password string) http.Handler {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
}

func TestGitSourceSmartHTTP(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"math.alloy": "v1"})
	srv := smartHTTP(t, filepath.Dir(u.dir), "shoal", "s3cret")
	repo := srv.URL + "/upstream/.git"

	// Without credentials: refused, and no prompt hangs.
	_, rec := start(t, "import.git", gitArgs(repo, "math.alloy"), testOptions(t))
	if err := rec.waitErr(t); !strings.Contains(err.Error(), "fetching") {
		t.Fatalf("error %v, want a failed fetch", err)
	}

	a := gitArgs(repo, "math.alloy")
	a.BasicAuth = &GitBasicAuth{Username: "shoal", Password: "s3cret"}
	opts := testOptions(t)
	name := filepath.Join(opts.DataPath, "repo", "math.alloy")
	_, rec = start(t, "import.git", a, opts)
	rec.waitFile(t, name, "v1")
	u.commit(map[string]string{"math.alloy": "v2"})
	rec.waitFile(t, name, "v2")

	// The password is kept in no file of the clone.
	err := filepath.Walk(opts.DataPath, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), "s3cret") {
			t.Errorf("%s holds the password", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGitSourceSSHKey checks what import.git hands ssh: the key, the user
// and the passphrase through askpass. The ssh program is a stand-in that
// runs the remote command locally, as sshd would on the server.
func TestGitSourceSSHKey(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"m.alloy": "over ssh"})
	out := t.TempDir()
	fake := filepath.Join(out, "fake-ssh")
	script := `#!/bin/sh
printf '%s\n' "$@" > "$FAKE_SSH_OUT/args"
key=
while [ $# -gt 1 ]; do
  case "$1" in
    -i) key="$2"; shift 2 ;;
    -o|-l|-p) shift 2 ;;
    *) shift ;;
  esac
done
cat "$key" > "$FAKE_SSH_OUT/key"
if [ -n "$SSH_ASKPASS" ]; then "$SSH_ASKPASS" > "$FAKE_SSH_OUT/passphrase"; fi
exec sh -c "$1"
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	old := sshProgram
	sshProgram = fake
	t.Cleanup(func() { sshProgram = old })
	t.Setenv("FAKE_SSH_OUT", out)

	a := gitArgs("ssh://git@localhost"+u.dir, "m.alloy")
	a.PullFrequency = time.Hour
	a.SSHKey = &GitSSHKey{Username: "deploy", Key: "-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n-----END OPENSSH PRIVATE KEY-----", Passphrase: "open sesame"}
	opts := testOptions(t)
	_, rec := start(t, "import.git", a, opts)
	rec.waitFile(t, filepath.Join(opts.DataPath, "repo", "m.alloy"), "over ssh")

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("key"); got != string(a.SSHKey.Key)+"\n" {
		t.Fatalf("ssh was given the key %q", got)
	}
	if got := read("passphrase"); got != "open sesame\n" {
		t.Fatalf("askpass gave %q", got)
	}
	if args := read("args"); !strings.Contains(args, "-l\ndeploy\n") || !strings.Contains(args, "IdentitiesOnly=yes") {
		t.Fatalf("ssh arguments:\n%s", args)
	}
	// The inline key is not left on disk between pulls.
	if _, err := os.Stat(filepath.Join(opts.DataPath, "ssh")); !os.IsNotExist(err) {
		t.Fatalf("the key's directory is still there: %v", err)
	}
}

// TestGitSourceUpdateAbortsAHungPull points import.git at a server that
// never answers, then corrects the repository: the new one is read without
// waiting for the hung fetch to time out (minutes).
func TestGitSourceUpdateAbortsAHungPull(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"m.alloy": "good"})
	hung := make(chan struct{})
	asked := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hung)

	opts := testOptions(t)
	a := gitArgs(srv.URL+"/r.git", "m.alloy")
	src, rec := start(t, "import.git", a, opts)
	select {
	case <-asked:
	case <-time.After(20 * time.Second):
		t.Fatal("git never asked the hung server")
	}
	b := *a
	b.Repository = u.dir
	if err := src.Update(&b); err != nil {
		t.Fatal(err)
	}
	rec.waitFile(t, filepath.Join(opts.DataPath, "repo", "m.alloy"), "good")
	for _, g := range rec.all() {
		if g.err != nil {
			t.Fatalf("the aborted pull was reported: %v", g.err)
		}
	}
}

// TestGitSourceRepairsClone damages the clone between two runs: the next
// run starts it afresh instead of failing every pull.
func TestGitSourceRepairsClone(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"m.alloy": "one"})
	opts := testOptions(t)
	name := filepath.Join(opts.DataPath, "repo", "m.alloy")
	src, err := New("import.git", gitArgs(u.dir, "m.alloy"), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, rec.update) }()
	rec.waitFile(t, name, "one")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	if err := os.WriteFile(filepath.Join(opts.DataPath, "repo", ".git", "HEAD"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.commit(map[string]string{"m.alloy": "two"})
	_, rec = start(t, "import.git", gitArgs(u.dir, "m.alloy"), opts)
	rec.waitFile(t, name, "two")
}

// TestGitSourceNeverTouchesAnEnclosingRepository puts the data directory
// inside a git work tree, with an untracked file and a damaged clone: git
// must not fall back on the enclosing repository (whose clean would
// delete the file).
func TestGitSourceNeverTouchesAnEnclosingRepository(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"m.alloy": "module"})
	outer := newUpstream(t)
	outer.commit(map[string]string{"tracked.txt": "tracked"})
	head := outer.git("rev-parse", "HEAD")
	untracked := filepath.Join(outer.dir, "untracked.txt")
	if err := os.WriteFile(untracked, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.DataPath = filepath.Join(outer.dir, "data")
	// A clone whose .git is there but is no repository.
	if err := os.MkdirAll(filepath.Join(opts.DataPath, "repo", ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, rec := start(t, "import.git", gitArgs(u.dir, "m.alloy"), opts)
	rec.waitFile(t, filepath.Join(opts.DataPath, "repo", "m.alloy"), "module")
	if b, err := os.ReadFile(untracked); err != nil || string(b) != "precious" {
		t.Fatalf("the enclosing repository's untracked file: %q, %v", b, err)
	}
	if got := outer.git("rev-parse", "HEAD"); got != head {
		t.Fatalf("the enclosing repository moved from %s to %s", head, got)
	}
}

// BenchmarkGitPullUnchanged measures one pull of a repository that did not
// change (fetch, resolve, read): the cost paid every pull_frequency.
func BenchmarkGitPullUnchanged(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git is not installed")
	}
	dir := b.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@x", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@x")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "--quiet", "--initial-branch=main")
	if err := os.WriteFile(filepath.Join(dir, "m.alloy"), []byte("declare \"a\" {}"), 0o644); err != nil {
		b.Fatal(err)
	}
	run("add", "--all")
	run("commit", "--quiet", "--message", "m")
	src, err := New("import.git", gitArgs(dir, "m.alloy"), Options{DataPath: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	g := src.(*gitSource)
	a := *gitArgs(dir, "m.alloy")
	if _, err := g.pull(context.Background(), a); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := g.pull(context.Background(), a); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGitSourceCredentialsStayWithTheHost serves the repository from a
// second server that the first redirects to: git follows, and the second
// asks for credentials, but those given for the first are not sent to it.
func TestGitSourceCredentialsStayWithTheHost(t *testing.T) {
	u := newUpstream(t)
	u.commit(map[string]string{"m.alloy": "m"})
	backend := smartHTTPHandler(t, filepath.Dir(u.dir), "shoal", "s3cret")
	var (
		mu   sync.Mutex
		seen []string
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		backend.ServeHTTP(w, r)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer redirector.Close()

	a := gitArgs(redirector.URL+"/upstream/.git", "m.alloy")
	a.BasicAuth = &GitBasicAuth{Username: "shoal", Password: "s3cret"}
	_, rec := start(t, "import.git", a, testOptions(t))
	if g := rec.waitLast(t, func(result) bool { return true }, "a pull"); g.err == nil {
		t.Fatal("the pull succeeded: the credentials reached the other host")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("git did not follow the redirect: the test proves nothing")
	}
	for _, h := range seen {
		if h != "" {
			t.Fatalf("the credentials reached another host: %q", h)
		}
	}
}
