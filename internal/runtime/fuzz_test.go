package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzValidate feeds arbitrary files to Validate against the test registry:
// it must never panic, and every diagnostic must carry a position in the
// file. Seeds are the files of testdata/validate/ and the Alloy examples.
func FuzzValidate(f *testing.F) {
	for _, dir := range []string{"testdata/validate", "testdata/alloy-doc-examples"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.alloy"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	rt := New(Options{Registry: newFakes().registry()})
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, d := range rt.Validate("fuzz.alloy", src) {
			if d.StartPos.Filename != "fuzz.alloy" || !d.StartPos.IsValid() {
				t.Fatalf("diagnostic without a position: %q", d.Error())
			}
		}
	})
}

// FuzzModule feeds arbitrary module content to an import.string: loading
// must never panic, and a module that fails must name a position in the
// module's file.
func FuzzModule(f *testing.F) {
	paths, _ := filepath.Glob("testdata/modules/*.alloy")
	paths = append(paths, "testdata/validate/modules.alloy")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("declare \"d\" {\n\targument \"a\" { }\n\texport \"e\" { value = argument.a.value }\n}\n"))
	reg := newFakes().registry()
	f.Fuzz(func(t *testing.T, src []byte) {
		rt := New(Options{Registry: reg})
		p, diags := rt.compileModule(map[string][]byte{"mod.alloy": src})
		if p == nil && !diags.HasErrors() {
			t.Fatal("a module was refused without an error")
		}
		for _, d := range diags {
			if d.StartPos.Filename != "mod.alloy" || !d.StartPos.IsValid() {
				t.Fatalf("diagnostic without a position in the module: %q", d.Error())
			}
		}
	})
}
