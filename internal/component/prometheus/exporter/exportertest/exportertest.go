// Package exportertest holds what the exporters' tests share: the blocks of
// one exporter found in the real Alloy configs each exporter keeps in its
// testdata/real, decoded into its arguments, and a scrape of a built
// exporter's handler.
package exportertest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"

	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// RealBlock is one block of a real config, with the file it came from.
type RealBlock struct {
	Path  string
	Block *ast.BlockStmt
}

// RealBlocks parses every testdata/real/*.alloy file and returns the
// blocks named name. It fails the test when there are no files or no such
// block, since a test over nothing proves nothing.
func RealBlocks(t *testing.T, name string) []RealBlock {
	t.Helper()
	files, err := filepath.Glob("testdata/real/*.alloy")
	if err != nil || len(files) == 0 {
		t.Fatalf("no real configs in testdata/real: %v", err)
	}
	var out []RealBlock
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(path, src)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, st := range f.Body {
			if b, ok := st.(*ast.BlockStmt); ok && b.GetBlockName() == name {
				out = append(out, RealBlock{Path: path, Block: b})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s block in the real configs", name)
	}
	return out
}

// Decode evaluates the block into args (a pointer), as the runtime would
// with no references in scope.
func (rb RealBlock) Decode(args any) error {
	return vm.New(rb.Block).Evaluate(&vm.Scope{}, args)
}

// Scrape GETs /metrics from a built exporter's handler and returns the
// body, failing the test unless the answer is 200.
func Scrape(t testing.TB, c component.Component) string {
	t.Helper()
	w := httptest.NewRecorder()
	c.(*exporter.Component).Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", w.Code, w.Body.String())
	}
	return w.Body.String()
}
