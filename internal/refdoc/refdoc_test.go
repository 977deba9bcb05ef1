package refdoc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/agent"
	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/component/all"
)

var update = flag.Bool("update", false, "rewrite docs/reference.md from the code")

// reference renders the whole generated reference.
func reference(t *testing.T) []byte {
	var b bytes.Buffer
	head, err := os.ReadFile("testdata/head.md")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(head)
	b.WriteString("\n## Flags of `shoal run`\n\n")
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var a agent.Config
	a.RegisterFlags(fs)
	c := cluster.DefaultConfig()
	c.NodeName = "" // the hostname of the machine that generated the file
	c.RegisterFlags(fs)
	Flags(&b, fs)
	b.WriteString("\n`--cluster.node-name` defaults to the hostname.\n")
	b.WriteString("\n## Components\n\n")
	b.WriteString("Generated from the code: each component's arguments with their types and defaults, its blocks, and its exports.\n\n")
	Components(&b, all.Registry())
	return b.Bytes()
}

// The committed reference must say what the code says.
func TestReferenceIsUpToDate(t *testing.T) {
	got := reference(t)
	path := filepath.Join("..", "..", "docs", "reference.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/refdoc -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/reference.md is stale; run: go test ./internal/refdoc -update")
	}
}

// Every component and every run flag appears in the reference, with the
// defaults users rely on.
func TestReferenceNamesEverything(t *testing.T) {
	got := string(reference(t))
	for _, name := range all.Registry().Names() {
		if !strings.Contains(got, "### "+name+"\n") {
			t.Errorf("component %s is missing", name)
		}
	}
	for _, want := range []string{
		"| `--server.http.listen-addr` | `127.0.0.1:12345` |",
		"| `--storage.path` | `data-shoal/` |",
		"| `--cluster.rejoin-interval` | `1m0s` |",
		"| `scrape_interval` | duration | `\"1m\"` | no |",
		"| `remote_timeout` | duration | `\"30s\"` | no |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("reference lacks %q", want)
		}
	}
}
