// Package labdb starts the database servers of the exporter tests:
// throwaway instances of Debian's mariadb-server and postgresql, each with
// its own data directory, on loopback ports. It is apart from package lab,
// which the shoal binary links, so that the SQL drivers it uses stay out
// of the binary.
package labdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"

	"github.com/shoal-dev/shoal/internal/lab"
)

// The database servers of the exporter tests (Debian's mariadb-server and
// postgresql) take seconds to initialise, so a test process starts each at
// most once, on first use, and StopDatabases (from TestMain) stops them.
var shared struct {
	mu       sync.Mutex
	mariadb  *MariaDB
	mariaErr error
	postgres *Postgres
	pgErr    error
	cleanup  []func()
}

// StopDatabases stops the servers that MariaDBOnce and PostgresOnce
// started and removes their data. Call it from TestMain after m.Run.
func StopDatabases() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for i := len(shared.cleanup) - 1; i >= 0; i-- {
		shared.cleanup[i]()
	}
	shared.cleanup = nil
	shared.mariadb, shared.postgres = nil, nil
	shared.mariaErr, shared.pgErr = nil, nil
}

// requireBinary returns the path of bin, skipping the test when it is
// missing (failing it under CI=true, where .ci/run installs pkg).
func requireBinary(t testing.TB, bin, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err != nil {
		msg := fmt.Sprintf("Debian's %s is not installed (apt-get install %s)", bin, pkg)
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip("skipping: " + msg)
	}
	return p
}

// MariaDB is a throwaway mariadbd (Debian's mariadb-server) with its own
// data directory, listening on a loopback port and a socket of its own.
// It has a user "exporter" (password "exporter-pw") with the privileges
// mysqld_exporter asks for, and a database "lab".
type MariaDB struct {
	Addr   string // 127.0.0.1:port
	Socket string
	proc   *server
}

// DSN is the Go MySQL driver's data source name for the exporter user over
// TCP, with db as the database.
func (m *MariaDB) DSN(db string) string {
	return fmt.Sprintf("exporter:exporter-pw@tcp(%s)/%s", m.Addr, db)
}

// MariaDBOnce returns the test process's MariaDB, starting it on first use.
func MariaDBOnce(t testing.TB) *MariaDB {
	t.Helper()
	install := requireBinary(t, "mariadb-install-db", "mariadb-server")
	server := "/usr/sbin/mariadbd"
	if _, err := os.Stat(server); err != nil {
		server = requireBinary(t, "mariadbd", "mariadb-server")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.mariadb == nil && shared.mariaErr == nil {
		shared.mariadb, shared.mariaErr = startMariaDB(install, server)
	}
	if shared.mariaErr != nil {
		t.Fatal(shared.mariaErr)
	}
	return shared.mariadb
}

func startMariaDB(install, server string) (*MariaDB, error) {
	dir, err := os.MkdirTemp("", "lab-mariadb-")
	if err != nil {
		return nil, err
	}
	shared.cleanup = append(shared.cleanup, func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	out, err := exec.Command(install, "--no-defaults", "--user=root", "--datadir="+data,
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("lab: mariadb-install-db: %w\n%s", err, out)
	}
	sock := filepath.Join(dir, "mysqld.sock")
	var lastErr error
	for range 3 {
		port, err := lab.FreePort()
		if err != nil {
			return nil, err
		}
		p, err := start(filepath.Join(dir, "mariadbd.log"), nil, server,
			"--no-defaults", "--user=root", "--datadir="+data, "--socket="+sock,
			"--port="+strconv.Itoa(port), "--bind-address=127.0.0.1", "--skip-name-resolve",
			"--pid-file="+filepath.Join(dir, "mariadbd.pid"), "--innodb-buffer-pool-size=16M",
			"--performance-schema=ON", "--log-error="+filepath.Join(dir, "mariadbd.log"))
		if err != nil {
			return nil, err
		}
		m := &MariaDB{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Socket: sock, proc: p}
		if lastErr = m.setUp(); lastErr != nil {
			p.stop(syscall.SIGTERM)
			continue
		}
		shared.cleanup = append(shared.cleanup, func() { p.stop(syscall.SIGTERM) })
		return m, nil
	}
	return nil, lastErr
}

// setUp waits until root can connect over the socket, then creates the
// exporter user and the lab database.
func (m *MariaDB) setUp() error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", m.Socket
	cfg.Timeout = 2 * time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if err = db.PingContext(ctx); err == nil {
			break
		}
		select {
		case <-m.proc.done:
			return fmt.Errorf("lab: mariadbd exited before it answered:\n%s", m.proc.logTail())
		case <-ctx.Done():
			return fmt.Errorf("lab: mariadbd did not answer: %w\n%s", err, m.proc.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
	for _, q := range []string{
		"CREATE USER 'exporter'@'127.0.0.1' IDENTIFIED BY 'exporter-pw'",
		"GRANT PROCESS, REPLICATION CLIENT, SELECT, SLAVE MONITOR ON *.* TO 'exporter'@'127.0.0.1'",
		"CREATE DATABASE lab",
		"CREATE TABLE lab.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(20))",
		"INSERT INTO lab.t (v) VALUES ('a'), ('b'), ('c')",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("lab: mariadb %q: %w", q, err)
		}
	}
	return nil
}

// Postgres is a throwaway postgres (Debian's postgresql) with its own data
// directory, listening on a loopback port and a socket directory of its
// own. It runs as the user nobody, since postgres refuses to run as root,
// and trusts every local connection; its superuser is "postgres", and it
// has a database "lab".
type Postgres struct {
	Addr      string // 127.0.0.1:port
	SocketDir string
	proc      *server
}

// DSN is a postgres URL for the superuser and db over TCP.
func (p *Postgres) DSN(db string) string {
	return fmt.Sprintf("postgresql://postgres@%s/%s?sslmode=disable", p.Addr, db)
}

// PostgresOnce returns the test process's Postgres, starting it on first
// use.
func PostgresOnce(t testing.TB) *Postgres {
	t.Helper()
	bindir, err := postgresBinDir()
	if err != nil {
		msg := "Debian's postgresql is not installed (apt-get install postgresql)"
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + msg)
		}
		t.Skip("skipping: " + msg)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.postgres == nil && shared.pgErr == nil {
		shared.postgres, shared.pgErr = startPostgres(bindir)
	}
	if shared.pgErr != nil {
		t.Fatal(shared.pgErr)
	}
	return shared.postgres
}

// postgresBinDir finds Debian's versioned directory holding initdb and
// postgres (/usr/lib/postgresql/<major>/bin), the newest first.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	best, bestMajor := "", -1
	for _, d := range dirs {
		major, err := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(d))))
		if err == nil && major > bestMajor {
			best, bestMajor = filepath.Dir(d), major
		}
	}
	if best == "" {
		return "", errors.New("no /usr/lib/postgresql/*/bin/postgres")
	}
	return best, nil
}

func startPostgres(bindir string) (*Postgres, error) {
	cred, err := nobody()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lab-postgres-")
	if err != nil {
		return nil, err
	}
	shared.cleanup = append(shared.cleanup, func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	for _, d := range []string{dir, data} {
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(data, 0o700); err != nil {
		return nil, err
	}
	initdb := exec.Command(filepath.Join(bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lab: initdb: %w\n%s", err, out)
	}
	var lastErr error
	for range 3 {
		port, err := lab.FreePort()
		if err != nil {
			return nil, err
		}
		proc, err := start(filepath.Join(dir, "postgres.log"), cred, filepath.Join(bindir, "postgres"), "-D", data, "-k", dir, "-h", "127.0.0.1",
			"-p", strconv.Itoa(port), "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=40")
		if err != nil {
			return nil, err
		}
		p := &Postgres{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), SocketDir: dir, proc: proc}
		if lastErr = p.setUp(); lastErr != nil {
			proc.stop(syscall.SIGINT)
			continue
		}
		// SIGINT is postgres' fast shutdown.
		shared.cleanup = append(shared.cleanup, func() { proc.stop(syscall.SIGINT) })
		return p, nil
	}
	return nil, lastErr
}

// nobody is the credential of the user nobody.
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("lab: postgres runs as nobody: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// setUp waits until the server answers, then creates the lab database.
func (p *Postgres) setUp() error {
	db, err := sql.Open("postgres", p.DSN("postgres")+"&connect_timeout=2")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if err = db.PingContext(ctx); err == nil {
			break
		}
		select {
		case <-p.proc.done:
			return fmt.Errorf("lab: postgres exited before it answered:\n%s", p.proc.logTail())
		case <-ctx.Done():
			return fmt.Errorf("lab: postgres did not answer: %w\n%s", err, p.proc.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier("lab")); err != nil {
		return fmt.Errorf("lab: postgres: %w", err)
	}
	return nil
}

// server is a database server process.
type server struct {
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
}

// start runs bin with its output appended to logPath, as cred's user when
// cred is not nil, in its own process group, killed if the test process
// dies.
func start(logPath string, cred *syscall.Credential, bin string, args ...string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = filepath.Dir(logPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("lab: start %s: %w", filepath.Base(bin), err)
	}
	s := &server{cmd: cmd, done: make(chan struct{}), logPath: logPath}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return s, nil
}

// stop sends sig, and kills the process group after 20 seconds.
func (s *server) stop(sig syscall.Signal) {
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// logTail is the last 20 lines of the server's log.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
