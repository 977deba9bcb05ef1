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
