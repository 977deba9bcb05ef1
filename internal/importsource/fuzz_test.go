package importsource

import (
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// FuzzGitTransport classifies arbitrary repository addresses. An accepted
// address never reaches git as an option or a remote helper, and one
// classed http parses as an http(s) URL.
func FuzzGitTransport(f *testing.F) {
	for _, s := range []string{
		"https://github.com/grafana/alloy.git", "git@github.com:grafana/alloy.git", "ssh://git@h:22/r",
		"file:///srv/r.git", "/srv/r.git", "ext::sh -c id", "fd::3", "-uhack", "git://h/r", "a:b/c", "x/y:z",
		"HtTpS://u:p@h/r", "s3://b/k", "git+ssh://h/r", "::", "a@b@c:d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, repo string) {
		tr, err := gitTransport(repo)
		if err != nil {
			if tr != "" {
				t.Fatalf("gitTransport(%q) = %q with error %v", repo, tr, err)
			}
			return
		}
		if strings.HasPrefix(repo, "-") || transportPrefix.MatchString(repo) || strings.ContainsAny(repo, "\x00\n\r") {
			t.Fatalf("gitTransport accepted %q as %s", repo, tr)
		}
		switch tr {
		case "http":
			u, err := url.Parse(repo)
			if err != nil || (strings.ToLower(u.Scheme) != "http" && strings.ToLower(u.Scheme) != "https") {
				t.Fatalf("gitTransport(%q) = http, but url.Parse gives %v, %v", repo, u, err)
			}
		case "ssh", "git", "file":
		default:
			t.Fatalf("gitTransport(%q) = unknown transport %q", repo, tr)
		}
	})
}

// FuzzDecodeArguments decodes an arbitrary body into each kind's
// arguments, as the runtime does, and builds the source from what decodes:
// never a panic, and arguments that validate build a source (git aside,
// which needs the git program).
func FuzzDecodeArguments(f *testing.F) {
	for _, s := range []struct {
		kind uint8
		body string
	}{
		{0, `filename = "/etc/m.alloy"`},
		{0, `filename = "/etc/m"
detector = "poll"
poll_frequency = "5s"`},
		{1, `content = "declare \"a\" {}"`},
		{2, `url = "http://127.0.0.1:1/m.alloy"
method = "POST"
headers = {"A" = "b"}
client {
  bearer_token = "t"
  tls_config { insecure_skip_verify = true }
}`},
		{2, `url = "http://h/m"
poll_timeout = "0s"`},
		{3, `repository = "https://h/r.git"
path = "m"
revision = "v1.2.3"
basic_auth {
  username = "u"
  password = "p"
}`},
		{3, `repository = "git@h:r.git"
path = "."
pull_frequency = "0s"
ssh_key {
  username = "git"
  key = "k"
  passphrase = "p"
}`},
		{3, `repository = "ext::sh"
path = "../x"`},
	} {
		f.Add(s.kind, s.body)
	}
	_, gitErr := exec.LookPath("git")
	f.Fuzz(func(t *testing.T, k uint8, body string) {
		kind := Kinds[int(k)%len(Kinds)]
		file, err := parser.ParseFile("fuzz.alloy", []byte(kind+" \"m\" {\n"+body+"\n}\n"))
		if err != nil || len(file.Body) != 1 {
			return
		}
		b, ok := file.Body[0].(*ast.BlockStmt)
		if !ok {
			return
		}
		args := Arguments(kind)
		if err := vm.New(b).Evaluate(&vm.Scope{}, args); err != nil {
			return
		}
		if a, ok := args.(*GitArguments); ok {
			if _, err := gitTransport(a.Repository); err != nil {
				t.Fatalf("import.git accepted repository %q: %v", a.Repository, err)
			}
			if !filepath.IsLocal(filepath.FromSlash(a.Path)) {
				t.Fatalf("import.git accepted path %q", a.Path)
			}
			if gitErr != nil {
				return
			}
		}
		src, err := New(kind, args, Options{DataPath: t.TempDir()})
		if err != nil {
			if kind == "import.http" {
				return // the client may need files that the checks do not open
			}
			t.Fatalf("%s validated but New failed: %v\n%s", kind, err, body)
		}
		if err := src.Update(args); err != nil {
			t.Fatalf("%s: Update with the arguments New took: %v", kind, err)
		}
	})
}
