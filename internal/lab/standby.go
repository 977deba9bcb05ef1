package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// The standby scenario is the crash scenario (kill -9 of one node) with
// replicas = 2 in the clustering block: every target has a hot standby.
// The scrape log then shows every tick scraped twice (the standby's
// scrapes), so what counts is what reached the receiver: ReceiverFigures.

// ReceiverFigures are the figures of a window as the receiver sees them,
// and the fleet's own counts of what the standbys did.
type ReceiverFigures struct {
	// Missed counts the grid ticks of the window with no `up` sample at
	// the receiver; Doubled the `up` samples beyond the first of a tick
	// (a TSDB keeps one, so it is 0 with Prometheus: doubled ticks show
	// as duplicate rejects instead).
	Missed, Doubled int
	// Samples is the number of samples stored for the window, and
	// PerTick that divided by the ticks expected: the receiver's load.
	Samples int
	PerTick float64
	// From the surviving nodes' metrics: ticks scraped as standby, ticks
	// a standby sent from its buffer at a takeover, and the samples the
	// receiver rejected as duplicates or out of order.
	StandbyTicks, TakeoverTicks         int
	DuplicateRejects, OutOfOrderRejects int
	// MissedAt names up to ten missed ticks, target@time.
	MissedAt []string
}

// String is one line per figure.
func (f ReceiverFigures) String() string {
	return fmt.Sprintf("  receiver missed  %d ticks without an up sample\n"+
		"  receiver doubled %d up samples beyond one a tick\n"+
		"  receiver load    %d samples, %.1f a tick\n"+
		"  standby ticks    %d scraped, %d sent at a takeover\n"+
		"  rejected         %d duplicate, %d out of order (counted by the nodes)\n",
		f.Missed, f.Doubled, f.Samples, f.PerTick, f.StandbyTicks, f.TakeoverTicks, f.DuplicateRejects, f.OutOfOrderRejects) +
		missedLine(f.MissedAt)
}

func missedLine(at []string) string {
	if len(at) == 0 {
		return ""
	}
	return "  missed at        " + strings.Join(at, " ") + "\n"
}

// ReceiverFigures computes rep's window as the sink saw it.
func (r *Rig) ReceiverFigures(ctx context.Context, rep Report) ReceiverFigures {
	var f ReceiverFigures
	ivl := rep.Interval.Milliseconds()
	from, to := rep.From.UnixMilli(), rep.To.UnixMilli()
	// The window's last ticks may still be on their way: wait (bounded)
	// until every target's last tick before To is in, or past.
	var by map[string]InstanceStats
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	_ = WaitFor(wctx, func() bool {
		by = r.sink().ByInstanceBetween(rep.From, rep.To)
		for _, tf := range rep.PerTarget {
			last := firstTickAtOrAfter(to, ivl, tf.Offset) - ivl
			ups := by[tf.Addr].UpTimes
			if last >= from && (len(ups) == 0 || slices.Max(ups) < last-ivl/4) {
				return false
			}
		}
		return true
	})
	cancel()
	expected := 0
	for _, tf := range rep.PerTarget {
		st := by[tf.Addr]
		f.Samples += st.Accepted
		// The samples carry the grid time exactly; the offset derived
		// from the scrape log may be off by the wake quantum.
		off := tf.Offset
		if len(st.UpTimes) > 0 {
			off = mod(st.UpTimes[0], ivl)
		}
		seen := map[int64]int{}
		for _, t := range st.UpTimes {
			seen[tickOf(t, ivl, off)]++
		}
		for t := firstTickAtOrAfter(from, ivl, off); t < to; t += ivl {
			expected++
			switch c := seen[t]; {
			case c == 0:
				f.Missed++
				if len(f.MissedAt) < 10 {
					f.MissedAt = append(f.MissedAt, tf.Addr+"@"+time.UnixMilli(t).UTC().Format("15:04:05.000"))
				}
			case c > 1:
				f.Doubled += c - 1
			}
		}
	}
	if expected > 0 {
		f.PerTick = float64(f.Samples) / float64(expected)
	}
	metric := func(name string, pairs ...string) int {
		sum := 0.0
		for _, n := range r.Fleet.Running() {
			if v, found, err := n.Metric(ctx, name, pairs...); err == nil && found {
				sum += v
			}
		}
		return int(sum)
	}
	f.StandbyTicks = metric("shoal_scrape_standby_ticks_total")
	f.TakeoverTicks = metric("shoal_scrape_standby_takeover_batches_total")
	f.DuplicateRejects = metric("shoal_remote_write_rejected_samples_total", "reason", "duplicate")
	f.OutOfOrderRejects = metric("shoal_remote_write_rejected_samples_total", "reason", "out_of_order")
	return f
}

// replicasLine is the clustering block's replicas attribute, when set.
func (r *Rig) replicasLine() string {
	if r.Opts.Replicas < 2 {
		return ""
	}
	return fmt.Sprintf("    replicas = %d\n", r.Opts.Replicas)
}

// PrometheusSink is a Sink over a real Prometheus server: it reads the
// samples back with its query API. Rejects are not counted per instance
// (Prometheus keeps no such count); ReceiverFigures takes them from the
// nodes.
type PrometheusSink struct{ P *Prometheus }

// URL is the remote write endpoint.
func (s PrometheusSink) URL() string { return s.P.RemoteWriteURL() }

// ByInstance reads the last ten minutes.
func (s PrometheusSink) ByInstance() map[string]InstanceStats {
	now := time.Now()
	return s.ByInstanceBetween(now.Add(-10*time.Minute), now.Add(time.Second))
}

// ByInstanceBetween reads the samples stamped in [from, to).
func (s PrometheusSink) ByInstanceBetween(from, to time.Time) map[string]InstanceStats {
	out := map[string]InstanceStats{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lo, hi := from.UnixMilli(), to.UnixMilli()
	rng := fmt.Sprintf("[%dms]", hi-lo+1)
	at := time.UnixMilli(hi - 1)
	// Every series' raw samples: count_over_time would drop the names
	// and collide.
	all, err := s.P.rangeSelect(ctx, `{instance!=""}`+rng, at)
	if err != nil {
		return out
	}
	for _, ss := range all {
		inst := string(ss.Metric["instance"])
		up := ss.Metric["__name__"] == "up"
		st := out[inst]
		st.Series++
		for _, p := range ss.Values {
			t := int64(p.Timestamp)
			if t < lo || t >= hi {
				continue
			}
			st.Accepted++
			if up {
				st.UpTimes = append(st.UpTimes, t)
			}
		}
		out[inst] = st
	}
	return out
}

// rangeSelect evaluates a range selector at time at and returns its raw
// samples.
func (p *Prometheus) rangeSelect(ctx context.Context, sel string, at time.Time) (model.Matrix, error) {
	params := url.Values{"query": {sel}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	r, err := p.api(ctx, "/api/v1/query", params)
	if err != nil {
		return nil, err
	}
	if r.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("lab: %q gave a %s, not a matrix", sel, r.Data.ResultType)
	}
	var m model.Matrix
	if err := json.Unmarshal(r.Data.Result, &m); err != nil {
		return nil, fmt.Errorf("lab: %q: %w", sel, err)
	}
	return m, nil
}

var _ Sink = PrometheusSink{}

// standbyName is the scenario's name in ScenarioNames.
const standbyName = "standby"

func isCrash(name string) bool { return name == "crash" || name == standbyName }
