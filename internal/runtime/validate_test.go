package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateReportsEveryProblemAtItsPosition(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every diagnostic, in order
	}{
		{
			name: "unknown component, with a suggestion",
			src:  "test.nod \"a\" {}\n",
			want: []string{`cfg.alloy:1:1: unknown component "test.nod"; did you mean "test.node"?`},
		},
		{
			name: "unknown component without a close name",
			src:  "\n  foo.bar.baz \"a\" {}\n",
			want: []string{`cfg.alloy:2:3: unknown component "foo.bar.baz"`},
		},
		{
			name: "duplicate label names the first declaration",
			src:  "test.node \"x\" {}\n\ntest.node \"x\" {\n  input = 2\n}\n",
			want: []string{`cfg.alloy:3:1: component "test.node.x" already declared at cfg.alloy:1:1`},
		},
		{
			name: "missing label",
			src:  "test.node {\n}\n",
			want: []string{`cfg.alloy:1:1: component "test.node" must have a label`},
		},
		{
			name: "label that is not an identifier",
			src:  "test.node \"a-b\" {}\n",
			want: []string{`cfg.alloy:1:11: expected block label to be a valid identifier, but got "a-b"`},
		},
		{
			name: "unknown attribute",
			src:  "test.node \"a\" {\n  inptu = 1\n}\n",
			want: []string{`cfg.alloy:2:3: unrecognized attribute name "inptu"`},
		},
		{
			name: "missing required attribute is reported at the block",
			src:  "test.req \"a\" {\n}\n",
			want: []string{`cfg.alloy:1:1: missing required attribute "needed"`},
		},
		{
			name: "type mismatch",
			src:  "test.node \"a\" {\n  input = \"three\"\n}\n",
			want: []string{`cfg.alloy:2:11: "three" should be number, got string`},
		},
		{
			name: "type mismatch inside a nested block",
			src:  "test.req \"a\" {\n  needed = \"x\"\n  inner {\n    size = true\n  }\n}\n",
			want: []string{`cfg.alloy:4:12: true should be number, got bool`},
		},
		{
			name: "bad duration",
			src:  "test.node \"a\" {\n  interval = \"5 minutes\"\n}\n",
			want: []string{`cfg.alloy:2:14: invalid duration "5 minutes"`},
		},
		{
			name: "reference to a component that does not exist",
			src:  "test.node \"a\" {\n  input = test.node.b.output\n}\n",
			want: []string{`cfg.alloy:2:11: component "test.node.b.output" does not exist or is out of scope`},
		},
		{
			name: "reference to an export that does not exist",
			src:  "test.node \"a\" {}\ntest.node \"b\" {\n  input = test.node.a.outptu\n}\n",
			want: []string{`cfg.alloy:3:23: field "outptu" does not exist`},
		},
		{
			name: "cycle names every member with its position",
			src: "test.node \"a\" {\n  input = test.node.c.output\n}\n" +
				"test.node \"b\" {\n  input = test.node.a.output\n}\n" +
				"test.node \"c\" {\n  input = test.node.b.output\n}\n" +
				"test.node \"d\" {\n  input = test.node.a.output\n}\n",
			want: []string{`cfg.alloy:1:1: reference cycle between components test.node.a (cfg.alloy:1:1), test.node.b (cfg.alloy:4:1), test.node.c (cfg.alloy:7:1)`},
		},
		{
			name: "self reference",
			src:  "test.node \"a\" {\n  input = test.node.a.output\n}\n",
			want: []string{`cfg.alloy:1:1: component test.node.a (cfg.alloy:1:1) references itself`},
		},
		{
			name: "attribute at the top level",
			src:  "input = 1\n",
			want: []string{`cfg.alloy:1:1: unexpected attribute "input" at the top level: only blocks are allowed here`},
		},
		{
			name: "globals: label, duplicate, bad values",
			src:  "logging \"x\" {}\nlogging {\n  level = \"loud\"\n}\nhttp {\n  tls {\n    min_version = \"TLS9\"\n  }\n}\n",
			want: []string{
				`cfg.alloy:1:9: block "logging" does not take a label`,
				`cfg.alloy:2:1: block "logging" already declared at cfg.alloy:1:1`,
				`cfg.alloy:6:3: unknown TLS version "TLS9", want one of TLS10, TLS11, TLS12, TLS13`,
			},
		},
		{
			name: "syntax error",
			src:  "test.node \"a\" {\n  input = [1 2]\n}\n",
			want: []string{`cfg.alloy:2:13: missing ',' in expression list`},
		},
		{
			name: "all errors are reported, not only the first",
			src: "test.node \"a\" {\n  input = \"x\"\n}\n" +
				"test.nope \"b\" {}\n" +
				"test.node \"c\" {\n  input = test.node.zz.output\n  bogus = 1\n}\n",
			want: []string{
				`cfg.alloy:2:11: "x" should be number, got string`,
				`cfg.alloy:4:1: unknown component "test.nope"; did you mean "test.node"?`,
				`cfg.alloy:6:11: component "test.node.zz.output" does not exist or is out of scope`,
				`cfg.alloy:7:3: unrecognized attribute name "bogus"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := New(Options{Registry: newFakes().registry()})
			diags := rt.Validate("cfg.alloy", []byte(tt.src))
			var got []string
			for _, d := range diags {
				got = append(got, d.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("diagnostics:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestValidateAcceptsAGoodConfig(t *testing.T) {
	src := `
// Comments and globals are fine.
logging {
	level  = "debug"
	format = "json"
}

test.node "a" {
	input    = 1
	interval = "1m30s"
}

test.node "b" {
	inputs = [test.node.a.output, encoding.from_json(coalesce(sys.env("NOPE_NOT_SET"), "2")) * 2]
}

test.req "r" {
	needed = string.format("%d", test.node.b.output)
	inner {
		size = 3
	}
}
`
	rt := New(Options{Registry: newFakes().registry()})
	if diags := rt.Validate("cfg.alloy", []byte(src)); len(diags) > 0 {
		t.Fatalf("unexpected diagnostics: %v", diags)
	}
}

func TestValidateDoesNotBuildAnything(t *testing.T) {
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	if diags := rt.Validate("cfg.alloy", []byte(`test.node "a" { input = 1 }`)); len(diags) > 0 {
		t.Fatal(diags)
	}
	if f.builds("test.node.a") != 0 || rt.Loaded() || len(rt.Components()) != 0 {
		t.Fatal("Validate built or loaded components")
	}
}

func readDocExamples(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/alloy-doc-examples/*.alloy")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

func TestValidateDoesNotJudgeValuesOnlyKnownAtRunTime(t *testing.T) {
	// With a's exports at their zero value, b's expressions would divide
	// by zero and index out of range; with a's real output they are fine.
	src := `
test.node "a" { input = 2 }
test.node "b" {
	input  = 10 / test.node.a.output
	inputs = [[1, 2, 3][test.node.a.output], encoding.from_json(string.format("%d", test.node.a.output))]
}
`
	f := newFakes()
	rt := New(Options{Registry: f.registry()})
	if diags := rt.Validate("cfg.alloy", []byte(src)); len(diags) > 0 {
		t.Fatalf("unexpected diagnostics: %v", diags)
	}
	load(t, rt, src)
	if got := output(t, rt, "test.node.b"); got != 5+3+2 {
		t.Fatalf("b output = %d, want 10", got)
	}
	// Type errors next to a reference are still reported.
	diags := rt.Validate("cfg.alloy", []byte(`
test.node "a" {}
test.node "b" { input = "x" + test.node.a.output }
`))
	if len(diags) != 1 || !strings.HasPrefix(diags[0].Error(), "cfg.alloy:3:31: test.node.a.output should be string, got number") {
		t.Fatalf("diagnostics = %v, want one at the operand", diags)
	}
}
