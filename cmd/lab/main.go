// Command lab runs one cluster scenario against real shoal processes on
// loopback and prints its figures:
//
//	go run ./cmd/lab SCENARIO [flags]
//
// SCENARIO is split, crash, standby (the crash with replicas = 2),
// rolling, scaleup, scaledown or partition (the last needs root, for
// network namespaces). The defaults are 3 nodes, 300 targets and a 2 s
// interval. The scenarios themselves live in
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

	"github.com/shoal-dev/shoal/internal/lab"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := lab.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: lab SCENARIO [flags]\n\nscenarios: %s\n\nflags:\n", strings.Join(lab.ScenarioNames(), ", "))
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
