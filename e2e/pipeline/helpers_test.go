package pipeline

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// component is the prometheus.scrape component every config here defines.
const component = "prometheus.scrape.lab"

// reportSeries are the series shoal adds to every scrape.
var reportSeries = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added"}

// seriesPerScrape is how many series one scrape of a lab target with n
// series yields: its own, lab_scrapes_total and the report series.
func seriesPerScrape(n int) int { return n + 1 + len(reportSeries) }

// config is a single-node configuration: discovery.file over Files, one
// prometheus.scrape "lab", and prometheus.remote_write "rx" to URL.
type config struct {
	Files    []string
	Interval time.Duration
	Timeout  time.Duration
	URL      string
	// Scrape, Endpoint and RemoteWrite are extra lines inside the
	// prometheus.scrape block, the endpoint block and the
	// prometheus.remote_write block.
	Scrape, Endpoint, RemoteWrite string
	// Extra is appended at the top level.
	Extra string
}

func (c config) String() string {
	files := make([]string, len(c.Files))
	for i, f := range c.Files {
		files[i] = fmt.Sprintf("%q", f)
	}
	return fmt.Sprintf(`discovery.file "targets" {
  files = [%s]
}

prometheus.scrape "lab" {
  targets         = discovery.file.targets.targets
  forward_to      = [prometheus.remote_write.rx.receiver]
  job_name        = "lab"
  scrape_interval = %q
  scrape_timeout  = %q
%s
}

prometheus.remote_write "rx" {
  endpoint {
    url = %q
%s
  }
%s
}
%s`, strings.Join(files, ", "), c.Interval.String(), c.Timeout.String(), c.Scrape, c.URL, c.Endpoint, c.RemoteWrite, c.Extra)
}

// startNode starts one `shoal run` without clustering whose config file is
// written from cfg at each start, waits until it is ready, and kills it when
// the test ends (printing its log if the test failed).
func startNode(ctx context.Context, t *testing.T, cfg func() string) (*lab.Fleet, *lab.Node) {
	t.Helper()
	f, err := lab.NewFleet(ctx, lab.FleetConfig{
		NoCluster:  true,
		NamePrefix: "pipeline",
		Config:     func(string) string { return cfg() },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("shoal log:\n%s", f.Logs(60))
		}
		f.Close()
	})
	n, err := f.Add(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return f, n
}

// startTargets starts lab targets and stops them when the test ends.
func startTargets(t *testing.T, n, series int, opts ...lab.TargetOption) *lab.Targets {
	t.Helper()
	ts, err := lab.StartTargets(n, series, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Close)
	return ts
}

// gridOffsets waits until the node's debug info lists want targets and
// returns each one's grid offset (ms into the interval) by instance.
func gridOffsets(ctx context.Context, t *testing.T, n *lab.Node, want int, interval time.Duration) map[string]int64 {
	t.Helper()
	var (
		out     map[string]int64
		lastErr error
	)
	err := lab.WaitFor(ctx, func() bool {
		st, err := n.ScrapeStatus(ctx, component)
		if err != nil {
			lastErr = err
			return false
		}
		out = map[string]int64{}
		for _, s := range st {
			off, err := lab.GridOffset(s.Key, interval)
			if err != nil {
				lastErr = err
				return false
			}
			out[instanceOf(s)] = off
		}
		return len(out) >= want
	})
	if err != nil {
		t.Fatalf("debug info of %s lists %d targets, want %d: %v (last error: %v)", component, len(out), want, err, lastErr)
	}
	return out
}

// instanceOf is a target's instance label, or the host of its URL.
func instanceOf(s lab.TargetStatus) string {
	if i := s.Labels["instance"]; i != "" {
		return i
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return s.URL
	}
	return u.Host
}

// tickOf is the grid tick a scrape that arrived at ms served: the nearest
// grid point, since a scrape starts at its tick and a tick that cannot
// start within half an interval is skipped.
func tickOf(ms, intervalMs, offset int64) int64 {
	n := (ms - offset + intervalMs/2) / intervalMs
	return n*intervalMs + offset
}

// ticksIn counts the grid ticks in [from, to], both ends included.
func ticksIn(from, to, intervalMs, offset int64) int {
	first := from + ((offset-from)%intervalMs+intervalMs)%intervalMs
	if first > to {
		return 0
	}
	return int((to-first)/intervalMs) + 1
}

// arrivals indexes what the receiver accepted: instance → timestamp →
// number of series with a sample (not a staleness marker) at it.
func arrivals(rx *lab.Receiver) map[string]map[int64]int {
	out := map[string]map[int64]int{}
	for _, s := range rx.Series() {
		inst := s.Labels.Get("instance")
		m := out[inst]
		if m == nil {
			m = map[int64]int{}
			out[inst] = m
		}
		for _, p := range s.Points {
			if !p.Stale() {
				m[p.T]++
			}
		}
	}
	return out
}

// delivery is how the scrapes a target log holds showed up at a receiver.
type delivery struct {
	Checked  int // scrapes checked
	Complete int // with every series at their tick
	Partial  int // with some series at their tick
	Missing  int // with none
	Examples []string
}

func (d delivery) String() string {
	return fmt.Sprintf("%d scrapes checked: %d complete, %d partial, %d missing", d.Checked, d.Complete, d.Partial, d.Missing)
}

// checkDelivered matches every scrape of scrapes (skipping those skip
// says to) with the receiver's samples at its tick: a scrape is complete
// when all series of its target arrived with the tick's timestamp.
func checkDelivered(scrapes []lab.Scrape, offsets map[string]int64, interval time.Duration, got map[string]map[int64]int, series int, skip func(lab.Scrape) bool) delivery {
	var d delivery
	ivl := interval.Milliseconds()
	for _, s := range scrapes {
		if skip != nil && skip(s) {
			continue
		}
		off, ok := offsets[s.Addr]
		if !ok {
			continue
		}
		d.Checked++
		tick := tickOf(s.Time.UnixMilli(), ivl, off)
		switch n := got[s.Addr][tick]; {
		case n >= series:
			d.Complete++
		case n > 0:
			d.Partial++
			if len(d.Examples) < 5 {
				d.Examples = append(d.Examples, fmt.Sprintf("%s tick %s: %d of %d series", s.Addr, time.UnixMilli(tick).Format("15:04:05.000"), n, series))
			}
		default:
			d.Missing++
			if len(d.Examples) < 5 {
				d.Examples = append(d.Examples, fmt.Sprintf("%s tick %s (served %s): nothing arrived", s.Addr, time.UnixMilli(tick).Format("15:04:05.000"), s.Time.Format("15:04:05.000")))
			}
		}
	}
	return d
}

// scrapesOf keeps the scrapes of the given targets served in [from, to).
func scrapesOf(log []lab.Scrape, addrs []string, from, to time.Time) []lab.Scrape {
	want := map[string]bool{}
	for _, a := range addrs {
		want[a] = true
	}
	var out []lab.Scrape
	for _, s := range log {
		if want[s.Addr] && !s.Time.Before(from) && s.Time.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// waitServed waits until each of the targets at addrs has served at least
// n scrapes since since.
func waitServed(ctx context.Context, ts *lab.Targets, addrs []string, n int, since time.Time) error {
	var short []string
	err := lab.WaitFor(ctx, func() bool {
		count := map[string]int{}
		for _, s := range ts.Log() {
			if !s.Time.Before(since) {
				count[s.Addr]++
			}
		}
		short = short[:0]
		for _, a := range addrs {
			if count[a] < n {
				short = append(short, a)
			}
		}
		return len(short) == 0
	})
	if err != nil {
		return fmt.Errorf("%d targets served fewer than %d scrapes since %s (e.g. %v): %w", len(short), n, since.Format("15:04:05.000"), short[:min(len(short), 3)], err)
	}
	return nil
}

// rssSampler reads a node's resident memory at a fixed period, following
// the node across restarts.
type rssSampler struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	samples []rssSample
}

type rssSample struct {
	At  time.Time
	RSS int64
}

func sampleRSS(n *lab.Node, every time.Duration) *rssSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &rssSampler{cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if pid := n.Pid(); pid > 0 {
				if u, err := lab.ProcessUsage(pid); err == nil && u.RSS > 0 {
					s.mu.Lock()
					s.samples = append(s.samples, rssSample{At: time.Now(), RSS: u.RSS})
					s.mu.Unlock()
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the samples.
func (s *rssSampler) Stop() []rssSample {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples
}

// halves returns the largest RSS of the first and of the second half of
// the samples' time span.
func halves(samples []rssSample) (first, second int64) {
	if len(samples) == 0 {
		return 0, 0
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].At.Before(samples[j].At) })
	mid := samples[0].At.Add(samples[len(samples)-1].At.Sub(samples[0].At) / 2)
	for _, s := range samples {
		if s.At.Before(mid) {
			first = max(first, s.RSS)
		} else {
			second = max(second, s.RSS)
		}
	}
	return first, second
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// metric reads a counter or gauge from the node's /metrics, failing the
// test when it cannot be read.
func metric(ctx context.Context, t *testing.T, n *lab.Node, name string, pairs ...string) float64 {
	t.Helper()
	v, _, err := n.Metric(ctx, name, pairs...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
