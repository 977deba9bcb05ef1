package demo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// keepAtMost bounds how far back the scrape log and the receiver's points
// are kept, whatever a change still waits for.
const keepAtMost = 5 * time.Minute

// summary computes, prints and hands out one summary.
func (d *demo) summary(ctx context.Context) {
	s := d.compute(ctx)
	d.out.printf("%s", s.String())
	if d.o.OnSummary != nil {
		d.o.OnSummary(s)
	}
}

// compute derives a summary from the targets' scrape log and the
// receiver, as the lab's figures do, and forgets what no later summary
// needs.
func (d *demo) compute(ctx context.Context) Summary {
	ivl := d.o.Interval
	now := time.Now()
	to := now.Add(-d.lag)
	s := Summary{At: now, To: to}

	nodes := d.fleet.Nodes()
	running := map[string]bool{}
	ready := map[string]bool{}
	for _, n := range nodes {
		if n.Running() {
			running[n.Name] = true
			ready[n.Name] = d.ready(ctx, n)
		}
	}

	scrapes := d.targets.Log()
	addrs := d.targets.Addrs()
	last := latestOwners(scrapes, to.Add(-2*ivl), to)
	count := countByNode(last)
	s.Unowned = len(addrs) - len(last)

	d.mu.Lock()
	defer d.mu.Unlock()
	allReady := len(running) > 0
	for _, n := range nodes {
		st := NodeStatus{Name: n.Name, URL: n.URL("/"), Targets: count[n.Name]}
		switch {
		case running[n.Name] && ready[n.Name]:
			st.State = "up"
		case running[n.Name]:
			st.State, allReady = "joining", false
		case d.downWhy[n.Name] != "":
			st.State = d.downWhy[n.Name]
		default:
			st.State = "exited"
			if !d.reported[n.Name] {
				d.reported[n.Name] = true
				d.out.printf("%s exited on its own (%s); the end of its log:\n%s", n.Name, exitText(n.ExitErr()), n.LogTail(15))
			}
		}
		s.Nodes = append(s.Nodes, st)
	}

	recent := figures(ivl, addrs, scrapes, nil, to.Add(-2*ivl), to)
	if d.converged.IsZero() && allReady && steady(recent, running) {
		d.converged = to.Add(-2 * ivl)
		d.out.printf("shoal demo: the fleet converged: each target is scraped by exactly one node, at every tick")
	}

	s.SamplesPerSecond = d.rate.add(now, d.rx.Stats().Accepted)

	keep := now.Add(-2 * time.Minute)
	if !d.converged.IsZero() {
		s.Converged = true
		s.From = later(d.converged, to.Add(-d.o.Window))
		rep := figures(ivl, addrs, scrapes, d.rx.ByInstance(), s.From, to)
		s.Missed, s.Doubled = rep.Missed, rep.Doubled
		s.OutOfOrder, s.Duplicates = rep.OutOfOrder, rep.Duplicates
		keep = s.From.Add(-2 * ivl)
	}

	if c := d.change; c != nil {
		if !c.Settled && to.After(c.At) {
			rep := figures(ivl, addrs, scrapes, nil, c.At, to)
			c.Missed, c.Doubled, c.LargestGap = rep.Missed, rep.Doubled, rep.LargestGap
			c.Moved = lab.Moved(c.before, last)
			gained := !c.wantGain || c.gains != "" && count[c.gains] > 0
			c.Settled = !to.Add(-2*ivl).Before(c.At) && steady(recent, running) && gained
			if c.Settled {
				d.out.printf("%s", settledText(c))
			} else {
				keep = earlier(keep, c.At.Add(-2*ivl))
			}
		}
		cc := c.Change
		s.Change = &cc
	}
	keep = later(keep, now.Add(-keepAtMost))
	d.targets.ForgetBefore(keep)
	d.rx.ForgetBefore(keep)
	return s
}

// ready asks a node's /-/ready.
func (d *demo) ready(ctx context.Context, n *lab.Node) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL("/-/ready"), nil)
	if err != nil {
		return false
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// settledText tells what a handoff that just settled did, and what its
// figures mean.
func settledText(c *change) string {
	head := fmt.Sprintf("handoff after %q settled: %d targets moved, %d ticks missed, %d doubled", c.Command, c.Moved, c.Missed, c.Doubled)
	switch c.op {
	case OpKill:
		return head + fmt.Sprintf(". A crash: %s's targets went unscraped until the others declared it dead; its unsent samples wait in its disk queue until it restarts (r N)", c.Node)
	case OpStop:
		return head + fmt.Sprintf(". A graceful leave: %s scraped every tick before the handoff and the others every tick from it, so nothing should be missed or doubled", c.Node)
	case OpRestart:
		return head + fmt.Sprintf(". %s is back with its share. After a crash it replays its disk queue: samples older than what the receiver holds are rejected as out of order, as Prometheus without an out-of-order window would", c.Node)
	case OpAdd:
		return head + fmt.Sprintf(". %s took its share on the tick grid, from the others, with nothing missed or doubled", c.Node)
	}
	return head
}
