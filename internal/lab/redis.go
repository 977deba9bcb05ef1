package lab

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Redis is a real redis-server (Debian's) on a loopback port, for the
// prometheus.exporter.redis tests.
type Redis struct {
	Addr string
	proc *process
}

// RequireRedis returns the path of Debian's redis-server, skipping the test
// when it is missing (failing it under CI=true, where .ci/run installs it).
func RequireRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "Debian's redis-server is not installed (apt-get install redis-server)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip("skipping: " + msg)
	}
	return bin
}

// StartRedis runs redis-server on a free loopback port with no persistence,
// waits until it answers PING, and stops it when the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin := RequireRedis(t)
	dir := t.TempDir()
	var lastErr error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		p, err := startProcess("redis-server", filepath.Join(dir, "redis.log"), bin,
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
		if err != nil {
			t.Fatal(err)
		}
		r := &Redis{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), proc: p}
		if lastErr = r.waitPing(); lastErr != nil {
			p.stop(5 * time.Second)
			continue
		}
		t.Cleanup(func() {
			p.stop(10 * time.Second)
			if t.Failed() {
				t.Logf("redis-server log:\n%s", p.logTail(20))
			}
		})
		return r
	}
	t.Fatal(lastErr)
	return nil
}

// Do sends one inline command and returns the first line of the reply.
func (r *Redis) Do(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", cmd); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func (r *Redis) waitPing() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if reply, err := r.Do("PING"); err == nil && reply == "+PONG" {
			return nil
		}
		select {
		case <-r.proc.done:
			return fmt.Errorf("lab: redis-server exited before it answered:\n%s", r.proc.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("lab: redis-server did not answer PING: %w\n%s", ctx.Err(), r.proc.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
