// Package remotetest helps the tests of the remote.* and local.*
// components check that a secret stays secret: it serves a component's
// arguments, exports and health through the real web UI and API handler
// and returns what a user would read.
package remotetest

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/web"
)

// Served returns the component API JSON (/api/v0/web/components/ID and the
// list) and the component's UI page for one component, joined.
func Served(t testing.TB, id, name string, args, exports any, health component.Health) string {
	t.Helper()
	label := strings.TrimPrefix(id, name+".")
	h := web.New(web.Options{Components: func() []web.Component {
		return []web.Component{{ID: id, Name: name, Label: label, Health: health, Arguments: args, Exports: exports}}
	}}).Handler()
	var all strings.Builder
	for _, p := range []string{"/api/v0/web/components/" + id, "/api/v0/web/components", "/component/" + id} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", p, rec.Code, body)
		}
		all.Write(body)
		all.WriteString("\n")
	}
	return all.String()
}

// LogBuffer collects a logger's lines, to check that a secret was never
// logged.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns every line logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a debug-level logger writing to b.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
