package demo

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/runtime"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

func TestParseCommandReadsWhatUsersType(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Command
	}{
		{"", Command{Op: OpSummary}},
		{"   ", Command{Op: OpSummary}},
		{"k 2", Command{Op: OpKill, Node: 2}},
		{"k2", Command{Op: OpKill, Node: 2}},
		{"K 2", Command{Op: OpKill, Node: 2}},
		{"kill node-2", Command{Op: OpKill, Node: 2}},
		{"  s 0 ", Command{Op: OpStop, Node: 0}},
		{"stop 1", Command{Op: OpStop, Node: 1}},
		{"r 1", Command{Op: OpRestart, Node: 1}},
		{"restart 12", Command{Op: OpRestart, Node: 12}},
		{"a", Command{Op: OpAdd}},
		{"add", Command{Op: OpAdd}},
		{"h", Command{Op: OpHelp}},
		{"?", Command{Op: OpHelp}},
		{"q", Command{Op: OpQuit}},
		{"quit", Command{Op: OpQuit}},
	} {
		got, err := ParseCommand(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

func TestParseCommandExplainsMistakes(t *testing.T) {
	for line, want := range map[string]string{
		"k":       "needs a node number",
		"kill x":  "not a node number",
		"k -1":    "not a node number",
		"a 3":     "takes no argument",
		"x":       "unknown command",
		"k 1 2":   "too many words",
		"explode": "type h for help",
	} {
		_, err := ParseCommand(line)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseCommand(%q) = %v, want an error saying %q", line, err, want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	// Seeds in testdata/fuzz/FuzzParseCommand, plus these.
	for _, s := range []string{"k 2", "kill node-1", "a", "r9999", "s 10000", "q x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := ParseCommand(line)
		if err != nil {
			return
		}
		// What parses prints back to a line that parses alike.
		again, err := ParseCommand(cmd.String())
		if err != nil || again != cmd {
			t.Fatalf("%q parsed as %+v, printed %q, reparsed as %+v, %v", line, cmd, cmd.String(), again, err)
		}
	})
}

func TestConfigIsValid(t *testing.T) {
	src := Config("/tmp/x y/targets.json", 2*time.Second, "http://127.0.0.1:9/api/v1/write")
	rt := runtime.New(runtime.Options{Registry: all.Registry()})
	if diags := rt.Validate("demo.alloy", []byte(src)); len(diags) > 0 {
		t.Fatalf("the demo's config does not validate: %v\n%s", diags, src)
	}
	if out, err := printer.Format("demo.alloy", []byte(src)); err != nil || string(out) != src {
		t.Errorf("the demo's config is not in shoal fmt's layout (%v):\n%s", err, out)
	}
	for _, want := range []string{`scrape_interval = "2s"`, `scrape_timeout  = "1s"`, `"/tmp/x y/targets.json"`, "enabled = true"} {
		if !strings.Contains(src, want) {
			t.Errorf("config lacks %s:\n%s", want, src)
		}
	}
}

func TestSummaryLineShowsNodesFiguresAndHandoff(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	s := Summary{
		At: at, Converged: true, From: at.Add(-21 * time.Second), To: at.Add(-time.Second),
		Nodes: []NodeStatus{
			{Name: "node-0", State: "up", Targets: 150},
			{Name: "node-1", State: "up", Targets: 150},
			{Name: "node-2", State: "killed"},
			{Name: "node-3", State: "joining"},
		},
		SamplesPerSecond: 2400.4,
		Missed:           97,
		Change:           &Change{Command: "k 2", Node: "node-2", At: at.Add(-10 * time.Second), Moved: 97, Missed: 97, LargestGap: 4 * time.Second, Settled: true},
	}
	want := `15:04:05  node-0 150  node-1 150  node-2 killed  node-3 joining 0  | 2,400 samples/s  | last 20s: 97 missed, 0 doubled  | since "k 2" at 15:03:55: 97 targets moved, 97 missed, 0 doubled, largest gap 4s (settled)`
	if got := s.String(); got != want {
		t.Errorf("summary line\n got %s\nwant %s", got, want)
	}
	s.Converged = false
	if got := s.String(); !strings.HasSuffix(got, "waiting for the fleet to converge") {
		t.Errorf("before convergence the line says %q", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -2500: "-2,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRateIsPerSecondOverTheLastTenSeconds(t *testing.T) {
	var r rate
	t0 := time.Unix(1000, 0)
	if got := r.add(t0, 0); got != 0 {
		t.Errorf("first reading gives %v, want 0", got)
	}
	acc := 0
	var got float64
	for i := 1; i <= 20; i++ {
		acc += 5000 // 1000/s for 5s
		if i == 10 {
			acc += 50000 // a burst long ago
		}
		got = r.add(t0.Add(time.Duration(i)*5*time.Second), acc)
	}
	if got != 1000 {
		t.Errorf("rate = %v, want 1000 once the burst left the window", got)
	}
}

func TestRunRefusesBadOptionsBeforeStartingAnything(t *testing.T) {
	in, _ := io.Pipe()
	parent := t.TempDir()
	err := Run(context.Background(), Options{Nodes: 100, Dir: parent, Input: in, Output: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "--nodes") {
		t.Fatalf("Run with 100 nodes = %v, want an error about --nodes", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("a refused demo left %d files", len(ents))
	}
	if _, err := in.Read(make([]byte, 1)); err == nil {
		t.Errorf("Run did not close its input")
	}
}
