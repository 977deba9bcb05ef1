package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// ZooKeeper is a real standalone ZooKeeper server (Debian's zookeeper
// package) on a loopback port, for the discovery.serverset and
// discovery.nerve tests.
type ZooKeeper struct {
	Addr string
	proc *process
}

// zkJars are the class path of Debian's zookeeper package (zkEnv.sh's):
// the jar's manifest names the libraries it needs.
var zkJars = []string{"/usr/share/java/zookeeper.jar"}

// RequireZooKeeper returns the java binary and the class path of Debian's
// ZooKeeper, skipping the test when they are missing (failing it under
// CI=true, where .ci/run installs the package).
func RequireZooKeeper(t testing.TB) (java, classpath string) {
	t.Helper()
	fail := func(msg string) {
		msg = "Debian's zookeeper is not installed (apt-get install zookeeper): " + msg
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip("skipping: " + msg)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		fail("no java")
	}
	classpath = "/etc/zookeeper/conf"
	for _, j := range zkJars {
		if _, err := os.Stat(j); err != nil {
			fail(err.Error())
		}
		classpath += ":" + j
	}
	return java, classpath
}

// StartZooKeeper runs a standalone ZooKeeper on a free loopback port with
// its data in a temporary directory, waits until it answers "ruok", and
// stops it when the test ends. It takes some seconds (a JVM starts):
// start one per test package.
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	java, cp := RequireZooKeeper(t)
	dir := t.TempDir()
	var lastErr error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "zoo.cfg")
		conf := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
			"admin.enableServer=false\n4lw.commands.whitelist=ruok\nmaxClientCnxns=0\n", filepath.Join(dir, "data"), port)
		if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := startProcess("zookeeper", filepath.Join(dir, "zookeeper.log"), java,
			"-Xmx128m", "-XX:+UseSerialGC", "-Dzookeeper.jmx.log4j.disable=true", "-Dzookeeper.log.dir="+dir,
			"-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg)
		if err != nil {
			t.Fatal(err)
		}
		z := &ZooKeeper{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), proc: p}
		if lastErr = z.waitOK(); lastErr != nil {
			p.stop(5 * time.Second)
			continue
		}
		t.Cleanup(func() {
			p.stop(10 * time.Second)
			if t.Failed() {
				t.Logf("zookeeper log:\n%s", p.logTail(30))
			}
		})
		return z
	}
	t.Fatal(lastErr)
	return nil
}

// ruok asks the four-letter "ruok"; a serving ZooKeeper says "imok".
func (z *ZooKeeper) ruok() bool {
	c, err := net.DialTimeout("tcp", z.Addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "ruok"); err != nil {
		return false
	}
	b, _ := io.ReadAll(c)
	return string(b) == "imok"
}

func (z *ZooKeeper) waitOK() error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		if z.ruok() {
			return nil
		}
		select {
		case <-z.proc.done:
			return fmt.Errorf("lab: zookeeper exited before it answered:\n%s", z.proc.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("lab: zookeeper did not answer ruok: %w\n%s", ctx.Err(), z.proc.logTail(20))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Put creates the node at path with data, creating its parents, or
// replaces its data if it exists.
func (z *ZooKeeper) Put(path string, data []byte) error {
	c, err := z.conn()
	if err != nil {
		return err
	}
	defer c.Close()
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(parts); i++ {
		parent := "/" + strings.Join(parts[:i], "/")
		if _, err := c.Create(parent, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("lab: create %s: %w", parent, err)
		}
	}
	if _, err := c.Create(path, data, 0, zk.WorldACL(zk.PermAll)); err != nil {
		if !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("lab: create %s: %w", path, err)
		}
		if _, err := c.Set(path, data, -1); err != nil {
			return fmt.Errorf("lab: set %s: %w", path, err)
		}
	}
	return nil
}

// Delete removes the node at path.
func (z *ZooKeeper) Delete(path string) error {
	c, err := z.conn()
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Delete(path, -1); err != nil {
		return fmt.Errorf("lab: delete %s: %w", path, err)
	}
	return nil
}

func (z *ZooKeeper) conn() (*zk.Conn, error) {
	c, events, err := zk.Connect([]string{z.Addr}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		return nil, fmt.Errorf("lab: zookeeper: %w", err)
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.State == zk.StateHasSession {
				return c, nil
			}
		case <-deadline:
			c.Close()
			return nil, errors.New("lab: no zookeeper session within 30s")
		}
	}
}
