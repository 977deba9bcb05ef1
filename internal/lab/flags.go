package lab

import (
	"flag"
	"fmt"
	"os"
)

// RegisterFlags defines the scenario flags on fs and returns the options
// they fill, so that `go run ./cmd/lab` and `shoal lab` share one set.
func RegisterFlags(fs *flag.FlagSet) *ScenarioOptions {
	o := &ScenarioOptions{}
	fs.IntVar(&o.Nodes, "nodes", 3, "nodes in the fleet (a scale-up starts with one fewer)")
	fs.IntVar(&o.Targets, "targets", 300, "synthetic targets")
	fs.IntVar(&o.Series, "series", 10, "series per target")
	fs.DurationVar(&o.Interval, "interval", defaultInterval, "scrape interval")
	fs.DurationVar(&o.Timeout, "timeout", 0, "scrape timeout (default interval/2)")
	fs.DurationVar(&o.HandoffDelay, "handoff-delay", defaultHandoff, "--cluster.handoff-delay of every node")
	fs.DurationVar(&o.Observe, "observe", 0, "how long to watch a steady fleet (default 10 intervals)")
	fs.StringVar(&o.Binary, "shoal", os.Getenv("SHOAL_BIN"), "shoal binary (default: $SHOAL_BIN, or go build ./cmd/shoal)")
	fs.IntVar(&o.HeavyEvery, "heavy-every", 0, "every Nth target is heavy (weighted scenario default 100: 1%)")
	fs.IntVar(&o.HeavySeries, "heavy-series", 0, "series of a heavy target (weighted scenario default 500 × -series)")
	fs.DurationVar(&o.PlanInterval, "placement-interval", 0, "--cluster.placement-interval in the weighted scenario (default 15s)")
	fs.BoolVar(&o.KeepDir, "keep", false, "keep the nodes' configs, data and logs")
	fs.IntVar(&o.Replicas, "replicas", 0, "the clustering block's replicas (the standby scenario defaults to 2)")
	fs.BoolVar(&o.Module, "module", false, "define the clustered scrape inside a declare block, as Helm charts do")
	fs.Func("receiver", "how the counting receiver answers a request with a rejected sample: all (Prometheus) or partial (Mimir)", func(s string) error {
		switch s {
		case "all":
			o.Mode = AllOrNothing
		case "partial":
			o.Mode = PartialAccept
		default:
			return fmt.Errorf("want all or partial, not %q", s)
		}
		return nil
	})
	return o
}
