// Package discoverytest helps test the discovery components and their
// neighbours (local.file, prometheus.relabel): options whose published
// exports can be awaited, a wait with a deadline, and decoding a config
// block into Arguments as the runtime does. It is for tests only.
package discoverytest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// Recorder keeps the exports a component published.
type Recorder struct {
	mu      sync.Mutex
	exports []component.Exports
}

// Last returns the last exports published, or nil.
func (r *Recorder) Last() component.Exports {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.exports) == 0 {
		return nil
	}
	return r.exports[len(r.exports)-1]
}

// All returns every export published, oldest first.
func (r *Recorder) All() []component.Exports {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]component.Exports(nil), r.exports...)
}

// Count is how many times exports were published.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.exports)
}

// Targets returns the targets of the last discovery.Exports published, and
// whether there were any exports.
func (r *Recorder) Targets() ([]discovery.Target, bool) {
	e, ok := r.Last().(discovery.Exports)
	return e.Targets, ok
}

// Options returns component options for a test: a logger writing to
// t.Log, a fresh registry, and a Recorder of published exports.
func Options(t testing.TB, id string) (component.Options, *Recorder, *prometheus.Registry) {
	rec := &Recorder{}
	reg := prometheus.NewRegistry()
	opts := component.Options{
		ID:         id,
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", id),
		Registerer: reg,
		DataPath:   t.TempDir(),
		OnStateChange: func(e component.Exports) {
			rec.mu.Lock()
			rec.exports = append(rec.exports, e)
			rec.mu.Unlock()
		},
		Cluster: component.Alone{},
	}
	return opts, rec, reg
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// Eventually waits until cond holds, checking every 10ms, and fails the
// test with msg after timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Run runs c in the background until the test ends, and checks that Run
// returned nil.
func Run(t testing.TB, c component.Component) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of cancellation")
		}
	})
}

// Decode parses src as a config file and evaluates the first block named
// name (e.g. "discovery.file") into target, as the runtime would, with
// vars in scope. It returns the evaluation error, if any.
func Decode(t testing.TB, src, name string, vars map[string]any, target any) error {
	t.Helper()
	f, err := parser.ParseFile("example.alloy", []byte(src))
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	for _, st := range f.Body {
		b, ok := st.(*ast.BlockStmt)
		if !ok || b.GetBlockName() != name {
			continue
		}
		return vm.New(b).Evaluate(&vm.Scope{Variables: vars}, target)
	}
	t.Fatalf("no %s block in the example", name)
	return nil
}

// ByAddress indexes targets by their __address__.
func ByAddress(ts []discovery.Target) map[string]discovery.Target {
	m := make(map[string]discovery.Target, len(ts))
	for _, t := range ts {
		m[t["__address__"]] = t
	}
	return m
}

// ExpectLabels reports every label of want that target lacks or holds
// with another value; what names the target in the messages.
func ExpectLabels(t testing.TB, what string, target discovery.Target, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got, ok := target[k]; !ok || got != v {
			t.Errorf("%s: %s = %q, want %q (target %v)", what, k, got, v, target)
		}
	}
}

// Start builds a discovery component with test options, runs it until the
// test ends and waits for it to be ready with n targets (n < 0: any
// number).
func Start(t testing.TB, id string, n int, build func(component.Options) (*discovery.Component, error)) (*discovery.Component, *Recorder) {
	t.Helper()
	opts, rec, _ := Options(t, id)
	c, err := build(opts)
	if err != nil {
		t.Fatal(err)
	}
	Run(t, c)
	Eventually(t, 15*time.Second, func() bool {
		ts, _ := rec.Targets()
		return c.Ready() && (n < 0 || len(ts) == n)
	}, "%s never ready with %d targets; last exports %v", id, n, rec.Last())
	return c, rec
}
