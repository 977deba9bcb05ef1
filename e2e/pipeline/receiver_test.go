package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestRealReceiverHasEveryTickOfEveryTarget runs shoal against Debian's
// Prometheus for two minutes over 100 targets and reads the result back
// through PromQL: every target is up with every one of its series, a minute
// of `up` holds exactly the ticks of that minute, lab_scrapes_total (the
// target's own count of the scrapes it served) matches the targets' logs,
// and over the whole run every served scrape is stored.
func TestRealReceiverHasEveryTickOfEveryTarget(t *testing.T) {
	long(t)
	t.Parallel()
	const (
		nTargets = 100
		nSeries  = 10
		interval = 2 * time.Second
		run      = 2 * time.Minute
	)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	prom := lab.StartPrometheus(t)
	ts := startTargets(t, nTargets, nSeries)
	cfg := config{
		Files:    []string{ts.FileSD()},
		Interval: interval,
		Timeout:  interval / 2,
		URL:      prom.RemoteWriteURL(),
	}
	_, node := startNode(ctx, t, cfg.String)
	start := time.Now()
	offsets := gridOffsets(ctx, t, node, nTargets, interval)

	// The run ends when every target has served a scrape two minutes on.
	if err := waitServed(ctx, ts, ts.Addrs(), 1, start.Add(run)); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	log := ts.Log()
	ivl := interval.Milliseconds()
	// servedBy counts, per target, the scrapes whose tick is at or before
	// ms: lab_scrapes_total at ms must say the same.
	servedBy := func(ms int64) map[string]int {
		out := map[string]int{}
		for _, s := range log {
			if tickOf(s.Time.UnixMilli(), ivl, offsets[s.Addr]) <= ms {
				out[s.Addr]++
			}
		}
		return out
	}

	// A moment well inside the run, after the first scrapes settled and
	// long before the end.
	at := start.Add(90 * time.Second).Truncate(time.Millisecond)
	atMs := at.UnixMilli()
	served := servedBy(atMs)
	endMs := end.Add(-interval).UnixMilli()
	servedEnd := servedBy(endMs)

	var problems []string
	var exact, offByOne int
	qctx, qcancel := context.WithTimeout(ctx, 45*time.Second)
	defer qcancel()
	err := lab.WaitFor(qctx, func() bool {
		problems = problems[:0]
		exact, offByOne = 0, 0
		q := func(promql string, when time.Time) model.Vector {
			v, err := prom.Query(qctx, promql, when)
			if err != nil {
				problems = append(problems, err.Error())
			}
			return v
		}
		byInstance := func(v model.Vector) map[string]float64 {
			out := map[string]float64{}
			for _, s := range v {
				out[string(s.Metric["instance"])] = float64(s.Value)
			}
			return out
		}

		up := byInstance(q(`up{job="lab"}`, at))
		perTarget := byInstance(q(`count by (instance) ({job="lab"})`, at))
		minute := byInstance(q(`count_over_time(up{job="lab"}[1m])`, at))
		scrapes := byInstance(q(`lab_scrapes_total{job="lab"}`, at))
		whole := byInstance(q(fmt.Sprintf(`count_over_time(up{job="lab"}[%ds])`, int(end.Sub(start).Seconds())+30), time.UnixMilli(endMs)))
		for _, addr := range ts.Addrs() {
			if v, ok := up[addr]; !ok || v != 1 {
				problems = append(problems, fmt.Sprintf("%s: up = %v (present %v), want 1", addr, v, ok))
			}
			if got, want := int(perTarget[addr]), seriesPerScrape(nSeries); got != want {
				problems = append(problems, fmt.Sprintf("%s: %d series, want %d", addr, got, want))
			}
			want := ticksIn(atMs-time.Minute.Milliseconds(), atMs, ivl, offsets[addr])
			switch got := int(minute[addr]); {
			case got == want:
				exact++
			case got == want-1 || got == want+1:
				offByOne++
			default:
				problems = append(problems, fmt.Sprintf("%s: count_over_time(up[1m]) = %d, want the %d ticks of that minute", addr, got, want))
			}
			if got, want := int(scrapes[addr]), served[addr]; got != want {
				problems = append(problems, fmt.Sprintf("%s: lab_scrapes_total = %d, the target served %d scrapes by then", addr, got, want))
			}
			if got, want := int(whole[addr]), servedEnd[addr]; got != want {
				problems = append(problems, fmt.Sprintf("%s: %d up samples over the run, the target served %d scrapes", addr, got, want))
			}
		}
		// Each name appears once per target (twice five times for the
		// lab's own series).
		names := q(`count by (__name__) ({job="lab"})`, at)
		want := map[string]int{"lab_scrapes_total": nTargets, "lab_requests_total": nTargets * nSeries / 2, "lab_temperature_celsius": nTargets * nSeries / 2}
		for _, r := range reportSeries {
			want[r] = nTargets
		}
		got := map[string]int{}
		for _, s := range names {
			got[string(s.Metric["__name__"])] = int(s.Value)
		}
		for name, w := range want {
			if got[name] != w {
				problems = append(problems, fmt.Sprintf("%d series named %s, want %d", got[name], name, w))
			}
		}
		if len(got) != len(want) {
			problems = append(problems, fmt.Sprintf("series names %v, want %v", got, want))
		}
		return len(problems) == 0
	})
	t.Logf("run %s over %d targets × %d series at %s: %d scrapes served; at %s: count_over_time(up[1m]) exact for %d targets, ±1 for %d",
		end.Sub(start).Round(time.Second), nTargets, seriesPerScrape(nSeries), interval, len(log), at.Format("15:04:05.000"), exact, offByOne)
	if err != nil {
		t.Fatalf("PromQL does not show every tick of every target (%d problems):\n%s", len(problems), strings.Join(problems[:min(len(problems), 20)], "\n"))
	}
	rejected := metric(ctx, t, node, "shoal_remote_write_rejected_samples_total")
	sent := metric(ctx, t, node, "prometheus_remote_storage_samples_total")
	t.Logf("shoal sent %.0f samples, %.0f rejected", sent, rejected)
	if rejected != 0 {
		t.Errorf("Prometheus rejected %.0f samples of a steady run", rejected)
	}
}

// probeTarget serves ooo_probe with an explicit timestamp beside ten good
// series without one. Until Regress is called each scrape's probe carries
// the scrape's own time; after, every probe carries a timestamp 30 s older
// than the first one, which Prometheus must refuse as out of order.
type probeTarget struct {
	srv *httptest.Server

	mu       sync.Mutex
	firstTS  int64
	regress  bool
	served   []time.Time
	regressN int // scrapes served before Regress
}

func startProbeTarget(t *testing.T) *probeTarget {
	p := &probeTarget{}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *probeTarget) serve(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	p.mu.Lock()
	p.served = append(p.served, now)
	n := len(p.served)
	if p.firstTS == 0 {
		p.firstTS = now.UnixMilli()
	}
	probeV, probeTS := float64(n), now.UnixMilli()
	if p.regress {
		probeV, probeTS = float64(1000+n), p.firstTS-30_000
	}
	p.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "# TYPE ooo_probe gauge\nooo_probe %g %d\n# TYPE ooo_good gauge\n", probeV, probeTS)
	for i := range 10 {
		fmt.Fprintf(&b, "ooo_good{series=\"%d\"} %d\n", i, n*10+i)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte(b.String()))
}

// Regress makes every later probe older than what Prometheus holds.
func (p *probeTarget) Regress() {
	p.mu.Lock()
	p.regress = true
	p.regressN = len(p.served)
	p.mu.Unlock()
}

// Served returns the arrival times of the scrapes so far and how many came
// before Regress.
func (p *probeTarget) Served() (all []time.Time, before int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.served...), p.regressN
}

// TestOutOfOrderSampleCostsOnlyItself has Prometheus (whose remote-write
// receiver refuses a whole request for one out-of-order sample) receive,
// at every scrape, one sample older than the series' newest beside the
// scrape's good ones: with retry_on_http_400_by_bisection on, every good
// sample is stored, the old probe never is,
// and shoal counts each refusal as out_of_order.
func TestOutOfOrderSampleCostsOnlyItself(t *testing.T) {
	t.Parallel()
	const interval = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	prom := lab.StartPrometheus(t)
	probe := startProbeTarget(t)
	addr := strings.TrimPrefix(probe.srv.URL, "http://")
	sd := filepath.Join(t.TempDir(), "probe.json")
	if err := os.WriteFile(sd, []byte(fmt.Sprintf(`[{"targets": [%q]}]`, addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config{
		Files:    []string{sd},
		Interval: interval,
		Timeout:  interval / 2,
		URL:      prom.RemoteWriteURL(),
		Scrape:   "  honor_timestamps = true",
		// Prometheus' 1.0 handler rejects a request whole, so the good
		// samples beside a bad one are delivered only with the opt-in
		// bisection; by default the request is dropped and counted.
		Endpoint: "    retry_on_http_400_by_bisection = true\n    queue_config {\n      batch_send_deadline = \"500ms\"\n    }",
	}
	_, node := startNode(ctx, t, cfg.String)

	// Prometheus must hold a newer probe before older ones arrive: within
	// one request its TSDB would drop the older sample silently instead of
	// refusing the request.
	err := lab.WaitFor(ctx, func() bool {
		v, err := prom.Query(ctx, `ooo_probe`, time.Time{})
		return err == nil && len(v) == 1
	})
	if err != nil {
		t.Fatalf("Prometheus never stored the first probe: %v", err)
	}
	probe.Regress()
	// Watch at least five scrapes with a regressed probe.
	if err := lab.WaitFor(ctx, func() bool { all, before := probe.Served(); return len(all)-before >= 5 }); err != nil {
		t.Fatal(err)
	}
	all, before := probe.Served()
	// A scrape may start up to 50ms before its tick and is stamped with
	// the tick (the wake quantum), so the last one's samples are stamped
	// just after it was served; the next one's a second later.
	last := all[len(all)-1].Add(100 * time.Millisecond)
	k := len(all)
	regressed := k - before

	var problems []string
	var rejected float64
	var goodSeries int
	err = lab.WaitFor(ctx, func() bool {
		problems = problems[:0]
		good, err := prom.Query(ctx, `count_over_time(ooo_good[10m])`, last)
		if err != nil {
			problems = append(problems, err.Error())
			return false
		}
		goodSeries = len(good)
		if len(good) != 10 {
			problems = append(problems, fmt.Sprintf("%d ooo_good series, want 10", len(good)))
		}
		for _, s := range good {
			if int(s.Value) != k {
				problems = append(problems, fmt.Sprintf("%s: %v samples, the target served %d scrapes", s.Metric, s.Value, k))
			}
		}
		up, err := prom.Query(ctx, `count_over_time(up{job="lab"}[10m])`, last)
		if err != nil || len(up) != 1 || int(up[0].Value) != k {
			problems = append(problems, fmt.Sprintf("up: %v (%v), want %d samples", up, err, k))
		}
		rejected, _, err = node.Metric(ctx, "shoal_remote_write_rejected_samples_total", "reason", "out_of_order")
		if err != nil {
			problems = append(problems, err.Error())
		} else if int(rejected) < regressed {
			problems = append(problems, fmt.Sprintf("shoal counted %v out-of-order rejections, want at least the %d regressed probes served", rejected, regressed))
		}
		return len(problems) == 0
	})
	if err != nil {
		t.Fatalf("the good samples beside an out-of-order one did not all arrive: %v\n%s", err, strings.Join(problems, "\n"))
	}
	// The probe holds only the values served before the regression.
	probes, err := prom.Query(ctx, `count_over_time(ooo_probe[10m])`, time.Time{})
	if err != nil || len(probes) != 1 {
		t.Fatalf("ooo_probe: %v, %v", probes, err)
	}
	maxProbe, err := prom.Query(ctx, `max_over_time(ooo_probe[10m])`, time.Time{})
	if err != nil || len(maxProbe) != 1 {
		t.Fatalf("max ooo_probe: %v, %v", maxProbe, err)
	}
	if int(probes[0].Value) != before || float64(maxProbe[0].Value) >= 1000 {
		t.Errorf("Prometheus holds %v probes up to %v; want the %d served before the regression, all below 1000", probes[0].Value, maxProbe[0].Value, before)
	}
	all, _ = probe.Served()
	if int(rejected) > len(all)-before {
		t.Errorf("shoal counted %v out-of-order rejections, more than the %d regressed probes ever served", rejected, len(all)-before)
	}
	other, _, _ := node.Metric(ctx, "shoal_remote_write_rejected_samples_total")
	failed, _, _ := node.Metric(ctx, "prometheus_remote_storage_samples_failed_total")
	promOOO, _ := prom.SelfMetric(ctx, "prometheus_tsdb_out_of_order_samples_total")
	t.Logf("%d scrapes (%d with a regressed probe): %d good series × %d samples stored; shoal rejected_samples_total{out_of_order} %.0f (all reasons %.0f), samples_failed_total %.0f; Prometheus out_of_order_samples_total %.0f",
		k, regressed, goodSeries, k, rejected, other, failed, promOOO)
	if other != rejected {
		t.Errorf("rejections for other reasons than out_of_order: %.0f of %.0f", other-rejected, other)
	}
}
