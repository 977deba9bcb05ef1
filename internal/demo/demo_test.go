package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestDemoSplitsTargetsAndHandsOverAKilledNode runs the demo as `make
// demo` does, with its defaults (3 nodes, 300 targets, 2 s), and plays a
// newcomer: open the UI address it prints, check the cluster, watch a
// steady summary, type "k 2", and watch the summary report the handoff.
func TestDemoSplitsTargetsAndHandsOverAKilledNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a fleet of real shoal processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := lab.ShoalBinary(ctx)
	if err != nil {
		t.Fatal(err)
	}

	stdin, typed := io.Pipe()
	out := &lines{}
	summaries := make(chan Summary, 1000)
	parent := t.TempDir()
	o := Options{
		Binary: bin,
		Dir:    parent,
		Every:  time.Second,
		Input:  stdin,
		Output: out,
		OnSummary: func(s Summary) {
			select {
			case summaries <- s:
			default:
			}
		},
	}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
		if t.Failed() {
			t.Logf("the demo printed:\n%s", out.String())
		}
	}()
	typeLine := func(s string) {
		t.Helper()
		if _, err := io.WriteString(typed, s+"\n"); err != nil {
			t.Fatalf("typing %q: %v", s, err)
		}
	}

	// The first UI address answers within 90 s.
	uiRE := regexp.MustCompile(`UI (http://127\.0\.0\.1:\d+)/`)
	var ui string
	waitUntil(t, 90*time.Second, "a UI address printed", func() bool {
		if m := uiRE.FindStringSubmatch(out.String()); m != nil {
			ui = m[1]
			return true
		}
		return false
	})
	waitUntil(t, 30*time.Second, ui+"/api/v0/web/peers lists 3 nodes", func() bool {
		return len(peers(ui)) == 3
	})

	ivl := 2 * time.Second
	total := 300
	waitSummary(t, summaries, 90*time.Second, "a steady summary with 0 missed ticks", func(s Summary) bool {
		return s.Converged && s.To.Sub(s.From) >= 2*ivl && s.Missed == 0 && s.Doubled == 0 &&
			upTargets(s, "node-0", "node-1", "node-2") == total && s.Unowned == 0
	})

	typeLine("k 2")
	s := waitSummary(t, summaries, 60*time.Second, "the handoff of node-2's targets", func(s Summary) bool {
		c := s.Change
		return c != nil && c.Command == "k 2" && c.Settled &&
			s.Nodes[2].State == "killed" && s.Nodes[2].Targets == 0 &&
			upTargets(s, "node-0", "node-1") == total
	})
	c := s.Change
	t.Logf("after k 2: %s", s)
	if !strings.Contains(out.String(), "killed node-2") {
		t.Errorf("the demo did not confirm the kill")
	}
	if c.Moved == 0 || c.Moved == total {
		t.Errorf("%d targets moved; want node-2's share, not none or all", c.Moved)
	}
	// As the cluster's crash scenario bounds it: every moved target misses
	// at most the ticks of two intervals and half a second.
	perTarget := int(math.Ceil(float64(2*ivl+500*time.Millisecond) / float64(ivl)))
	if c.Missed > c.Moved*perTarget {
		t.Errorf("%d ticks missed after the kill, want at most %d (%d moved targets × %d)", c.Missed, c.Moved*perTarget, c.Moved, perTarget)
	}
	if c.Doubled != 0 {
		t.Errorf("%d ticks doubled after the kill, want 0", c.Doubled)
	}
	if len(peers(ui)) == 0 {
		t.Errorf("%s stopped answering after the kill", ui)
	}

	typeLine("q")
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not quit on q")
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("the demo left %d files in %s", len(ents), parent)
	}
	if _, err := http.Get(ui + "/-/healthy"); err == nil {
		t.Errorf("%s still answers after q", ui)
	}
}

func upTargets(s Summary, names ...string) int {
	n := 0
	for _, want := range names {
		for _, st := range s.Nodes {
			if st.Name == want && st.State == "up" {
				n += st.Targets
			}
		}
	}
	return n
}

func peers(ui string) []json.RawMessage {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(ui + "/api/v0/web/peers")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var ps []json.RawMessage
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&ps) != nil {
		return nil
	}
	return ps
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(100 * time.Millisecond) // polling a condition, with a deadline
	}
}

func waitSummary(t *testing.T, ch <-chan Summary, d time.Duration, what string, ok func(Summary) bool) Summary {
	t.Helper()
	timeout := time.After(d)
	var last Summary
	for {
		select {
		case s := <-ch:
			if ok(s) {
				return s
			}
			last = s
		case <-timeout:
			t.Fatalf("no summary showing %s within %s; the last: %s", what, d, last)
		}
	}
}

// lines collects what the demo prints.
type lines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
