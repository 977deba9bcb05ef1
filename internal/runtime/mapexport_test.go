package runtime

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
)

type mapExports struct {
	Data map[string]int `alloy:"data,attr"`
}

// mapRegistry adds test.map, whose exports are a map known only once it
// runs, as remote.kubernetes.secret's data is.
func mapRegistry(f *fakes) *component.Registry {
	regs := []component.Registration{{
		Name:    "test.map",
		Args:    struct{}{},
		Exports: mapExports{},
		Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
			opts.OnStateChange(mapExports{Data: map[string]int{"port": 42}})
			return &idle{}, nil
		},
	}}
	base := f.registry()
	for _, name := range base.Names() {
		r, _ := base.Get(name)
		regs = append(regs, r)
	}
	return component.NewRegistry(regs...)
}

func TestKeysOfAMapExportAreCheckedAtRunTimeOnly(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: mapRegistry(f)})
	src := `test.map "m" {}
test.node "n" {
  input = test.map.m.data.port
}
`
	if ds := rt.Validate("cfg.alloy", []byte(src)); len(ds) != 0 {
		t.Fatalf("a key of a map export was refused before run time: %v", ds)
	}
	load(t, rt, src)
	if got := output(t, rt, "test.node.n"); got != 42 {
		t.Fatalf("n.output = %d, want it computed from data.port = 42", got)
	}

	// A key the map lacks is an error of the real evaluation.
	bad := strings.Replace(src, "data.port", "data.nope", 1)
	if ds := rt.Validate("cfg.alloy", []byte(bad)); len(ds) != 0 {
		t.Fatalf("validation: %v", ds)
	}
	rt2 := New(Options{Registry: mapRegistry(newFakes())})
	if err := rt2.Load("cfg.alloy", []byte(bad)); err == nil || !strings.Contains(err.Error(), `cfg.alloy:3:27: field "nope" does not exist`) {
		t.Fatalf("Load with a missing key = %v, want the key named at its position", err)
	}
	// A misspelled export name is still refused at once.
	if ds := rt.Validate("cfg.alloy", []byte(strings.Replace(src, "data.port", "dta.port", 1))); len(ds) == 0 {
		t.Fatal("a misspelled export name passed validation")
	}
}
