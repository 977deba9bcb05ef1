package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// inFlight is how long before a kill -9 a scrape may have been served
// without shoal having appended it yet: the target logs a scrape when the
// request arrives, shoal appends when the body is read and parsed.
const inFlight = 500 * time.Millisecond

// outageRun is a durability scenario: the receiver answers 503 from the
// start, shoal is killed with SIGKILL half way and started again on the
// same --storage.path, then the receiver recovers.
type outageRun struct {
	targets  *lab.Targets
	rx       *lab.Receiver
	node     *lab.Node
	offsets  map[string]int64
	interval time.Duration
	series   int

	start, kill, restart, recovered time.Time
	// droppedBeforeKill is the first process's drop counter just before
	// the kill (a counter dies with its process).
	droppedBeforeKill float64
	rss               []rssSample
}

// runOutage runs the scenario with the given wal block (empty for the
// default bounds), each half lasting phase.
func runOutage(ctx context.Context, t *testing.T, wal string, nTargets int, phase time.Duration) *outageRun {
	t.Helper()
	const interval = 2 * time.Second
	const nSeries = 10
	rx, err := lab.StartReceiver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rx.Close)
	rx.Outage(time.Hour)
	ts := startTargets(t, nTargets, nSeries)
	cfg := config{
		Files:    []string{ts.FileSD()},
		Interval: interval,
		Timeout:  interval / 2,
		URL:      rx.URL(),
		Endpoint: "    queue_config {\n      min_backoff = \"50ms\"\n      max_backoff = \"500ms\"\n      batch_send_deadline = \"1s\"\n    }",
	}
	if wal != "" {
		cfg.RemoteWrite = "  wal {\n    " + wal + "\n  }"
	}
	_, node := startNode(ctx, t, cfg.String)
	r := &outageRun{targets: ts, rx: rx, node: node, interval: interval, series: seriesPerScrape(nSeries), start: time.Now()}
	sampler := sampleRSS(node, 250*time.Millisecond)
	defer func() {
		// Memory is judged over the outage only, while the backlog grows.
		for _, s := range sampler.Stop() {
			if s.At.Before(r.recovered) {
				r.rss = append(r.rss, s)
			}
		}
	}()
	r.offsets = gridOffsets(ctx, t, node, nTargets, interval)
	ticks := int(phase / interval)
	if err := waitServed(ctx, ts, ts.Addrs(), ticks, r.start); err != nil {
		t.Fatal(err)
	}
	r.droppedBeforeKill = metric(ctx, t, node, "prometheus_remote_storage_samples_dropped_total")
	queued := metric(ctx, t, node, "shoal_remote_write_queue_bytes")
	r.kill = time.Now()
	if err := node.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := node.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	r.restart = time.Now()
	if err := waitServed(ctx, ts, ts.Addrs(), ticks, r.restart); err != nil {
		t.Fatal(err)
	}
	r.recovered = time.Now()
	rx.EndOutage()
	t.Logf("outage %s with kill -9 at +%s (queue %s on disk then), restart ready at +%s; %d requests refused with 503",
		r.recovered.Sub(r.start).Round(time.Millisecond), r.kill.Sub(r.start).Round(time.Millisecond), mib(int64(queued)),
		r.restart.Sub(r.start).Round(time.Millisecond), rx.Stats().Unavailable)
	return r
}

// nearKill reports whether a scrape arrived so shortly before the kill
// that shoal may not have appended it.
func (r *outageRun) nearKill(s lab.Scrape) bool {
	return !s.Time.Before(r.kill.Add(-inFlight)) && !s.Time.After(r.kill)
}

// TestDiskQueueSurvivesOutageAndKill checks that every scrape served while
// shoal was running reaches the receiver, through a 503 outage and a
// kill -9 with the backlog only on disk, and that with a small max_size
// the queue drops (and counts) the oldest data while memory stays flat.
func TestDiskQueueSurvivesOutageAndKill(t *testing.T) {
	long(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t.Run("unbounded", func(t *testing.T) {
		r := runOutage(ctx, t, "", 50, 12*time.Second)
		var d delivery
		err := lab.WaitFor(ctx, func() bool {
			log := scrapesOf(r.targets.Log(), r.targets.Addrs(), r.start, r.recovered)
			d = checkDelivered(log, r.offsets, r.interval, arrivals(r.rx), r.series, r.nearKill)
			return d.Complete == d.Checked
		})
		log := scrapesOf(r.targets.Log(), r.targets.Addrs(), r.start, r.recovered)
		near := checkDelivered(log, r.offsets, r.interval, arrivals(r.rx), r.series, func(s lab.Scrape) bool { return !r.nearKill(s) })
		st := r.rx.Stats()
		first, second := halves(r.rss)
		t.Logf("served while shoal ran: %s; within %s before the kill: %s; receiver: %d samples accepted, %d identical resends, %d out of order; RSS max %s then %s",
			d, inFlight, near, st.Accepted, st.IdenticalDuplicates, st.OutOfOrder, mib(first), mib(second))
		if err != nil || d.Checked == 0 {
			t.Fatalf("not every scrape arrived: %s\n%s", d, strings.Join(d.Examples, "\n"))
		}
		if dropped := metric(ctx, t, r.node, "prometheus_remote_storage_samples_dropped_total"); dropped != 0 || r.droppedBeforeKill != 0 {
			t.Errorf("the default bounds dropped %.0f samples before the kill and %.0f after", r.droppedBeforeKill, dropped)
		}
		if st.OutOfOrder != 0 || st.Duplicates != 0 {
			t.Errorf("the replay reached the receiver out of order (%d) or with conflicting duplicates (%d)", st.OutOfOrder, st.Duplicates)
		}
	})

	t.Run("bounded", func(t *testing.T) {
		const maxSize = 256 << 10
		r := runOutage(ctx, t, fmt.Sprintf("max_size = \"%dKiB\"", maxSize>>10), 50, 20*time.Second)
		// Everything served after the recovery goes through at once.
		if err := waitServed(ctx, r.targets, r.targets.Addrs(), 4, r.recovered); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		var d delivery
		err := lab.WaitFor(ctx, func() bool {
			log := scrapesOf(r.targets.Log(), r.targets.Addrs(), r.recovered.Add(r.interval), after)
			d = checkDelivered(log, r.offsets, r.interval, arrivals(r.rx), r.series, nil)
			return d.Checked > 0 && d.Complete == d.Checked
		})
		t.Logf("after the recovery: %s, all there %s after it", d, time.Since(r.recovered).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("after the recovery: %s\n%s", d, strings.Join(d.Examples, "\n"))
		}
		during := checkDelivered(scrapesOf(r.targets.Log(), r.targets.Addrs(), r.start, r.recovered), r.offsets, r.interval, arrivals(r.rx), r.series, r.nearKill)
		lostScrapes := during.Missing + during.Partial
		droppedAfter := metric(ctx, t, r.node, "prometheus_remote_storage_samples_dropped_total")
		queueFull := metric(ctx, t, r.node, "prometheus_remote_storage_samples_dropped_total", "reason", "queue_full")
		dropped := r.droppedBeforeKill + droppedAfter
		// The samples lost are those of scrapes that never arrived, whole
		// or in part.
		lost := 0
		got := arrivals(r.rx)
		for _, s := range scrapesOf(r.targets.Log(), r.targets.Addrs(), r.start, r.recovered) {
			if r.nearKill(s) {
				continue
			}
			n := got[s.Addr][tickOf(s.Time.UnixMilli(), r.interval.Milliseconds(), r.offsets[s.Addr])]
			lost += r.series - min(n, r.series)
		}
		first, second := halves(r.rss)
		t.Logf("max_size %d KiB: during the outage %s; %d samples lost; dropped_total %.0f before the kill + %.0f after (%.0f of them queue_full); RSS max %s in the first half of the outage, %s in the second (%d samples)",
			maxSize>>10, during, lost, r.droppedBeforeKill, droppedAfter, queueFull, mib(first), mib(second), len(r.rss))
		if queueFull == 0 || lostScrapes == 0 {
			t.Fatalf("the bound was never reached: %.0f samples dropped as queue_full, %d scrapes lost", queueFull, lostScrapes)
		}
		if float64(lost) > dropped*1.1+float64(r.series) {
			t.Errorf("%d samples were lost but only %.0f counted as dropped", lost, dropped)
		}
		if second > first*3/2 {
			t.Errorf("memory grew with the backlog: RSS max %s in the second half, over 1.5× the first half's %s", mib(second), mib(first))
		}
	})
}
