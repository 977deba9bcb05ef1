package pipeline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// badKinds are the misbehaving targets, one of each, and a word of the
// error a user should see for each on the component page.
var badKinds = []struct {
	kind lab.Kind
	want []string // any of these, case-insensitive
}{
	{lab.KindRefuse, []string{"reset", "eof", "refused"}},
	{lab.KindSleep, []string{"deadline", "timeout", "timed out"}},
	{lab.KindError, []string{"500"}},
	{lab.KindOversized, []string{"limit"}},
	{lab.KindEndless, []string{"limit", "deadline", "timeout"}},
	{lab.KindGzipBomb, []string{"limit"}},
}

// garbageBody is no exposition format. The lab's KindGarbage body starts
// with a NUL byte, which Prometheus' text lexer (and so shoal, like
// Prometheus itself) reads as the end of input: an empty, healthy scrape.
// This one is garbage from its first byte.
const garbageBody = "{{{ this is not { an exposition format\n}}}\xff\xfe metric{=\"\n"

// garbageTarget serves garbageBody as Prometheus text and counts the
// scrapes it served.
type garbageTarget struct {
	srv    *httptest.Server
	served atomic.Int64
}

func startGarbageTarget(t *testing.T) *garbageTarget {
	g := &garbageTarget{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		g.served.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, garbageBody)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *garbageTarget) Addr() string { return strings.TrimPrefix(g.srv.URL, "http://") }

// TestAdversarialTargetsAreDownWithTheirError scrapes one target of each
// misbehaving kind beside healthy ones: each bad target is up == 0 at the
// receiver at every tick, with its error on the component page, shoal's
// memory stays small (the gzip bomb inflates to 1 GiB), and the healthy
// neighbours keep every tick with every sample.
func TestAdversarialTargetsAreDownWithTheirError(t *testing.T) {
	long(t)
	t.Parallel()
	const (
		interval = 2 * time.Second
		nSeries  = 10
		nHealthy = 13
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rx, err := lab.StartReceiver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	ts := startTargets(t, len(badKinds)+nHealthy, nSeries, lab.WithKind(func(i int) lab.Kind {
		if i < len(badKinds) {
			return badKinds[i].kind
		}
		return lab.KindNormal
	}))
	garbage := startGarbageTarget(t)
	garbageSD := filepath.Join(t.TempDir(), "garbage.json")
	if err := os.WriteFile(garbageSD, []byte(fmt.Sprintf(`[{"targets": [%q]}]`, garbage.Addr())), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config{
		Files:    []string{ts.FileSD(), garbageSD},
		Interval: interval,
		Timeout:  interval / 2,
		URL:      rx.URL(),
		Scrape:   "  body_size_limit = \"1MiB\"",
		Endpoint: "    queue_config {\n      batch_send_deadline = \"1s\"\n    }",
	}
	_, node := startNode(ctx, t, cfg.String)
	offsets := gridOffsets(ctx, t, node, ts.Len()+1, interval)
	if err := waitServed(ctx, ts, ts.Addrs(), 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	if err := waitServed(ctx, ts, ts.Addrs(), 8, from); err != nil {
		t.Fatal(err)
	}
	to := time.Now().Add(-interval)
	healthy := ts.Addrs()[len(badKinds):]

	// The component page shows each bad target down with its error.
	status, err := node.ScrapeStatus(ctx, component)
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[string]lab.TargetStatus{}
	for _, s := range status {
		byAddr[instanceOf(s)] = s
	}
	for i, bk := range badKinds {
		addr := ts.Addr(i)
		st, ok := byAddr[addr]
		if !ok {
			t.Errorf("%s target %s is not on the component page", bk.kind, addr)
			continue
		}
		t.Logf("%-9s health %s, last_error %q", bk.kind, st.Health, st.LastError)
		if st.Health != "down" || st.LastError == "" {
			t.Errorf("%s target: health %q, last_error %q; want down with an error", bk.kind, st.Health, st.LastError)
		} else if !containsAny(st.LastError, bk.want) {
			t.Errorf("%s target: last_error %q names none of %q", bk.kind, st.LastError, bk.want)
		}
	}
	if st := byAddr[garbage.Addr()]; st.Health != "down" || !containsAny(st.LastError, []string{"parse", "invalid", "unexpected", "expected"}) {
		t.Errorf("garbage target: health %q, last_error %q; want down with a parse error", st.Health, st.LastError)
	} else {
		t.Logf("%-9s health %s, last_error %q", "garbage", st.Health, st.LastError)
	}
	for _, addr := range healthy {
		if st := byAddr[addr]; st.Health != "up" || st.LastError != "" {
			t.Errorf("healthy target %s: health %q, last_error %q", addr, st.Health, st.LastError)
		}
	}

	// At the receiver, each bad target has up == 0 at every tick it was
	// tried, and nothing else but the report series.
	ivl := interval.Milliseconds()
	err = lab.WaitFor(ctx, func() bool {
		for i := range badKinds {
			ups := rx.Lookup("__name__", "up", "instance", ts.Addr(i))
			if len(ups) != 1 {
				return false
			}
			at := map[int64]bool{}
			for _, p := range ups[0].Points {
				at[p.T] = true
			}
			for _, s := range scrapesOf(ts.Log(), []string{ts.Addr(i)}, from, to) {
				if !at[tickOf(s.Time.UnixMilli(), ivl, offsets[s.Addr])] {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		t.Errorf("not every tick of the bad targets reached the receiver as up: %v", err)
	}
	type bad struct {
		name  string
		addr  string
		tried int
	}
	var bads []bad
	for i, bk := range badKinds {
		bads = append(bads, bad{bk.kind.String(), ts.Addr(i), len(ts.Scrapes(i))})
	}
	bads = append(bads, bad{"garbage", garbage.Addr(), int(garbage.served.Load())})
	for _, bk := range bads {
		addr := bk.addr
		var ups, nonZero int
		for _, s := range rx.Lookup("instance", addr) {
			name := s.Labels.Get("__name__")
			if !slices.Contains(reportSeries, name) {
				t.Errorf("%s target %s: series %s arrived from a failed scrape", bk.name, addr, s.Labels)
			}
			if name != "up" {
				continue
			}
			for _, p := range s.Points {
				ups++
				if p.V != 0 {
					nonZero++
				}
			}
		}
		t.Logf("%-9s %d scrapes tried, %d up samples, %d not 0", bk.name, bk.tried, ups, nonZero)
		if ups == 0 || nonZero != 0 {
			t.Errorf("%s target: %d up samples of which %d are not 0; want up == 0", bk.name, ups, nonZero)
		}
	}

	// The healthy neighbours: every tick, once, delivered whole.
	rep := lab.Compute(lab.Observation{Scenario: "adversarial neighbours", Interval: interval, From: from, To: to, Targets: healthy, Scrapes: ts.Log(), Offsets: offsets, Receiver: rx.ByInstance()})
	t.Logf("healthy neighbours:\n%s", rep)
	if rep.Expected == 0 || rep.Missed != 0 || rep.Doubled != 0 {
		t.Errorf("healthy neighbours: %d ticks expected, %d missed, %d doubled", rep.Expected, rep.Missed, rep.Doubled)
	}
	var d delivery
	err = lab.WaitFor(ctx, func() bool {
		d = checkDelivered(scrapesOf(ts.Log(), healthy, from, to), offsets, interval, arrivals(rx), seriesPerScrape(nSeries), nil)
		return d.Checked > 0 && d.Complete == d.Checked
	})
	t.Logf("healthy neighbours delivered: %s", d)
	if err != nil {
		t.Errorf("healthy neighbours: %s\n%s", d, strings.Join(d.Examples, "\n"))
	}

	u, err := lab.ProcessUsage(node.Pid())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shoal peak RSS %s, CPU %s over %s", mib(u.PeakRSS), u.CPU, time.Since(from).Round(time.Second))
	if u.PeakRSS > 256<<20 {
		t.Errorf("shoal's peak RSS is %s: a hostile body was buffered", mib(u.PeakRSS))
	}
}

func containsAny(s string, words []string) bool {
	s = strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
