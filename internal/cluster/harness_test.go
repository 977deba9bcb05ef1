package cluster

import (
	"context"
	"crypto/tls"
	"fmt"

	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tnode is a node served by its own HTTP/2 server on 127.0.0.1:0, as the
// web server would serve it.
type tnode struct {
	*Node
	t      testing.TB
	ln     net.Listener
	srv    *http.Server
	cancel context.CancelFunc
	runErr chan error
	once   sync.Once
	// stalled makes the server accept requests and never answer them,
	// until stall is closed.
	stalled atomic.Bool
	stall   chan struct{}
}

type nodeOpt func(*Config, *Options)

func withJoin(addrs ...string) nodeOpt {
	return func(c *Config, _ *Options) { c.JoinAddresses = addrs }
}

// testConfig is quick: Δ of 1s and a short bootstrap.
func testConfig(name string) Config {
	c := DefaultConfig()
	c.Enabled = true
	c.NodeName = name
	c.HandoffDelay = time.Second
	c.BootstrapTimeout = 2 * time.Second
	c.RejoinInterval = 5 * time.Second
	return c
}

func testLogger(t testing.TB, name string) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("SHOAL_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level})).With("node", name)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startNode builds, serves and runs a node. It is stopped (gracefully)
// when the test ends unless the test stopped or crashed it first.
func startNode(t testing.TB, name string, opts ...nodeOpt) *tnode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startNodeOn(t, ln, name, nil, opts...)
}

func startNodeOn(t testing.TB, ln net.Listener, name string, serverTLS *tls.Config, opts ...nodeOpt) *tnode {
	t.Helper()
	cfg := testConfig(name)
	o := Options{ListenAddr: ln.Addr().String(), Logger: testLogger(t, name)}
	for _, f := range opts {
		f(&cfg, &o)
	}
	n, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	tn := &tnode{Node: n, t: t, ln: ln, runErr: make(chan error, 1)}
	tn.stall = make(chan struct{})
	tn.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tn.stalled.Load() {
			// A peer that accepts connections but never answers.
			select {
			case <-r.Context().Done():
			case <-tn.stall:
			}
			return
		}
		n.Handler().ServeHTTP(w, r)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	protos := new(http.Protocols)
	if serverTLS != nil {
		protos.SetHTTP1(true)
		protos.SetHTTP2(true)
		tn.srv.TLSConfig = serverTLS
	} else {
		protos.SetHTTP1(true)
		protos.SetUnencryptedHTTP2(true)
	}
	tn.srv.Protocols = protos
	go func() {
		if serverTLS != nil {
			_ = tn.srv.ServeTLS(ln, "", "")
		} else {
			_ = tn.srv.Serve(ln)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel = cancel
	go func() { tn.runErr <- n.Run(ctx) }()
	t.Cleanup(tn.shutdown)
	return tn
}

func (tn *tnode) addr() string { return tn.ln.Addr().String() }

// shutdown stops the node gracefully and its server.
func (tn *tnode) shutdown() {
	tn.once.Do(func() {
		if tn.stalled.Swap(false) {
			close(tn.stall)
		}
		tn.Stop()
		tn.cancel()
		if err := <-tn.runErr; err != nil {
			tn.t.Errorf("%s: Run: %v", tn.name, err)
		}
		_ = tn.srv.Close()
	})
}

// crash makes the node vanish without a word: its server closes every
// connection and its gossip stops, as with kill -9.
func (tn *tnode) crash() {
	tn.once.Do(func() {
		if tn.stalled.Swap(false) {
			close(tn.stall)
		}
		_ = tn.srv.Close()
		tn.halt()
		tn.cancel()
		<-tn.runErr
	})
}

// eventually waits for cond, failing the test after d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alivePeers returns the names of the live nodes n knows, itself included.
func alivePeers(n *Node) []string {
	var out []string
	for _, p := range n.Peers() {
		if p.Alive {
			out = append(out, p.Name)
		}
	}
	return out
}

func peerByName(n *Node, name string) (Peer, bool) {
	for _, p := range n.Peers() {
		if p.Name == name {
			return p, true
		}
	}
	return Peer{}, false
}

func sees(n *Node, names ...string) bool {
	got := alivePeers(n)
	return fmt.Sprint(got) == fmt.Sprint(names)
}
