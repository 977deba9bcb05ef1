// Command lab runs one cluster scenario against real shoal processes on
// loopback and prints its figures:
//
//	go run ./cmd/lab SCENARIO [flags]
//
// SCENARIO is split, crash, standby (the crash with replicas = 2),
// rolling, scaleup, scaledown, partition (which needs root, for network
// namespaces), weighted (a scale-up with --cluster.placement=series over
// targets of which 1% carry 500 times the series of the rest) or
// discovery, which measures --cluster.share-discovery (flags -nodes,
// -refresh, -window, -targets, -unshared, -secure). The defaults are 3
// nodes, 300 targets and a 2 s interval. The scenarios themselves live in
// internal/lab; this command only parses flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "discovery" {
		return runDiscovery(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := lab.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lab SCENARIO [flags]\n\nscenarios: %s\n\nflags:\n", strings.Join(append(lab.ScenarioNames(), "discovery"), ", "))
		fs.PrintDefaults()
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs.Usage()
		return 2
	}
	scenario := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	opts.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := lab.RunScenario(ctx, scenario, *opts)
	if err != nil {
		fmt.Fprintf(stderr, "lab: %s: %v\n", scenario, err)
		return 1
	}
	fmt.Fprint(stdout, rep.String())
	return 0
}

// runDiscovery runs the discovery-sharing scenario (lab.RunDiscoveryShare).
func runDiscovery(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab discovery", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o lab.DiscoShareOptions
	fs.IntVar(&o.Nodes, "nodes", 3, "Nodes of the shared fleet.")
	fs.DurationVar(&o.Refresh, "refresh", 2*time.Second, "discovery.http's refresh_interval.")
	fs.DurationVar(&o.Window, "window", 0, "How long API calls are counted (default 10 refreshes).")
	fs.IntVar(&o.Targets, "targets", 50, "Targets in the discovered list.")
	fs.BoolVar(&o.Unshared, "unshared", false, "Also count a fleet of -nodes without sharing, as Alloy runs.")
	fs.BoolVar(&o.Secure, "secure", false, "Basic auth on every path and a gossip key: the lists travel signed and sealed.")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := lab.RunDiscoveryShare(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "lab: discovery: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, rep.String())
	return 0
}
