package runtime_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/all"
	discoveryrelabel "github.com/shoal-dev/shoal/internal/component/discovery/relabel"
	"github.com/shoal-dev/shoal/internal/runtime"
)

// TestRealComponentsFollowTheirInputs runs discovery.file into
// discovery.relabel and checks that a change in the watched file flows
// through the graph: discovery exports new targets, the runtime
// re-evaluates the relabel, and the relabel exports them.
func TestRealComponentsFollowTheirInputs(t *testing.T) {
	dir := t.TempDir()
	targets := filepath.Join(dir, "targets.json")
	write := func(addrs ...string) {
		t.Helper()
		body := `[{"targets": [`
		for i, a := range addrs {
			if i > 0 {
				body += ","
			}
			body += fmt.Sprintf("%q", a)
		}
		body += `], "labels": {"team": "a"}}]`
		tmp := targets + ".tmp"
		if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, targets); err != nil {
			t.Fatal(err)
		}
	}
	write("127.0.0.1:1001", "127.0.0.1:9100")

	src := fmt.Sprintf(`
discovery.file "f" {
	files            = [%q]
	refresh_interval = "1s"
}

discovery.relabel "r" {
	targets = discovery.file.f.targets

	rule {
		source_labels = ["__address__"]
		regex         = ".*:9100"
		action        = "drop"
	}
}
`, targets)
	rt := runtime.New(runtime.Options{Registry: all.Registry(), DataPath: t.TempDir()})
	if err := rt.Load("pipeline.alloy", []byte(src)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	addresses := func() []string {
		info, ok := rt.Component("discovery.relabel.r")
		if !ok {
			return nil
		}
		var out []string
		for _, tg := range info.Exports.(discoveryrelabel.Exports).Output {
			out = append(out, tg["__address__"])
		}
		return out
	}
	waitFor(t, "the relabel exports the discovered target", func() bool {
		a := addresses()
		return len(a) == 1 && a[0] == "127.0.0.1:1001"
	})
	waitFor(t, "discovery is ready", rt.DiscoveryReady)

	write("127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:9100")
	waitFor(t, "the relabel follows the file", func() bool { return len(addresses()) == 2 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
