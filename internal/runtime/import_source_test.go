package runtime

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/importsource"
)

// fakeSource is an import source the test feeds by hand.
type fakeSource struct {
	first   importsource.Content
	updates chan sourceUpdate

	mu   sync.Mutex
	args []any
}

type sourceUpdate struct {
	c   importsource.Content
	err error
}

func (s *fakeSource) Run(ctx context.Context, update func(importsource.Content, error)) error {
	update(s.first, nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case u := <-s.updates:
			update(u.c, u.err)
		}
	}
}

func (s *fakeSource) Update(args any) error {
	s.mu.Lock()
	s.args = append(s.args, args)
	s.mu.Unlock()
	return nil
}

func moduleFiles(factor int) importsource.Content {
	return importsource.Content{Files: map[string][]byte{"lib.alloy": []byte(fmt.Sprintf(`declare "mul" {
	argument "x" { }
	test.node "n" {
		inputs = [argument.x.value, %d]
	}
	test.node "other" {
		input = 1
	}
	export "y" { value = test.node.n.output }
}
`, factor))}}
}

// withSource plugs a constructor into newImportSource for one test.
func withSource(t *testing.T, src *fakeSource) *[]string {
	t.Helper()
	var kinds []string
	prev := newImportSource
	newImportSource = func(kind string, args any, opts importsource.Options) (importsource.Source, error) {
		kinds = append(kinds, kind)
		return src, nil
	}
	t.Cleanup(func() { newImportSource = prev })
	return &kinds
}

const importFile = `
import.file "lib" {
	filename = "lib.alloy"
}
lib.mul "m" {
	x = 1
}
test.node "dst" {
	input = lib.mul.m.y
}
`

// The sources of import.file, import.http and import.git deliver content
// asynchronously: the first is waited for at load, later ones update only
// what changed, and a bad one keeps the last good module.
func TestImportSourceUpdates(t *testing.T) {
	src := &fakeSource{first: moduleFiles(10), updates: make(chan sourceUpdate)}
	kinds := withSource(t, src)
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, importFile)
	started(t, rt)
	if got := output(t, rt, "test.node.dst"); got != 11 {
		t.Fatalf("dst = %d, want 11 from the first content", got)
	}
	if len(*kinds) != 1 || (*kinds)[0] != "import.file" {
		t.Fatalf("sources built: %v", *kinds)
	}

	src.updates <- sourceUpdate{c: moduleFiles(20)}
	eventually(t, "the new module reaches dst", func() bool { return output(t, rt, "test.node.dst") == 21 })
	if f.builds("lib.mul.m/test.node.n") != 1 || f.builds("lib.mul.m/test.node.other") != 1 {
		t.Error("new content rebuilt components instead of updating the changed one")
	}
	if _, n, _, _, _ := f.latest(t, "lib.mul.m/test.node.other").state(); n != 0 {
		t.Errorf("the unchanged component was updated %d times", n)
	}

	src.updates <- sourceUpdate{c: importsource.Content{Files: map[string][]byte{"lib.alloy": []byte("declare \"mul\" {\n\tnope \"x\" { }\n}\n")}}}
	eventually(t, "the import turns unhealthy", func() bool {
		h := health(rt, "import.file.lib")
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, `lib.alloy:2:2: cannot find the definition of component name "nope"`)
	})
	if h := health(rt, "lib.mul.m"); h.State != component.HealthUnhealthy {
		t.Errorf("the instance's health = %+v, want the module's error", h)
	}
	if got := output(t, rt, "test.node.dst"); got != 21 {
		t.Errorf("dst = %d, want 21 from the last good module", got)
	}

	src.updates <- sourceUpdate{err: fmt.Errorf("connection refused")}
	eventually(t, "the fetch error shows", func() bool {
		return strings.Contains(health(rt, "import.file.lib").Message, "connection refused")
	})

	src.updates <- sourceUpdate{c: moduleFiles(30)}
	eventually(t, "a good module recovers", func() bool {
		return output(t, rt, "test.node.dst") == 31 && health(rt, "import.file.lib").State == component.HealthHealthy
	})

	// New arguments go to the running source.
	load(t, rt, strings.Replace(importFile, `"lib.alloy"`, `"other.alloy"`, 1))
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.args) != 1 || len(*kinds) != 1 {
		t.Errorf("new arguments: %d updates, %d sources built; want 1 update of the same source", len(src.args), len(*kinds))
	}
}

func TestImportKindUnavailableWithoutSource(t *testing.T) {
	prev := newImportSource
	newImportSource = nil
	t.Cleanup(func() { newImportSource = prev })
	rt := New(Options{Registry: newFakes().registry()})
	err := rt.Load("cfg.alloy", []byte(importFile))
	if err == nil || !strings.Contains(err.Error(), "import.file is not available") {
		t.Fatalf("Load = %v", err)
	}
	if h := health(rt, "import.file.lib"); h.State != component.HealthUnhealthy {
		t.Errorf("import health = %+v", h)
	}
}
