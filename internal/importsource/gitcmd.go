package importsource

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// gitCmd runs the git program on the clone at dir, with the environment
// that carries the credentials.
type gitCmd struct {
	path string
	dir  string
	env  []string
}

// baseEnv never prompts, allows only the plain transports (not ext:: or
// fd::, which run commands), drops the variables that would point git at
// another repository (set by a hook, say), and asks for messages in
// English. The rest of the environment stays: GIT_SSH_COMMAND, proxies,
// GIT_CONFIG_GLOBAL. What auth adds comes later, and wins.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES", "GIT_NAMESPACE",
			"GIT_COMMON_DIR", "GIT_PREFIX":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_TERMINAL_PROMPT=0",
		"GCM_INTERACTIVE=never",
		"GIT_ALLOW_PROTOCOL=file:git:http:https:ssh",
		"LC_ALL=C",
	)
}

// credentialHelper answers git's credential requests from the environment,
// so that the password is in neither a command line nor a file, and only
// for the repository's own scheme, host and port (not for a host that a
// redirect leads to). The empty helper before it discards any configured
// elsewhere.
const credentialHelper = `!f() { test "$1" = get || exit 0; p=; h=; while IFS= read -r l; do case "$l" in protocol=*) p="${l#protocol=}" ;; host=*) h="${l#host=}" ;; esac; done; test "$p://$h" = "$SHOAL_GIT_ORIGIN" || exit 0; printf 'username=%s\npassword=%s\n' "$SHOAL_GIT_USERNAME" "$SHOAL_GIT_PASSWORD"; }; f`

// askpass gives ssh the key's passphrase from the environment.
const askpass = "#!/bin/sh\nprintf '%s\\n' \"$SHOAL_SSH_PASSPHRASE\"\n"

// sshProgram is the ssh client; tests replace it.
var sshProgram = "ssh"

// auth sets the environment for a's authentication, writing an inline SSH
// key and the askpass helper under sshDir. cleanup removes them.
func (g *gitCmd) auth(a GitArguments, sshDir string) (cleanup func(), err error) {
	// GIT_DIR, set, keeps git from ever looking above the clone: were the
	// clone damaged, git would otherwise find and then check out and
	// clean a repository that holds the data directory.
	g.env = append(baseEnv(), "GIT_DIR="+filepath.Join(g.dir, ".git"), "GIT_WORK_TREE="+g.dir)
	cleanup = func() {}
	if b := a.BasicAuth; b != nil {
		g.env = append(g.env,
			"GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=",
			"GIT_CONFIG_KEY_1=credential.helper", "GIT_CONFIG_VALUE_1="+credentialHelper,
			"SHOAL_GIT_ORIGIN="+gitOrigin(a.Repository),
			"SHOAL_GIT_USERNAME="+b.Username,
			"SHOAL_GIT_PASSWORD="+string(b.Password),
		)
	}
	k := a.SSHKey
	if k == nil {
		return cleanup, nil
	}
	keyFile := k.KeyFile
	if k.Key != "" || k.Passphrase != "" {
		if err := os.MkdirAll(sshDir, 0o700); err != nil {
			return cleanup, err
		}
		cleanup = func() { _ = os.RemoveAll(sshDir) }
	}
	if k.Key != "" {
		keyFile = filepath.Join(sshDir, "key")
		key := string(k.Key)
		if !strings.HasSuffix(key, "\n") {
			key += "\n" // ssh refuses a key without its final newline
		}
		// Removed first: WriteFile keeps the mode of a file left over by
		// a crash.
		_ = os.Remove(keyFile)
		if err := os.WriteFile(keyFile, []byte(key), 0o600); err != nil {
			cleanup()
			return func() {}, err
		}
	}
	ssh := []string{shellQuote(sshProgram),
		"-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
		"-i", shellQuote(keyFile), "-l", shellQuote(k.Username)}
	if k.Passphrase == "" {
		ssh = append(ssh, "-o", "BatchMode=yes")
	} else {
		ap := filepath.Join(sshDir, "askpass")
		if err := os.WriteFile(ap, []byte(askpass), 0o700); err != nil {
			cleanup()
			return func() {}, err
		}
		g.env = append(g.env, "SSH_ASKPASS="+ap, "SSH_ASKPASS_REQUIRE=force", "SHOAL_SSH_PASSPHRASE="+string(k.Passphrase))
	}
	g.env = append(g.env, "GIT_SSH_COMMAND="+strings.Join(ssh, " "), "GIT_SSH_VARIANT=ssh")
	return cleanup, nil
}

// shellQuote quotes s for sh, as GIT_SSH_COMMAND is run by the shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// run runs git with args in the clone and returns its output, trimmed. An
// error carries the end of what git wrote on stderr.
func (g *gitCmd) run(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.path, args...)
	cmd.Dir = g.dir
	cmd.Env = g.env
	// git runs helpers (git-remote-https, ssh): in a process group of
	// their own, they are killed with it, at once, when ctx ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("git %s: %w", args[0], ctx.Err())
		}
		msg := lastLines(stderr.String(), 3)
		if msg == "" {
			return "", fmt.Errorf("git %s: %w", args[0], err)
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// lastLines returns the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// prepare makes dir a repository whose origin is repo. A clone of another
// repository is reused: its remote-tracking branches and tags are pruned
// by the next fetch.
func (g *gitCmd) prepare(ctx context.Context, repo string) error {
	fi, err := os.Stat(filepath.Join(g.dir, ".git"))
	usable := err == nil && fi.IsDir()
	if usable {
		// A clone damaged (say, by a full disk) is started afresh rather
		// than failing every pull.
		if _, err := g.run(ctx, "rev-parse", "--git-dir"); err != nil && ctx.Err() == nil {
			usable = false
		}
	}
	if !usable {
		if err := os.RemoveAll(g.dir); err != nil {
			return err
		}
		if err := os.MkdirAll(g.dir, 0o755); err != nil {
			return err
		}
		if _, err := g.run(ctx, "-c", "init.defaultBranch=shoal-unused", "init", "--quiet"); err != nil {
			return err
		}
	}
	// A git killed at shutdown leaves its lock behind; nothing else uses
	// this clone.
	_ = os.Remove(filepath.Join(g.dir, ".git", "index.lock"))
	if cur, _ := g.run(ctx, "config", "--get", "remote.origin.url"); cur != repo {
		if _, err := g.run(ctx, "config", "remote.origin.url", repo); err != nil {
			return err
		}
		if _, err := g.run(ctx, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*"); err != nil {
			return err
		}
	}
	return nil
}

// fullSHA is a whole commit id (SHA-1 or SHA-256).
var fullSHA = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// resolve finds the commit of rev the way Alloy does: a tag, then a
// branch of origin, then any revision git understands (such as a commit
// id). A whole commit id that no branch or tag reaches is fetched by id.
func (g *gitCmd) resolve(ctx context.Context, rev string) (string, error) {
	for _, ref := range []string{"refs/tags/" + rev, "refs/remotes/origin/" + rev, rev} {
		if sha, err := g.run(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err == nil && sha != "" {
			return sha, nil
		}
	}
	if fullSHA.MatchString(rev) {
		if _, err := g.run(ctx, "fetch", "--quiet", "origin", rev); err == nil {
			if sha, err := g.run(ctx, "rev-parse", "--verify", "--quiet", rev+"^{commit}"); err == nil && sha != "" {
				return sha, nil
			}
		}
	}
	return "", fmt.Errorf("invalid revision %q: no such tag, branch or commit", rev)
}

// gitOrigin is scheme://host[:port] of an http(s) repository, as git's
// credential requests give it.
func gitOrigin(repo string) string {
	u, err := url.Parse(repo)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host
}

// redactURL hides a password written in a repository URL.
func redactURL(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return repo
	}
	return u.Redacted()
}
