package importsource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// GitArguments are import.git's arguments.
type GitArguments struct {
	Repository    string        `alloy:"repository,attr"`
	Revision      string        `alloy:"revision,attr,optional"`
	Path          string        `alloy:"path,attr"`
	PullFrequency time.Duration `alloy:"pull_frequency,attr,optional"`
	BasicAuth     *GitBasicAuth `alloy:"basic_auth,block,optional"`
	SSHKey        *GitSSHKey    `alloy:"ssh_key,block,optional"`
}

// GitBasicAuth is import.git's basic_auth block, for HTTP(S) repositories.
type GitBasicAuth struct {
	Username string       `alloy:"username,attr"`
	Password types.Secret `alloy:"password,attr"`
}

// GitSSHKey is import.git's ssh_key block, for SSH repositories: a key
// inline or in a file, and its passphrase if it has one.
type GitSSHKey struct {
	Username   string       `alloy:"username,attr"`
	Key        types.Secret `alloy:"key,attr,optional"`
	KeyFile    string       `alloy:"key_file,attr,optional"`
	Passphrase types.Secret `alloy:"passphrase,attr,optional"`
}

// DefaultGitArguments check out the branch main and pull every minute: the
// defaults of Alloy's code (its reference page says "HEAD", which its code
// refuses).
var DefaultGitArguments = GitArguments{
	Revision:      "main",
	PullFrequency: time.Minute,
}

// SetToDefault sets Alloy's defaults.
func (a *GitArguments) SetToDefault() { *a = DefaultGitArguments }

// Validate checks the revision, the path, and that the authentication
// given fits the repository's transport: nothing given is left unused.
func (a *GitArguments) Validate() error {
	switch a.Revision {
	case "HEAD", "FETCH_HEAD", "ORIG_HEAD", "MERGE_HEAD", "CHERRY_PICK_HEAD":
		return errors.New("revision cannot be a special git reference such as HEAD, FETCH_HEAD, ORIG_HEAD, MERGE_HEAD, or CHERRY_PICK_HEAD")
	case "":
		return errors.New("revision must not be empty")
	}
	if strings.HasPrefix(a.Revision, "-") || strings.ContainsAny(a.Revision, "\x00\n\r") {
		return fmt.Errorf("invalid revision %q", a.Revision)
	}
	if a.Path == "" || !filepath.IsLocal(filepath.FromSlash(a.Path)) {
		return fmt.Errorf("path %q must be a relative path inside the repository", a.Path)
	}
	if a.PullFrequency < 0 {
		return fmt.Errorf("pull_frequency must not be negative, got %s", a.PullFrequency)
	}
	tr, err := gitTransport(a.Repository)
	if err != nil {
		return err
	}
	if a.BasicAuth != nil && a.SSHKey != nil {
		return errors.New("at most one of basic_auth and ssh_key may be set")
	}
	if b := a.BasicAuth; b != nil {
		if tr != "http" {
			return fmt.Errorf("basic_auth is for http and https repositories, not %s", tr)
		}
		if strings.ContainsAny(b.Username, "\x00\n") || strings.ContainsAny(string(b.Password), "\x00\n") {
			return errors.New("basic_auth username and password must not contain a newline")
		}
	}
	if k := a.SSHKey; k != nil {
		if tr != "ssh" {
			return fmt.Errorf("ssh_key is for ssh repositories, not %s", tr)
		}
		if (k.Key == "") == (k.KeyFile == "") {
			return errors.New("ssh_key needs exactly one of key and key_file")
		}
		if strings.ContainsAny(k.Username, "\x00\n") || strings.ContainsAny(string(k.Passphrase), "\x00\n") {
			return errors.New("ssh_key username and passphrase must not contain a newline")
		}
	}
	return nil
}

// transportPrefix is git's <transport>::<address> syntax for remote
// helpers, such as ext::, which can run commands: refused.
var transportPrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*::`)

// scpLike is git's [user@]host:path form of an SSH address: a colon before
// any slash.
var scpLike = regexp.MustCompile(`^([^/@:]+@)?[^/:]+:`)

// gitTransport names the transport git would use for a repository
// address: "http" (http and https), "ssh", "git" or "file"; or says why
// the address is refused.
func gitTransport(repo string) (string, error) {
	switch {
	case repo == "":
		return "", errors.New("repository must be set")
	case strings.HasPrefix(repo, "-"), strings.ContainsAny(repo, "\x00\n\r"):
		return "", fmt.Errorf("invalid repository %q", repo)
	case transportPrefix.MatchString(repo):
		return "", fmt.Errorf("repository %q: remote helpers (<transport>::) are not supported", repo)
	}
	if scheme, _, ok := strings.Cut(repo, "://"); ok && !strings.ContainsAny(scheme, "/@:") {
		switch strings.ToLower(scheme) {
		case "http", "https":
			if u, err := url.Parse(repo); err != nil || u.Host == "" {
				return "", fmt.Errorf("invalid repository URL %q", repo)
			}
			return "http", nil
		case "ssh", "git+ssh", "ssh+git":
			return "ssh", nil
		case "git":
			return "git", nil
		case "file":
			return "file", nil
		}
		return "", fmt.Errorf("repository %q: unsupported scheme %q, expected https, http, ssh, git or file", repo, scheme)
	}
	if scpLike.MatchString(repo) {
		return "ssh", nil
	}
	return "file", nil
}

// gitTimeout bounds one git command, such as a fetch of a large
// repository over a slow link.
const gitTimeout = 5 * time.Minute

type gitSource struct {
	opts    Options
	gitPath string
	mu      sync.Mutex
	args    GitArguments
	changed chan struct{}
	// abort cancels the pull under way, so that an Update never waits for
	// a fetch of the old arguments (which may hang until gitTimeout).
	abort context.CancelFunc
}

func newGit(args any, opts Options) (Source, error) {
	a, err := checked[GitArguments]("import.git", args)
	if err != nil {
		return nil, err
	}
	if opts.DataPath == "" {
		return nil, errors.New("import.git: no data directory to clone into")
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("import.git needs the git program: %w", err)
	}
	return &gitSource{opts: opts, gitPath: gitPath, args: a, changed: make(chan struct{}, 1)}, nil
}

func (s *gitSource) Update(args any) error {
	a, err := checked[GitArguments]("import.git", args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := reflect.DeepEqual(a, s.args)
	s.args = a
	abort := s.abort
	s.mu.Unlock()
	if !same {
		signal(s.changed)
		if abort != nil {
			abort()
		}
	}
	return nil
}

// Run pulls now, then every pull_frequency (never again when it is 0), and
// at once after an Update.
func (s *gitSource) Run(ctx context.Context, update func(Content, error)) error {
	out := sink{update: update}
	for {
		pctx, abort := context.WithCancel(ctx)
		s.mu.Lock()
		a := s.args
		s.abort = abort
		s.mu.Unlock()
		c, err := s.pull(pctx, a)
		aborted := pctx.Err() != nil
		abort()
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case aborted:
			// An Update came: pull again at once with its arguments.
			select {
			case <-s.changed:
			default:
			}
			continue
		case err != nil:
			s.opts.Logger.Warn("cannot update module from git", "repository", redactURL(a.Repository), "err", err)
			out.fail(err)
		default:
			out.content(c)
		}
		var (
			t    *time.Timer
			tick <-chan time.Time
		)
		if a.PullFrequency > 0 {
			t = time.NewTimer(a.PullFrequency)
			tick = t.C
		}
		select {
		case <-ctx.Done():
		case <-s.changed:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// repoDir is the clone, and module_path.
func (s *gitSource) repoDir() string { return filepath.Join(s.opts.DataPath, "repo") }

// pull fetches the repository into the clone, checks out the revision and
// reads the module.
func (s *gitSource) pull(ctx context.Context, a GitArguments) (Content, error) {
	g := &gitCmd{path: s.gitPath, dir: s.repoDir()}
	cleanup, err := g.auth(a, filepath.Join(s.opts.DataPath, "ssh"))
	if err != nil {
		return Content{}, err
	}
	defer cleanup()
	if err := g.prepare(ctx, a.Repository); err != nil {
		return Content{}, err
	}
	if _, err := g.run(ctx, "fetch", "--quiet", "--force", "--prune", "--prune-tags", "--tags", "origin"); err != nil {
		return Content{}, fmt.Errorf("fetching %s: %w", redactURL(a.Repository), err)
	}
	sha, err := g.resolve(ctx, a.Revision)
	if err != nil {
		return Content{}, err
	}
	checkout := func() error {
		if _, err := g.run(ctx, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--force", "--detach", sha); err != nil {
			return fmt.Errorf("checking out %s: %w", a.Revision, err)
		}
		if _, err := g.run(ctx, "clean", "-ffdxq"); err != nil {
			return fmt.Errorf("cleaning the checkout: %w", err)
		}
		s.opts.Logger.Info("checked out module", "repository", redactURL(a.Repository), "revision", a.Revision, "commit", sha)
		return nil
	}
	head, _ := g.run(ctx, "rev-parse", "--verify", "--quiet", "HEAD")
	if head != sha {
		if err := checkout(); err != nil {
			return Content{}, err
		}
		return readRepoModule(g.dir, a.Path)
	}
	c, err := readRepoModule(g.dir, a.Path)
	if err != nil {
		// The work tree may have been changed behind git's back: check
		// out again before concluding that the module is missing.
		if err := checkout(); err != nil {
			return Content{}, err
		}
		return readRepoModule(g.dir, a.Path)
	}
	return c, nil
}

// readRepoModule reads path, a file or a directory of .alloy files, inside
// the clone at dir; symbolic links cannot lead out of it.
func readRepoModule(dir, path string) (Content, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Content{}, err
	}
	defer root.Close()
	rel := filepath.Clean(filepath.FromSlash(path))
	fi, err := root.Stat(rel)
	if err != nil {
		return Content{}, fmt.Errorf("path %q in the repository: %w", path, unwrapPath(err))
	}
	c := Content{Files: map[string][]byte{}, ModulePath: dir}
	if !fi.IsDir() {
		b, err := root.ReadFile(rel)
		if err != nil {
			return Content{}, fmt.Errorf("path %q in the repository: %w", path, unwrapPath(err))
		}
		c.Files[filepath.Join(dir, rel)] = b
		return c, nil
	}
	entries, err := fs.ReadDir(root.FS(), filepath.ToSlash(rel))
	if err != nil {
		return Content{}, fmt.Errorf("path %q in the repository: %w", path, unwrapPath(err))
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".alloy") {
			continue
		}
		p := filepath.Join(rel, e.Name())
		fi, err := root.Stat(p)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.IsDir()) {
			continue // a dangling link, or a directory named *.alloy
		}
		if err != nil {
			return Content{}, fmt.Errorf("%s in the repository: %w", filepath.ToSlash(p), unwrapPath(err))
		}
		b, err := root.ReadFile(p)
		if err != nil {
			return Content{}, fmt.Errorf("%s in the repository: %w", filepath.ToSlash(p), unwrapPath(err))
		}
		c.Files[filepath.Join(dir, p)] = b
	}
	return c, nil
}

// unwrapPath drops the *fs.PathError around err, whose path is the local
// clone's, not the one the user wrote.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
