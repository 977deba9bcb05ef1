package process

import (
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// TestFindsARealProcess starts a process in a directory of its own and
// finds it in /proc with its executable, directory, command line and
// owner.
func TestFindsARealProcess(t *testing.T) {
	dir := t.TempDir()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	cmd := exec.Command(sleep, "300")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := strconv.Itoa(cmd.Process.Pid)

	src := `
discovery.process "all" {
  refresh_interval = "100ms"
  discover_config {
    username = true
    uid      = true
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.process", nil, &a); err != nil {
		t.Fatal(err)
	}
	c, rec := discoverytest.Start(t, "discovery.process.all", -1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	var got discovery.Target
	discoverytest.Eventually(t, 15*time.Second, func() bool {
		ts, _ := rec.Targets()
		for _, tg := range ts {
			if tg["__process_pid__"] == pid {
				got = tg
				return true
			}
		}
		return false
	}, "pid %s never found; last %v", pid, rec.Last())
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health %+v", h)
	}
	exe, _ := filepath.EvalSymlinks(sleep)
	me, _ := user.Current()
	discoverytest.ExpectLabels(t, "sleep", got, map[string]string{
		"__meta_process_exe":         exe,
		"__meta_process_cwd":         dir,
		"__meta_process_commandline": sleep + " 300",
		"__meta_process_uid":         me.Uid,
		"__meta_process_username":    me.Username,
	})
	if _, ok := got["__meta_process_cgroup_path"]; ok {
		t.Errorf("cgroup_path is off by default but was read: %v", got)
	}

	// It goes away with the process.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	discoverytest.Eventually(t, 15*time.Second, func() bool {
		ts, _ := rec.Targets()
		for _, tg := range ts {
			if tg["__process_pid__"] == pid {
				return false
			}
		}
		return true
	}, "pid %s stayed after it ended", pid)
}

const containerID = "9f7c3f0e2b1a4d5c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"

// fakeProc writes a /proc with one containerised process and one plain
// one, in the layout Linux gives them.
func fakeProc(t *testing.T) string {
	root := t.TempDir()
	write := func(pid, name, content string) {
		p := filepath.Join(root, pid, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(pid, name, target string) {
		if err := os.Symlink(target, filepath.Join(root, pid, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("4242", "cmdline", "/usr/bin/redis-server\x00*:6379\x00")
	write("4242", "status", "Name:\tredis-server\nUid:\t999\t999\t999\t999\n")
	write("4242", "cgroup", "0::/system.slice/docker-"+containerID+".scope\n")
	link("4242", "exe", "/usr/bin/redis-server")
	link("4242", "cwd", "/data")
	write("77", "cmdline", "/sbin/init\x00")
	write("77", "status", "Name:\tinit\nUid:\t0\t0\t0\t0\n")
	write("77", "cgroup", "12:cpu,cpuacct:/init.scope\n11:memory:/init.scope\n")
	link("77", "exe", "/sbin/init")
	link("77", "cwd", "/")
	write("self", "cmdline", "not a pid")
	return root
}

// TestJoinWithContainers reads a fake /proc and joins its containerised
// process with discovery.docker's and discovery.kubernetes' targets.
func TestJoinWithContainers(t *testing.T) {
	a := DefaultArguments
	a.DiscoverConfig.CgroupPath, a.DiscoverConfig.UID = true, true
	a.Join = []discovery.Target{
		{"__address__": "127.0.0.1:6379", "__meta_docker_container_id": containerID, "__meta_docker_container_name": "/redis"},
		{"__address__": "127.0.0.1:9100", "__meta_kubernetes_pod_container_id": "containerd://" + strings.Repeat("a", 64)},
		{"__address__": "127.0.0.1:80"},
	}
	cfg, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.ProcRoot = fakeProc(t)
	procs, err := cfg.scan(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 2 {
		t.Fatalf("scanned %v, want pids 77 and 4242", procs)
	}
	out := join(procs, cfg.Join)
	var merged, plain, k8s, noID int
	for _, tg := range out {
		switch {
		case tg["__process_pid__"] == "4242":
			merged++
			discoverytest.ExpectLabels(t, "merged", tg, map[string]string{
				"__container_id__":             containerID,
				"__meta_docker_container_name": "/redis",
				"__address__":                  "127.0.0.1:6379",
				"__meta_process_exe":           "/usr/bin/redis-server",
				"__meta_process_cwd":           "/data",
				"__meta_process_commandline":   "/usr/bin/redis-server *:6379",
				"__meta_process_uid":           "999",
				"__meta_process_cgroup_path":   "0::/system.slice/docker-" + containerID + ".scope",
			})
		case tg["__process_pid__"] == "77":
			plain++
			discoverytest.ExpectLabels(t, "init", tg, map[string]string{
				"__meta_process_cgroup_path": "12:cpu,cpuacct:/init.scope|11:memory:/init.scope",
			})
			if _, ok := tg["__container_id__"]; ok {
				t.Errorf("init got a container ID: %v", tg)
			}
		case tg["__address__"] == "127.0.0.1:9100":
			k8s++
		case tg["__address__"] == "127.0.0.1:80":
			noID++
		}
	}
	// Alloy keeps every join target with a container ID besides the merge.
	if merged != 1 || plain != 1 || k8s != 1 || noID != 1 || len(out) != 5 {
		t.Fatalf("joined %d targets (merged %d, plain %d, k8s %d, no id %d): %v", len(out), merged, plain, k8s, noID, out)
	}
}

func TestContainerIDFromCgroup(t *testing.T) {
	for in, want := range map[string]string{
		"0::/system.slice/docker-" + containerID + ".scope\n":                                  containerID,
		"11:memory:/docker/" + containerID + "\n":                                              containerID,
		"0::/kubepods.slice/kubepods-burstable.slice/cri-containerd-" + containerID + ".scope": containerID,
		"0::/user.slice/user-1000.slice/session-2.scope\n":                                     "",
		"": "",
	} {
		if got := containerIDFromCgroup([]byte(in)); got != want {
			t.Errorf("containerIDFromCgroup(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzContainerIDFromCgroup(f *testing.F) {
	f.Add("0::/system.slice/docker-" + containerID + ".scope\n")
	f.Add("12:cpu,cpuacct:/init.scope\n11:memory:/init.scope\n")
	f.Fuzz(func(t *testing.T, in string) {
		id := containerIDFromCgroup([]byte(in))
		if id != "" && (len(id) != 64 || !strings.Contains(in, id)) {
			t.Fatalf("containerIDFromCgroup(%q) = %q", in, id)
		}
	})
}

func TestValidation(t *testing.T) {
	a := DefaultArguments
	a.RefreshInterval = 0
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "refresh_interval") {
		t.Fatalf("Validate() = %v", err)
	}
	var d Arguments
	if err := discoverytest.Decode(t, "discovery.process \"x\" {}\n", "discovery.process", nil, &d); err != nil {
		t.Fatal(err)
	}
	if d.RefreshInterval != time.Minute || !d.DiscoverConfig.Exe || !d.DiscoverConfig.Cwd || !d.DiscoverConfig.Commandline ||
		!d.DiscoverConfig.ContainerID || d.DiscoverConfig.Username || d.DiscoverConfig.UID || d.DiscoverConfig.CgroupPath {
		t.Fatalf("defaults not Alloy's: %+v", d)
	}
}
