package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/shoal-dev/shoal/internal/lab"
)

// useSelfAsNode makes the lab start this very binary as its nodes, unless
// SHOAL_BIN names another.
func useSelfAsNode() {
	if os.Getenv("SHOAL_BIN") != "" {
		return
	}
	if exe, err := os.Executable(); err == nil {
		_ = os.Setenv("SHOAL_BIN", exe)
	}
}

func cmdLab(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("lab", "shoal lab SCENARIO [flags]", stderr)
	opts := lab.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: shoal lab SCENARIO [flags]\n\nScenarios: %s\n\nFlags:\n", strings.Join(lab.ScenarioNames(), ", "))
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCode(err)
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	useSelfAsNode()
	opts.Progress = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := lab.RunScenario(ctx, pos[0], *opts)
	if err != nil {
		fmt.Fprintf(stderr, "shoal lab %s: %v\n", pos[0], err)
		return 1
	}
	fmt.Fprint(stdout, rep.String())
	return 0
}
