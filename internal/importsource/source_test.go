package importsource

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/local/file"
)

func TestArgumentsDecode(t *testing.T) {
	fa := Arguments("import.file").(*FileArguments)
	if err := discoverytest.Decode(t, `import.file "m" {
  filename = "/etc/shoal/modules"
}`, "import.file", nil, fa); err != nil {
		t.Fatal(err)
	}
	if fa.Filename != "/etc/shoal/modules" || fa.Detector != file.DetectorFSNotify || fa.PollFrequency != time.Minute {
		t.Fatalf("import.file decoded %+v", fa)
	}

	sa := Arguments("import.string").(*StringArguments)
	if err := discoverytest.Decode(t, `import.string "m" {
  content = "declare \"x\" {}"
}`, "import.string", nil, sa); err != nil {
		t.Fatal(err)
	}
	if sa.Content.Value != `declare "x" {}` {
		t.Fatalf("import.string decoded %+v", sa)
	}

	ha := Arguments("import.http").(*HTTPArguments)
	if err := discoverytest.Decode(t, `import.http "m" {
  url     = "https://config.example/mod.alloy"
  headers = { "X-Token" = "t" }
  client {
    basic_auth {
      username = "u"
      password = "p"
    }
    tls_config {
      insecure_skip_verify = true
    }
  }
}`, "import.http", nil, ha); err != nil {
		t.Fatal(err)
	}
	if ha.URL != "https://config.example/mod.alloy" || ha.Method != http.MethodGet || ha.PollFrequency != time.Minute ||
		ha.PollTimeout != 10*time.Second || ha.Headers["X-Token"] != "t" || ha.Client.BasicAuth == nil ||
		ha.Client.BasicAuth.Username != "u" || !ha.Client.TLSConfig.InsecureSkipVerify || !ha.Client.FollowRedirects {
		t.Fatalf("import.http decoded %+v", ha)
	}

	ga := Arguments("import.git").(*GitArguments)
	if err := discoverytest.Decode(t, `import.git "m" {
  repository = "git@github.com:org/modules.git"
  path       = "modules"
  ssh_key {
    username = "git"
    key_file = "/etc/shoal/id_ed25519"
  }
}`, "import.git", nil, ga); err != nil {
		t.Fatal(err)
	}
	if ga.Revision != "main" || ga.PullFrequency != time.Minute || ga.Path != "modules" || ga.SSHKey == nil || ga.SSHKey.KeyFile != "/etc/shoal/id_ed25519" {
		t.Fatalf("import.git decoded %+v", ga)
	}

	if Arguments("import.s3") != nil {
		t.Fatal("an unknown kind has arguments")
	}
	if _, err := New("import.s3", nil, Options{}); err == nil {
		t.Fatal("an unknown kind was built")
	}
	if _, err := New("import.git", &FileArguments{}, Options{}); err == nil {
		t.Fatal("arguments of another kind were accepted")
	}
}

func TestArgumentsRefused(t *testing.T) {
	for _, c := range []struct{ kind, src, want string }{
		{"import.file", `filename = "/x"
  detector = "inotify"`, "unknown detector"},
		{"import.file", `filename = "/x"
  poll_frequency = "0s"`, "poll_frequency"},
		{"import.http", `url = "ftp://x/y"`, "scheme"},
		{"import.http", `url = "http://x/y"
  method = "GE T"`, "method"},
		{"import.http", `url = "http://x/y"
  poll_timeout = "0s"`, "poll_timeout"},
		{"import.git", `repository = "https://h/r.git"
  path = "m.alloy"
  revision = "HEAD"`, "special git reference"},
		{"import.git", `repository = "https://h/r.git"
  path = "../m.alloy"`, "inside the repository"},
		{"import.git", `repository = "https://h/r.git"
  path = "/m.alloy"`, "inside the repository"},
		{"import.git", `repository = "ext::sh -c touch% /tmp/pwned"
  path = "m.alloy"`, "remote helpers"},
		{"import.git", `repository = "--upload-pack=touch /tmp/pwned"
  path = "m.alloy"`, "invalid repository"},
		{"import.git", `repository = "https://h/r.git"
  path = "m.alloy"
  revision = "--output=/tmp/x"`, "invalid revision"},
		{"import.git", `repository = "git@h:r.git"
  path = "m.alloy"
  basic_auth {
    username = "u"
    password = "p"
  }`, "basic_auth is for http"},
		{"import.git", `repository = "https://h/r.git"
  path = "m.alloy"
  ssh_key {
    username = "git"
    key_file = "/k"
  }`, "ssh_key is for ssh"},
		{"import.git", `repository = "ssh://git@h/r.git"
  path = "m.alloy"
  ssh_key {
    username = "git"
  }`, "exactly one of key and key_file"},
		{"import.git", `repository = "https://h/r.git"
  path = "m.alloy"
  pull_frequency = "-1s"`, "pull_frequency"},
	} {
		args := Arguments(c.kind)
		err := discoverytest.Decode(t, c.kind+` "m" {
  `+c.src+`
}`, c.kind, nil, args)
		if err == nil {
			t.Errorf("%s {%s} was accepted", c.kind, c.src)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "example.alloy:1:1") {
			t.Errorf("%s {%s}: error %q, want one at example.alloy:1:1 mentioning %q", c.kind, c.src, err, c.want)
		}
	}
}

func TestGitTransport(t *testing.T) {
	for repo, want := range map[string]string{
		"https://github.com/grafana/alloy.git": "http",
		"HTTP://h/r":                           "http",
		"git@github.com:grafana/alloy.git":     "ssh",
		"github.com:grafana/alloy.git":         "ssh",
		"ssh://git@h:2222/r.git":               "ssh",
		"git://h/r.git":                        "git",
		"file:///srv/git/r.git":                "file",
		"/srv/git/r.git":                       "file",
		"./r":                                  "file",
		"dir/with:colon":                       "file",
	} {
		got, err := gitTransport(repo)
		if err != nil || got != want {
			t.Errorf("gitTransport(%q) = %q, %v; want %q", repo, got, err, want)
		}
	}
	for _, repo := range []string{"", "ext::sh -c id", "fd::3", "-u", "s3://b/r", "a\nb"} {
		if got, err := gitTransport(repo); err == nil {
			t.Errorf("gitTransport(%q) = %q, want an error", repo, got)
		}
	}
}

func TestStringSource(t *testing.T) {
	src, rec := start(t, "import.string", &StringArguments{}, testOptions(t))
	rec.waitFile(t, stringName, "")
	a := Arguments("import.string").(*StringArguments)
	a.Content.Value = `declare "a" {}`
	if err := src.Update(a); err != nil {
		t.Fatal(err)
	}
	c := rec.waitFile(t, stringName, `declare "a" {}`)
	if c.ModulePath != "" {
		t.Fatalf("import.string has module_path %q, want it inherited (empty)", c.ModulePath)
	}
	// The same content again is not news; a new one is.
	if err := src.Update(a); err != nil {
		t.Fatal(err)
	}
	a2 := *a
	a2.Content.Value = `declare "b" {}`
	if err := src.Update(a2); err != nil {
		t.Fatal(err)
	}
	rec.waitFile(t, stringName, `declare "b" {}`)
	if n := rec.contents(); n != 3 {
		t.Fatalf("%d deliveries, want 3 (empty, a, b): %v", n, rec.all())
	}
}
