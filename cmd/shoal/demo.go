package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shoal-dev/shoal/internal/demo"
)

func cmdDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "shoal demo [flags]", stderr)
	var o demo.Options
	fs.IntVar(&o.Nodes, "nodes", 3, "shoal nodes to start")
	fs.IntVar(&o.Targets, "targets", 300, "synthetic targets to scrape")
	fs.DurationVar(&o.Interval, "interval", 2*time.Second, "scrape interval")
	fs.IntVar(&o.Series, "series", 10, "series per target")
	fs.BoolVar(&o.Keep, "keep", false, "keep the demo's folder (configs, data, logs) and print where it is")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCode(err)
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "shoal demo: unexpected argument %q\n", pos[0])
		fs.Usage()
		return 2
	}
	useSelfAsNode()
	o.Output = stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, o); err != nil {
		fmt.Fprintf(stderr, "shoal demo: %v\n", err)
		return 1
	}
	return 0
}
