package runtime

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
)

// The module tests use test.node (fake_test.go): it adds its inputs and
// exports the sum as output, and counts its builds and updates.

const declared = `
declare "adder" {
	argument "a" {
		comment = "first term"
	}
	argument "b" {
		optional = true
		default  = 100
	}

	test.node "sum" {
		inputs = [argument.a.value, argument.b.value]
	}
	test.node "constant" {
		input = 5
	}

	export "sum" {
		value = test.node.sum.output
	}
}

test.node "src" {
	input = 1
}

adder "x" {
	a = test.node.src.output
}

test.node "dst" {
	input = adder.x.sum
}
`

func TestDeclareInstanceRunsItsBody(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, declared)
	if got := output(t, rt, "test.node.dst"); got != 101 {
		t.Fatalf("dst = %d, want 101 (1 + the default 100)", got)
	}
	info, ok := rt.Component("adder.x/test.node.sum")
	if !ok {
		t.Fatal("no component adder.x/test.node.sum")
	}
	if info.ModuleID != "adder.x" || info.LocalID != "test.node.sum" || info.Name != "test.node" {
		t.Errorf("inner component info = %+v", info)
	}
	if f.builds("adder.x/test.node.sum") != 1 {
		t.Errorf("the inner component was not built with its global ID as component ID")
	}
	inst, ok := rt.Component("adder.x")
	if !ok || !inst.Custom || len(inst.ModuleIDs) != 1 || inst.ModuleIDs[0] != "adder.x" {
		t.Fatalf("instance info = %+v, %v", inst, ok)
	}
	if inst.Health.State != component.HealthHealthy {
		t.Errorf("instance health = %+v", inst.Health)
	}
	// Every component of every module is listed, the instance's after it.
	var ids []string
	for _, c := range rt.Components() {
		ids = append(ids, c.ID)
	}
	want := "adder.x adder.x/test.node.constant adder.x/test.node.sum test.node.dst test.node.src"
	if strings.Join(ids, " ") != want {
		t.Errorf("components = %v, want %s", ids, want)
	}
}

func TestArgumentChangeReevaluatesOnlyWhatUsesIt(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, declared)
	started(t, rt)

	f.latest(t, "test.node.src").setBias(10)
	eventually(t, "dst sees the new sum", func() bool { return output(t, rt, "test.node.dst") == 111 })
	if _, n, _, _, _ := f.latest(t, "adder.x/test.node.sum").state(); n != 1 {
		t.Errorf("sum updated %d times, want 1", n)
	}
	if _, n, _, _, _ := f.latest(t, "adder.x/test.node.constant").state(); n != 0 {
		t.Errorf("constant, which uses no argument, updated %d times", n)
	}
	if f.builds("adder.x/test.node.sum") != 1 {
		t.Errorf("sum rebuilt %d times", f.builds("adder.x/test.node.sum"))
	}

	// An inner change that leaves the export equal goes no further.
	f.latest(t, "adder.x/test.node.constant").setBias(3)
	f.latest(t, "test.node.src").setBias(20)
	eventually(t, "dst sees the next sum", func() bool { return output(t, rt, "test.node.dst") == 121 })
	if _, n, _, _, _ := f.latest(t, "test.node.dst").state(); n != 2 {
		t.Errorf("dst updated %d times, want 2 (one per new export)", n)
	}
}

func TestNestedDeclaresAndParentScopes(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, `
declare "outer" {
	argument "in" { }

	declare "inner" {
		argument "in" { }
		// Declared at the top of the file, visible from here.
		twice "t" {
			in = argument.in.value
		}
		export "out" {
			value = twice.t.out + 1
		}
	}

	inner "i" {
		in = argument.in.value
	}
	export "out" {
		value = inner.i.out
	}
}

declare "twice" {
	argument "in" { }
	export "out" {
		value = argument.in.value * 2
	}
}

outer "o" {
	in = 20
}

test.node "dst" {
	input = outer.o.out
}
`)
	if got := output(t, rt, "test.node.dst"); got != 41 {
		t.Fatalf("dst = %d, want 41", got)
	}
	if _, ok := rt.Component("outer.o/inner.i/twice.t"); !ok {
		t.Error("the nested instance is not listed under its module ID")
	}
}

func TestShadowedDeclareAndNamespace(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, `
declare "a" {
	export "out" { value = 1 }
}
declare "b" {
	declare "a" {
		export "out" { value = -10 }
	}
	a "x" { }
	export "out" { value = a.x.out }
}
// A declare may take the name of a namespace of components.
declare "prometheus" {
	export "out" { value = 7 }
}
b "y" { }
prometheus "p" { }
test.node "dst" {
	inputs = [b.y.out, prometheus.p.out]
}
`)
	if got := output(t, rt, "test.node.dst"); got != -3 {
		t.Fatalf("dst = %d, want -3: the inner declare a shadows the outer one", got)
	}
}

func TestModuleScopeErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"top-level component from a declare", `
test.node "top" { input = 1 }
declare "d" {
	test.node "in" {
		input = test.node.top.output
	}
}
d "x" { }
`, `cfg.alloy:5:11: component "test.node.top.output" does not exist or is out of scope`},
		{"declare of a sibling's body", `
declare "a" {
	b_1 "x" { }
}
declare "b" {
	declare "b_1" { }
}
a "y" { }
`, `cfg.alloy:3:2: cannot find the definition of component name "b_1"`},
		{"unknown argument", `
declare "d" {
	test.node "n" { input = argument.missing.value }
}
`, `cfg.alloy:3:26: component "argument.missing.value" does not exist or is out of scope`},
		{"argument at the top", `argument "x" { }`, `cfg.alloy:1:1: argument blocks only allowed inside a module`},
		{"export at the top", `export "x" { value = 1 }`, `cfg.alloy:1:1: export blocks only allowed inside a module`},
		{"declare labelled declare", `declare "declare" { }`, `cfg.alloy:1:1: 'declare' is not a valid label for a declare block`},
		{"cycle between declares", `
declare "a" { b "x" { } }
declare "b" { a "y" { } }
`, `cfg.alloy:2:1: cycle between declares declare.a (cfg.alloy:2:1), declare.b (cfg.alloy:3:1)`},
		{"self instantiation", `declare "a" { a "x" { } }`, `cfg.alloy:1:1: declare.a instantiates itself`},
		{"unrecognized instance attribute", `
declare "d" { argument "a" { } }
d "x" {
	a = 1
	b = 2
}
`, `cfg.alloy:5:2: unrecognized attribute name "b"`},
		{"missing required argument", `
declare "d" { argument "a" { optional = false } }
d "x" { }
`, `cfg.alloy:3:1: missing required attribute "a"`},
		{"export without value", `declare "d" { export "e" { } }`, `cfg.alloy:1:15: missing required attribute "value"`},
		{"logging in a declare", `declare "d" { logging { } }`, `cfg.alloy:1:15: logging block not allowed inside a module`},
		{"duplicate argument", `declare "d" {
	argument "a" { }
	argument "a" { }
}`, `cfg.alloy:3:2: block argument.a already declared at cfg.alloy:2:2`},
		{"type error inside a declare", `declare "d" {
	test.node "n" { input = "x" }
}`, `cfg.alloy:2:26:`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rt := New(Options{Registry: newFakes().registry()})
			err := rt.Load("cfg.alloy", []byte(tc.src))
			var ds diag.Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("Load = %v, want diagnostics", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load:\n%v\nwant %q", err, tc.want)
			}
		})
	}
}

// A component's exports before its first update are their typed zero
// values: empty lists, not null.
func TestExportsBeforeFirstUpdateAreTypedZero(t *testing.T) {
	reg := component.NewRegistry(
		component.Registration{
			Name:    "test.lister",
			Args:    struct{}{},
			Exports: listExports{},
			Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
				return &idle{}, nil // never publishes
			},
		},
		mustGet(newFakes().registry(), "test.node"),
	)
	rt := New(Options{Registry: reg})
	load(t, rt, `
test.lister "l" { }
declare "d" {
	argument "items" { }
	export "n" { value = argument.items.value }
}
d "x" {
	items = array.concat(test.lister.l.items, ["a"])
}
test.node "dst" {
	inputs = [1]
}
`)
	info, _ := rt.Component("test.lister.l")
	if e, ok := info.Exports.(listExports); !ok || e.Items == nil {
		t.Fatalf("exports before the first update = %#v, want an empty list", info.Exports)
	}
	inst, _ := rt.Component("d.x")
	if inst.Health.State != component.HealthHealthy {
		t.Fatalf("array.concat of the zero exports failed: %+v", inst.Health)
	}
}

type listExports struct {
	Items []string `alloy:"items,attr"`
}

func mustGet(r *component.Registry, name string) component.Registration {
	reg, ok := r.Get(name)
	if !ok {
		panic(name)
	}
	return reg
}

const stringModule = `
declare "scale" {
	argument "in" { }
	test.node "n" {
		inputs = [argument.in.value, %d]
	}
	test.node "other" {
		input = 1
	}
	export "out" { value = test.node.n.output }
}
`

func importing(moduleSrc string) string {
	return fmt.Sprintf(`
import.string "lib" {
	content = %q
}
lib.scale "s" {
	in = 5
}
test.node "dst" {
	input = lib.scale.s.out
}
`, moduleSrc)
}

func TestImportString(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, importing(fmt.Sprintf(stringModule, 10)))
	started(t, rt)
	eventually(t, "n runs", func() bool {
		_, _, runs, _, _ := f.latest(t, "lib.scale.s/test.node.n").state()
		return runs == 1
	})
	if got := output(t, rt, "test.node.dst"); got != 15 {
		t.Fatalf("dst = %d, want 15", got)
	}
	if _, ok := rt.Component("import.string.lib"); !ok {
		t.Error("the import block is not listed")
	}

	// New module content: only what changed inside is updated; nothing
	// is restarted.
	load(t, rt, importing(fmt.Sprintf(stringModule, 20)))
	if got := output(t, rt, "test.node.dst"); got != 25 {
		t.Fatalf("dst = %d after the module changed, want 25", got)
	}
	if f.builds("lib.scale.s/test.node.n") != 1 || f.builds("lib.scale.s/test.node.other") != 1 {
		t.Errorf("inner components rebuilt: n %d, other %d", f.builds("lib.scale.s/test.node.n"), f.builds("lib.scale.s/test.node.other"))
	}
	if _, n, runs, _, _ := f.latest(t, "lib.scale.s/test.node.n").state(); n != 1 || runs != 1 {
		t.Errorf("n updated %d times and run %d times, want 1 and 1", n, runs)
	}
	if _, n, _, _, _ := f.latest(t, "lib.scale.s/test.node.other").state(); n != 0 {
		t.Errorf("the unchanged component was updated %d times", n)
	}

	// A broken module keeps the last good one running and says so on the
	// import's and the instance's health, naming the module's file.
	err := rt.Load("cfg.alloy", []byte(importing(`declare "scale" { test.node "n" { input = "x" } export "out" { value = 1 } }`)))
	if err == nil || !strings.Contains(err.Error(), "import.string.lib:1:") {
		t.Fatalf("Load of a broken module = %v, want the module's file:line:col", err)
	}
	for _, id := range []string{"import.string.lib", "lib.scale.s"} {
		if h := health(rt, id); h.State != component.HealthUnhealthy || !strings.Contains(h.Message, "import.string.lib:1:") {
			t.Errorf("%s health = %+v, want the module error", id, h)
		}
	}
	if got := output(t, rt, "test.node.dst"); got != 25 {
		t.Errorf("dst = %d, want 25 from the last good module", got)
	}
	if _, _, _, _, running := f.latest(t, "lib.scale.s/test.node.n").state(); !running {
		t.Error("the last good module's component stopped")
	}

	// Fixing it recovers.
	load(t, rt, importing(fmt.Sprintf(stringModule, 30)))
	if got := output(t, rt, "test.node.dst"); got != 35 {
		t.Fatalf("dst = %d, want 35", got)
	}
	if h := health(rt, "import.string.lib"); h.State != component.HealthHealthy {
		t.Errorf("import health after the fix = %+v", h)
	}
}

func TestReloadRemovesAndAddsModuleComponents(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, declared)
	started(t, rt)
	eventually(t, "sum runs", func() bool {
		_, _, runs, _, _ := f.latest(t, "adder.x/test.node.sum").state()
		return runs == 1
	})
	// The declare loses "constant"; the instance is renamed.
	src := strings.Replace(declared, "test.node \"constant\" {\n\t\tinput = 5\n\t}", "", 1)
	src = strings.Replace(src, `adder "x"`, `adder "y"`, 1)
	src = strings.Replace(src, `adder.x.sum`, `adder.y.sum`, 1)
	load(t, rt, src)
	if _, _, _, stopped, running := f.latest(t, "adder.x/test.node.sum").state(); running || stopped != 1 {
		t.Errorf("the old instance's component is still running")
	}
	if _, ok := rt.Component("adder.x/test.node.sum"); ok {
		t.Error("the old instance is still listed")
	}
	if got := output(t, rt, "test.node.dst"); got != 101 {
		t.Errorf("dst = %d, want 101", got)
	}
	eventually(t, "the new instance's component runs", func() bool {
		_, _, runs, _, _ := f.latest(t, "adder.y/test.node.sum").state()
		return runs == 1
	})
}

func TestImportedModuleSeesOnlyItself(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	mod := `
declare "inner" {
	export "out" { value = 3 }
}
declare "outer" {
	inner "i" { }
	export "out" { value = inner.i.out }
}
`
	load(t, rt, fmt.Sprintf(`
import.string "lib" {
	content = %q
}
lib.outer "o" { }
test.node "dst" {
	input = lib.outer.o.out
}
`, mod))
	if got := output(t, rt, "test.node.dst"); got != 3 {
		t.Fatalf("dst = %d, want 3", got)
	}
	// A module's declare cannot use the importer's declares.
	err := rt.Load("cfg.alloy", []byte(fmt.Sprintf(`
declare "mine" { export "out" { value = 1 } }
import.string "lib" {
	content = %q
}
lib.d "o" { }
`, `declare "d" { mine "m" { } }`)))
	if err == nil || !strings.Contains(err.Error(), `import.string.lib:1:15: cannot find the definition of component name "mine"`) {
		t.Fatalf("Load = %v", err)
	}
}

// A block whose check depends on argument values is checked when the
// values are known, not at validation, where they are not.
func TestArgumentDependentValidationWaitsForValues(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, `
declare "d" {
	argument "size" { }
	test.req "r" {
		needed = "x"
		inner {
			size = argument.size.value
		}
	}
}
d "x" { size = 3 }
`)
	if err := rt.Load("cfg.alloy", []byte(`
declare "d" {
	argument "size" { }
	test.req "r" {
		inner {
			size = argument.size.value
		}
	}
}
d "x" { size = 3 }
`)); err == nil || !strings.Contains(err.Error(), `cfg.alloy:4:2: missing required attribute "needed"`) {
		t.Fatalf("Load = %v, want the missing attribute reported all the same", err)
	}
}

// An import of the file is in scope inside its declares; new content
// reaches the instances nested in them.
func TestImportUsedInsideADeclare(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	cfg := func(factor int) string {
		return fmt.Sprintf(`
import.string "lib" {
	content = "declare \"mul\" {\n argument \"x\" { }\n export \"y\" { value = argument.x.value * %d }\n}"
}
declare "wrap" {
	argument "x" { }
	lib.mul "m" {
		x = argument.x.value
	}
	test.node "keep" {
		input = 1
	}
	export "y" { value = lib.mul.m.y }
}
wrap "w" {
	x = 4
}
test.node "dst" {
	input = wrap.w.y
}
`, factor)
	}
	load(t, rt, cfg(2))
	if got := output(t, rt, "test.node.dst"); got != 8 {
		t.Fatalf("dst = %d, want 8", got)
	}
	info, _ := rt.Component("wrap.w")
	if len(info.ReferencesTo) != 1 || info.ReferencesTo[0] != "import.string.lib" {
		t.Errorf("the instance references %v, want the import it uses inside", info.ReferencesTo)
	}
	load(t, rt, cfg(3))
	if got := output(t, rt, "test.node.dst"); got != 12 {
		t.Fatalf("dst = %d after the module changed, want 12", got)
	}
	if f.builds("wrap.w/test.node.keep") != 1 {
		t.Error("an unchanged component of the instance was rebuilt")
	}
	if _, ok := rt.Component("wrap.w/lib.mul.m"); !ok {
		t.Error("the nested instance of the imported declare is not listed")
	}
}

func TestModulesSeedLoads(t *testing.T) {
	src, err := os.ReadFile("testdata/validate/modules.alloy")
	if err != nil {
		t.Fatal(err)
	}
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	load(t, rt, string(src))
	if got := output(t, rt, "test.node.dst"); got != 6 {
		t.Fatalf("dst = %d, want 6", got)
	}
}

// An import inside a declare body takes its content from an argument, and
// a module may import modules of its own.
func TestImportsInsideDeclaresAndModules(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	inner := "declare \"five\" {\n\texport \"out\" { value = 5 }\n}\n"
	outer := fmt.Sprintf("import.string \"in\" {\n\tcontent = %q\n}\ndeclare \"d\" {\n\tin.five \"f\" { }\n\texport \"out\" { value = in.five.f.out + 1 }\n}\n", inner)
	load(t, rt, fmt.Sprintf(`
declare "wrap" {
	argument "src" { }
	import.string "m" {
		content = argument.src.value
	}
	m.d "x" { }
	export "y" { value = m.d.x.out }
}
wrap "w" {
	src = %q
}
test.node "dst" {
	input = wrap.w.y
}
`, outer))
	if got := output(t, rt, "test.node.dst"); got != 6 {
		t.Fatalf("dst = %d, want 6", got)
	}
	if _, ok := rt.Component("wrap.w/m.d.x/in.five.f"); !ok {
		t.Error("the instance of the nested module's declare is not listed")
	}
	if _, ok := rt.Component("wrap.w/import.string.m"); !ok {
		t.Error("the import inside the declare is not listed")
	}
}
