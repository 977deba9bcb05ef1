package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWritePlacementFuzzSeeds writes the fuzz seeds of
// FuzzPlacementMessages to testdata when SHOAL_WRITE_SEEDS is set.
func TestWritePlacementFuzzSeeds(t *testing.T) {
	if os.Getenv("SHOAL_WRITE_SEEDS") == "" {
		t.Skip("set SHOAL_WRITE_SEEDS=1 to rewrite the seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzPlacementMessages")
	seeds := map[string][]byte{
		"report": buildReport("node-1", 1765000000000, []loadEntry{{5, 500}, {3, 1}, {1 << 60, 40000}}).encode(),
		"plan": (&plan{planner: "node-0", version: 1765000000000, at: 1765000003000, names: []string{"node-0", "node-1"},
			weights: []uint32{weightOne, 3}, pins: []pin{{key: 4, node: 1, load: 900}, {key: 1 << 62, node: 0, load: 500}}}).encode(),
	}
	st := []byte{stateMagic, 2}
	for _, k := range []string{"report", "plan"} {
		st = append(st, byte(len(seeds[k])))
		st = append(st, seeds[k]...)
	}
	seeds["state"] = st
	for name, b := range seeds {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
