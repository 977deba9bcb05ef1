package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// handoffOptions choose the scenarios and size them; zero sizes take the
// lab's defaults (3 nodes, 300 targets of 10 series, 2 s interval).
type handoffOptions struct {
	lab       *lab.ScenarioOptions
	limit     time.Duration
	budget    time.Duration
	scenarios []string
	progress  io.Writer
}

func handoffFlags(fs *flag.FlagSet) *handoffOptions {
	o := &handoffOptions{lab: lab.RegisterFlags(fs)}
	fs.DurationVar(&o.limit, "limit", 3*time.Minute, "the longest one scenario may take")
	fs.DurationVar(&o.budget, "budget", 0, "the longest all scenarios together may take; those left when it is spent are recorded as skipped (0: no budget)")
	return o
}

// scenarioRun is one scenario's report, or why there is none.
type scenarioRun struct {
	name    string
	took    time.Duration
	report  lab.Report
	err     error
	skipped string
}

func runHandoff(ctx context.Context, w io.Writer, o handoffOptions) error {
	if len(o.scenarios) == 0 {
		o.scenarios = lab.ScenarioNames()
	}
	opts := *o.lab
	opts.Progress = o.progress
	var runs []scenarioRun
	begin := time.Now()
	for _, name := range o.scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := scenarioRun{name: name}
		limit := o.limit
		if o.budget > 0 {
			left := o.budget - time.Since(begin)
			// A scenario needs half a minute at least; starting one
			// that cannot finish would only record a timeout.
			if left < 30*time.Second {
				r.skipped = fmt.Sprintf("the time budget of %s was spent", o.budget)
				runs = append(runs, r)
				continue
			}
			limit = min(limit, left)
		}
		if name == "partition" {
			if err := lab.NetworkAvailable(); err != nil {
				r.skipped = err.Error()
				runs = append(runs, r)
				continue
			}
		}
		fmt.Fprintf(o.progress, "%s handoff: scenario %s\n", time.Now().Format("15:04:05"), name)
		sctx, cancel := context.WithTimeout(ctx, limit)
		start := time.Now()
		r.report, r.err = lab.RunScenario(sctx, name, opts)
		r.took = time.Since(start)
		cancel()
		if r.err != nil {
			fmt.Fprintf(o.progress, "handoff: %s failed: %v\n", name, r.err)
		} else {
			fmt.Fprint(o.progress, r.report.String())
		}
		runs = append(runs, r)
	}
	writeHandoff(w, opts, runs)
	return nil
}

func writeHandoff(w io.Writer, o lab.ScenarioOptions, runs []scenarioRun) {
	nodes, targets, series, interval, handoff := o.Nodes, o.Targets, o.Series, o.Interval, o.HandoffDelay
	if nodes == 0 {
		nodes = 3
	}
	if targets == 0 {
		targets = 300
	}
	if series == 0 {
		series = 10
	}
	if interval == 0 {
		interval = 2 * time.Second
	}
	if handoff == 0 {
		handoff = 2 * time.Second
	}
	mode := "all-or-nothing (Prometheus 2.x)"
	if o.Mode == lab.PartialAccept {
		mode = "partial accept (Mimir)"
	}
	fmt.Fprintf(w, "## 2. Handoff scenarios\n\n")
	fmt.Fprintf(w, "The lab's scenarios (internal/lab, the same as `go run ./cmd/lab SCENARIO`): %d real `shoal run` processes on loopback, %d targets of %d series, interval %s, `--cluster.handoff-delay=%s`, the counting receiver rejecting %s. "+
		"Each figure covers the scenario's window: the ticks whose grid time falls in it should each be scraped exactly once. "+
		"Missed and doubled count ticks from the targets' own logs; out-of-order, duplicates and staleness markers are counted at the receiver; balance is the largest node's share of targets over the mean (1.00 is perfect); moved is the targets whose owner changed, against the ideal for that change.\n\n",
		nodes, targets, series, interval, handoff, mode)
	t := table{header: []string{"scenario", "window", "ticks expected", "missed", "doubled", "largest gap", "out-of-order", "duplicates", "stale markers", "balance (targets per node)", "moved (ideal)", "took"}}
	var notes []string
	for _, r := range runs {
		switch {
		case r.skipped != "":
			t.add(r.name, "skipped: "+r.skipped)
			continue
		case r.err != nil:
			t.add(r.name, "failed: "+firstLines(r.err.Error(), 1), "", "", "", "", "", "", "", "", "", r.took.Round(time.Second).String())
			notes = append(notes, fmt.Sprintf("%s failed: %s", r.name, firstLines(r.err.Error(), 6)))
			continue
		}
		rep := r.report
		moved := "-"
		if rep.Moved > 0 || rep.IdealMoved > 0 {
			moved = fmt.Sprintf("%d (%d)", rep.Moved, rep.IdealMoved)
		}
		gap := rep.LargestGap.String()
		t.add(r.name,
			rep.To.Sub(rep.From).Round(100*time.Millisecond).String(),
			fmt.Sprint(rep.Expected),
			fmt.Sprint(rep.Missed),
			fmt.Sprint(rep.Doubled),
			gap,
			fmt.Sprint(rep.OutOfOrder),
			fmt.Sprint(rep.Duplicates),
			fmt.Sprint(rep.StaleMarkers),
			fmt.Sprintf("%.2f (%s)", rep.Balance, nodeCounts(rep.Nodes)),
			moved,
			r.took.Round(time.Second).String())
		if rep.Overlap > 0 || rep.Uncovered > 0 {
			notes = append(notes, fmt.Sprintf("%s: at the end %d targets were claimed by two nodes and %d by none", r.name, rep.Overlap, rep.Uncovered))
		}
		for _, n := range rep.Notes {
			notes = append(notes, r.name+": "+n)
		}
	}
	t.write(w)
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintf(w, "- %s\n", escapeCell(n))
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
	}
}

func nodeCounts(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%d", n, m[n]))
	}
	return strings.Join(parts, " ")
}
