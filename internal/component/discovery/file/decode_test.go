package file

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestDocExampleDecodes(t *testing.T) {
	// From Alloy's docs, discovery.file-2.alloy.
	src := `
discovery.file "example" {
  files = ["/tmp/example.json"]
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.file", nil, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Files) != 1 || a.Files[0] != "/tmp/example.json" || a.RefreshInterval != 5*time.Minute {
		t.Fatalf("decoded %+v", a)
	}
}

func TestDecodeErrors(t *testing.T) {
	var a Arguments
	err := discoverytest.Decode(t, `discovery.file "x" { files = ["/a/t.txt"] }`, "discovery.file", nil, &a)
	if err == nil {
		t.Fatal("a .txt file was accepted")
	}
	err = discoverytest.Decode(t, `discovery.file "x" { refresh_interval = "1m" }`, "discovery.file", nil, &a)
	if err == nil {
		t.Fatal("a block without files was accepted")
	}
}
