package pipeline

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// postReload sends POST /-/reload and returns the status and body.
func postReload(ctx context.Context, t *testing.T, f *lab.Fleet, n *lab.Node) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL("/-/reload"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.Client().Do(req)
	if err != nil {
		t.Fatalf("POST /-/reload: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// lineOf is the 1-based line of the first marker in text at or after
// byte from.
func lineOf(t *testing.T, text, marker string, from int) int {
	t.Helper()
	i := strings.Index(text[from:], marker)
	if i >= 0 {
		i += from
	}
	if i < 0 {
		t.Fatalf("%q is not in the config", marker)
	}
	return strings.Count(text[:i], "\n") + 1
}

// position finds "config.alloy:LINE:COL" in an error text.
var position = regexp.MustCompile(`config\.alloy:(\d+):(\d+)`)

// expectPosition checks that msg names the config file at line want (and
// column col when col > 0).
func expectPosition(t *testing.T, what, msg string, want, col int) {
	t.Helper()
	m := position.FindStringSubmatch(msg)
	if m == nil {
		t.Errorf("%s: the error does not name config.alloy:line:col:\n%s", what, msg)
		return
	}
	line, _ := strconv.Atoi(m[1])
	c, _ := strconv.Atoi(m[2])
	if line != want || (col > 0 && c != col) {
		t.Errorf("%s: the error points at %s:%s, want line %d col %d:\n%s", what, m[1], m[2], want, col, msg)
	}
}

// TestReloadMissesNoTick reloads a running node with bad configs (a syntax
// error, an unknown attribute), by POST /-/reload and by SIGHUP, and with
// good ones that add a target file and change the remote_write queue: bad
// ones are refused with file:line:col and change nothing, good ones are
// applied, and through all of it the targets that stayed are scraped at
// every tick, once, with every sample delivered and no staleness marker.
func TestReloadMissesNoTick(t *testing.T) {
	long(t)
	t.Parallel()
	const (
		interval = 2 * time.Second
		nSeries  = 10
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rx, err := lab.StartReceiver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	ts := startTargets(t, 30, nSeries)
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "c.json")}
	ranges := [][2]int{{0, 20}, {20, 25}, {25, 30}}
	addrs := make([][]string, len(files))
	for i, f := range files {
		lo, hi := ranges[i][0], ranges[i][1]
		if err := ts.WriteFileSD(f, func(j int) bool { return j >= lo && j < hi }); err != nil {
			t.Fatal(err)
		}
		addrs[i] = ts.Addrs()[lo:hi]
	}
	base := config{
		Files:    files[:1],
		Interval: interval,
		Timeout:  interval / 2,
		URL:      rx.URL(),
		Endpoint: "    queue_config {\n      batch_send_deadline = \"1s\"\n    }",
	}
	fleet, node := startNode(ctx, t, base.String)
	offsets := gridOffsets(ctx, t, node, len(addrs[0]), interval)
	if err := waitServed(ctx, ts, addrs[0], 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	from := time.Now()

	// A syntax error: refused with 400 naming its place.
	bad := base.String() + "\nprometheus.relabel \"broken\" {\n  forward_to = [\n}\n"
	if err := node.WriteConfig(bad); err != nil {
		t.Fatal(err)
	}
	status, body := postReload(ctx, t, fleet, node)
	t.Logf("syntax error: POST /-/reload answered %d: %s", status, firstLine(body))
	if status != http.StatusBadRequest {
		t.Errorf("a config with a syntax error: POST /-/reload answered %d, want 400:\n%s", status, body)
	}
	expectPosition(t, "syntax error", body, lineOf(t, bad, "}\n", len(base.String())), 0)

	// An unknown attribute: refused with 400 naming its line and column.
	unknown := base
	unknown.Scrape = "  no_such_attribute = 1"
	if err := node.WriteConfig(unknown.String()); err != nil {
		t.Fatal(err)
	}
	status, body = postReload(ctx, t, fleet, node)
	t.Logf("unknown attribute: POST /-/reload answered %d: %s", status, firstLine(body))
	if status != http.StatusBadRequest {
		t.Errorf("a config with an unknown attribute: POST /-/reload answered %d, want 400:\n%s", status, body)
	}
	expectPosition(t, "unknown attribute", body, lineOf(t, unknown.String(), "no_such_attribute", 0), 3)

	// Both left the running config in place: a tick later the first
	// file's targets are still scraped.
	if err := waitServed(ctx, ts, addrs[0], 1, time.Now()); err != nil {
		t.Fatal(err)
	}

	// A good config adding a target file: applied.
	good := base
	good.Files = files[:2]
	if err := node.WriteConfig(good.String()); err != nil {
		t.Fatal(err)
	}
	if status, body = postReload(ctx, t, fleet, node); status != http.StatusOK {
		t.Fatalf("a good config: POST /-/reload answered %d, want 200:\n%s", status, body)
	}
	if err := waitServed(ctx, ts, addrs[1], 2, time.Now()); err != nil {
		t.Fatalf("the added file's targets are not scraped after the reload: %v", err)
	}

	// SIGHUP with an unknown attribute: refused, and the log says where.
	logStart := fileSize(node.LogPath)
	if err := node.WriteConfig(unknown.String()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(node.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var refused string
	err = lab.WaitFor(ctx, func() bool {
		refused = logLineSince(node.LogPath, logStart, "reload refused")
		return refused != ""
	})
	if err != nil {
		t.Fatalf("SIGHUP with a bad config: no \"reload refused\" in the log: %v", err)
	}
	t.Logf("SIGHUP with an unknown attribute: %s", refused)
	expectPosition(t, "SIGHUP unknown attribute", refused, lineOf(t, unknown.String(), "no_such_attribute", 0), 3)

	// SIGHUP with a good config adding the third file and changing the
	// remote_write queue: applied.
	hup := base
	hup.Files = files
	hup.Endpoint = "    queue_config {\n      batch_send_deadline = \"1s\"\n      max_samples_per_send = 500\n    }"
	if err := node.WriteConfig(hup.String()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(node.Pid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := waitServed(ctx, ts, addrs[2], 2, time.Now()); err != nil {
		t.Fatalf("the third file's targets are not scraped after SIGHUP: %v", err)
	}
	if err := waitServed(ctx, ts, addrs[0], 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	to := time.Now().Add(-interval)
	if !node.Running() {
		t.Fatalf("the node exited during the reloads: %v", node.ExitErr())
	}

	// The first file's targets: every tick across the four reloads,
	// scraped once, and delivered whole.
	rep := lab.Compute(lab.Observation{
		Scenario: "reload",
		Interval: interval,
		From:     from,
		To:       to,
		Targets:  addrs[0],
		Scrapes:  ts.Log(),
		Offsets:  offsets,
		Receiver: rx.ByInstance(),
	})
	t.Logf("targets kept through the reloads:\n%s", rep)
	if rep.Expected == 0 || rep.Missed != 0 || rep.Doubled != 0 {
		t.Errorf("across the reloads: %d ticks expected, %d missed, %d doubled; want none missed or doubled", rep.Expected, rep.Missed, rep.Doubled)
	}
	if rep.StaleMarkers != 0 {
		t.Errorf("%d staleness markers for targets that never left", rep.StaleMarkers)
	}
	var d delivery
	kept := scrapesOf(ts.Log(), addrs[0], from, to)
	err = lab.WaitFor(ctx, func() bool {
		d = checkDelivered(kept, offsets, interval, arrivals(rx), seriesPerScrape(nSeries), nil)
		return d.Checked > 0 && d.Complete == d.Checked
	})
	t.Logf("delivered: %s", d)
	if err != nil {
		t.Errorf("not every scrape across the reloads arrived: %s\n%s", d, strings.Join(d.Examples, "\n"))
	}

	// The added targets, from their first scrape on: no tick missed or
	// doubled either.
	all := gridOffsets(ctx, t, node, 30, interval)
	for i, name := range []string{"POST", "SIGHUP"} {
		added := addrs[i+1]
		first := to
		for _, s := range ts.Log() {
			if slices.Contains(added, s.Addr) && s.Time.Before(first) {
				first = s.Time
			}
		}
		later := lab.Compute(lab.Observation{Interval: interval, From: first.Add(interval), To: to, Targets: added, Scrapes: ts.Log(), Offsets: all})
		t.Logf("targets added by %s: %d ticks expected, %d missed, %d doubled", name, later.Expected, later.Missed, later.Doubled)
		if later.Missed != 0 || later.Doubled != 0 {
			t.Errorf("targets added by %s: %d missed, %d doubled", name, later.Missed, later.Doubled)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logLineSince returns the first line of the file after offset that holds
// substr, or "".
func logLineSince(path string, offset int64, substr string) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	for _, line := range bytes.Split(b[offset:], []byte("\n")) {
		if bytes.Contains(line, []byte(substr)) {
			return string(line)
		}
	}
	return ""
}
