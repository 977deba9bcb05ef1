package demo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// Summary is what one summary line says.
type Summary struct {
	At time.Time
	// Converged is false until every node is ready and every target has
	// been scraped by exactly one node; the figures are empty until then.
	Converged bool
	// From and To bound the sliding window of Missed and Doubled. To
	// trails At so that the ticks in the window are final: a tick may
	// start up to half an interval late.
	From, To time.Time
	Nodes    []NodeStatus
	// Unowned counts the targets no node scraped in the last interval.
	Unowned          int
	SamplesPerSecond float64
	// Missed and Doubled are the grid ticks in [From, To) that no node
	// scraped, and the scrapes beyond the first of a tick.
	Missed, Doubled int
	// OutOfOrder and Duplicates are the samples the receiver rejected
	// over the last few minutes.
	OutOfOrder, Duplicates int
	// Change is the last command that changed the fleet, and what followed.
	Change *Change
}

// NodeStatus is one node in a summary.
type NodeStatus struct {
	Name string
	URL  string // its UI
	// State is "up", "joining" (running, not ready yet), or why it is
	// down: "killed", "stopped", "exited".
	State string
	// Targets is how many targets it scraped in the last interval.
	Targets int
}

// Change is a command that changed the fleet and the figures since.
type Change struct {
	Command string // as ParseCommand reads it, e.g. "k 2"
	Node    string
	At      time.Time
	// Moved counts the targets whose node changed since the command.
	Moved int
	// Missed, Doubled and LargestGap are the figures of the ticks from At
	// to the summary's To (frozen once Settled).
	Missed, Doubled int
	LargestGap      time.Duration
	// Settled is true once the fleet was steady again for two intervals
	// after the command: every target scraped once per tick by one running
	// node (and a node that was added or restarted has its share).
	Settled bool
}

// String is the summary line.
func (s Summary) String() string {
	var b strings.Builder
	b.WriteString(s.At.Format("15:04:05"))
	b.WriteString("  ")
	for i, n := range s.Nodes {
		if i > 0 {
			b.WriteString("  ")
		}
		switch n.State {
		case "up":
			fmt.Fprintf(&b, "%s %d", n.Name, n.Targets)
		case "joining":
			fmt.Fprintf(&b, "%s joining %d", n.Name, n.Targets)
		default:
			fmt.Fprintf(&b, "%s %s", n.Name, n.State)
		}
	}
	if !s.Converged {
		b.WriteString("  | waiting for the fleet to converge")
		return b.String()
	}
	if s.Unowned > 0 {
		fmt.Fprintf(&b, "  unscraped %d", s.Unowned)
	}
	fmt.Fprintf(&b, "  | %s samples/s", thousands(int(s.SamplesPerSecond+0.5)))
	fmt.Fprintf(&b, "  | last %s: %d missed, %d doubled", s.To.Sub(s.From).Round(time.Second), s.Missed, s.Doubled)
	if s.OutOfOrder+s.Duplicates > 0 {
		fmt.Fprintf(&b, ", receiver rejected %d out-of-order, %d duplicates", s.OutOfOrder, s.Duplicates)
	}
	if c := s.Change; c != nil {
		fmt.Fprintf(&b, "  | since %q at %s: %d targets moved, %d missed, %d doubled, largest gap %s",
			c.Command, c.At.Format("15:04:05"), c.Moved, c.Missed, c.Doubled, c.LargestGap.Round(100*time.Millisecond))
		if c.Settled {
			b.WriteString(" (settled)")
		} else {
			b.WriteString(" (handing off)")
		}
	}
	return b.String()
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// figures computes the lab's figures for targets over [from, to) from the
// scrape log, with the receiver's rejects when rx is given.
func figures(interval time.Duration, targets []string, scrapes []lab.Scrape, rx map[string]lab.InstanceStats, from, to time.Time) lab.Report {
	return lab.Compute(lab.Observation{
		Interval: interval,
		From:     from,
		To:       to,
		Targets:  targets,
		Scrapes:  scrapes,
		Receiver: rx,
	})
}

// steady reports whether every target in rep was scraped at each tick by
// one node, and that node is among running.
func steady(rep lab.Report, running map[string]bool) bool {
	if rep.Expected == 0 || rep.Missed > 0 || rep.Doubled > 0 {
		return false
	}
	for _, t := range rep.PerTarget {
		if len(t.Scrapers) != 1 || !running[t.Scrapers[0]] {
			return false
		}
	}
	return true
}

// latestOwners maps each target to the node behind its latest scrape that
// arrived in [from, to): who scrapes it now. Two intervals make sure every
// target has one despite the scrapes' jitter around the edges.
func latestOwners(scrapes []lab.Scrape, from, to time.Time) map[string]string {
	out := map[string]string{}
	at := map[string]time.Time{}
	for _, s := range scrapes {
		if s.Time.Before(from) || !s.Time.Before(to) || s.Time.Before(at[s.Addr]) {
			continue
		}
		at[s.Addr] = s.Time
		out[s.Addr] = scraperName(s)
	}
	return out
}

// scraperName names who made a scrape: the node the lab identified, or
// "?" when it could not.
func scraperName(s lab.Scrape) string {
	if s.Scraper != "" {
		return s.Scraper
	}
	return "?"
}

// rate is the receiver's intake per second over the last rateSpan,
// from the accepted-sample counter read at each summary.
type rate struct {
	points []ratePoint
}

type ratePoint struct {
	at  time.Time
	acc int
}

const rateSpan = 10 * time.Second

// add records the counter at now and returns the rate since the oldest
// reading within rateSpan (0 for the first reading).
func (r *rate) add(now time.Time, accepted int) float64 {
	r.points = append(r.points, ratePoint{now, accepted})
	for len(r.points) > 1 && now.Sub(r.points[1].at) >= rateSpan {
		r.points = r.points[1:]
	}
	first := r.points[0]
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		return float64(accepted-first.acc) / dt
	}
	return 0
}

// countByNode turns target → node into node → count.
func countByNode(assign map[string]string) map[string]int {
	out := map[string]int{}
	for _, n := range assign {
		out[n]++
	}
	return out
}
