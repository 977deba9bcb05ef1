package e2e

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// TestWeightedPlacement runs the weighted scenario on real processes:
// 1,000 targets of which 1% expose 500 times the series of the rest,
// three nodes with --cluster.placement=series, then a fourth joins. The
// plans must balance the series within 10% of the mean before and after
// the join, move few targets, and every handoff (the join's and the
// plans') must miss and double no tick.
func TestWeightedPlacement(t *testing.T) {
	scenario(t, "weighted", func(o *lab.ScenarioOptions) {
		o.Nodes = 4
		o.Targets = 1000
		o.Series = 2
		o.Interval = 3 * time.Second
		// The first plan waits this long after the planner participates:
		// long enough that the window opens on the unweighted split and
		// contains the first re-balance.
		o.PlanInterval = 25 * time.Second
	}, func(t *testing.T, r *lab.Rig, rep lab.Report) {
		expectZero(t, rep, "missed", "doubled", "out-of-order", "duplicates", "stale")
		if rep.Overlap != 0 || rep.Uncovered != 0 {
			t.Errorf("debug info: %d targets on two nodes, %d on none", rep.Overlap, rep.Uncovered)
		}
		s := rep.Series
		if s.PlansAtStart == 0 {
			t.Logf("unweighted series balance %.3f, weighted %.3f", s.Start, s.Balanced)
		}
		if !s.Reached || s.Balanced > 1.1 || s.Joined > 1.1 || s.End > 1.1 {
			t.Errorf("series balance %.3f planned, %.3f after the join, %.3f at the end; want each ≤ 1.1", s.Balanced, s.Joined, s.End)
		}
		// An even split of targets moves a quarter of them to the
		// newcomer; placement by series may move at most 1.25 times that.
		if limit := 1.25 * float64(rep.Targets) / 4; float64(rep.Moved) > limit {
			t.Errorf("%d targets moved on the join, want at most %.0f", rep.Moved, limit)
		}
	})
}
