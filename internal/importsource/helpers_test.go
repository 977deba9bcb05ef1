package importsource

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// result is one call of update.
type result struct {
	c   Content
	err error
}

// recorder keeps every call of update.
type recorder struct {
	mu  sync.Mutex
	got []result
}

func (r *recorder) update(c Content, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, result{c, err})
}

func (r *recorder) all() []result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]result(nil), r.got...)
}

func (r *recorder) last() (result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		return result{}, false
	}
	return r.got[len(r.got)-1], true
}

// contents counts the successful deliveries.
func (r *recorder) contents() int {
	n := 0
	for _, g := range r.all() {
		if g.err == nil {
			n++
		}
	}
	return n
}

// waitLast waits until the last update satisfies cond.
func (r *recorder) waitLast(t *testing.T, cond func(result) bool, what string) result {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if g, ok := r.last(); ok && cond(g) {
			return g
		}
		if time.Now().After(deadline) {
			g, _ := r.last()
			t.Fatalf("timed out waiting for %s; last update: %s", what, describe(g))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFile waits for a successful delivery in which file name holds want.
func (r *recorder) waitFile(t *testing.T, name, want string) Content {
	t.Helper()
	return r.waitLast(t, func(g result) bool {
		return g.err == nil && string(g.c.Files[name]) == want
	}, name+" = "+want).c
}

// waitErr waits for a failure.
func (r *recorder) waitErr(t *testing.T) error {
	t.Helper()
	return r.waitLast(t, func(g result) bool { return g.err != nil }, "an error").err
}

func describe(g result) string {
	if g.err != nil {
		return "error: " + g.err.Error()
	}
	s := "module_path=" + g.c.ModulePath
	for n, b := range g.c.Files {
		s += " " + n + "=" + string(b)
	}
	return s
}

func testOptions(t *testing.T) Options {
	return Options{
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DataPath: t.TempDir(),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// start builds the source and runs it until the test ends.
func start(t *testing.T, kind string, args any, opts Options) (Source, *recorder) {
	t.Helper()
	src, err := New(kind, args, opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, rec.update) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return within 20s of cancellation")
		}
	})
	return src, rec
}
