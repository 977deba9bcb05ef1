// Command shoalbench runs the parts of shoal's process-level benchmark and
// prints each as a Markdown section of bench/RESULTS.md:
//
//	shoalbench machine  [-shoal BIN]          the date and the machine
//	shoalbench pipeline [-shoal BIN] [flags]  shoal against Prometheus agent mode and vmagent
//	shoalbench scale    [-shoal BIN] [flags]  the same, at 30k to 3M active series
//	shoalbench handoff  [-shoal BIN] SCENARIO...  the lab's cluster scenarios
//	shoalbench gobench  [-title T] [-in FILE]  a table of Go benchmarks from go test's output
//
// bench/run.sh calls these in turn; see bench/README.md for what each
// measures. shoalbench owns the measuring and the record only: targets,
// receiver, fleets and scenarios come from internal/lab, and the systems
// measured are real processes (bin/shoal, /usr/bin/prometheus) seen from
// the outside, through /proc and the samples that reach the receiver.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: shoalbench machine|pipeline|scale|handoff|gobench [flags]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("shoalbench "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var err error
	switch args[0] {
	case "machine":
		shoal := fs.String("shoal", "bin/shoal", "the shoal binary whose version is recorded")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		err = writeMachine(ctx, stdout, *shoal)
	case "pipeline":
		o := pipelineFlags(fs)
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		o.progress = stderr
		err = runPipeline(ctx, stdout, *o)
	case "scale":
		o := scaleFlags(fs)
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		o.progress = stderr
		err = runScale(ctx, stdout, *o)
	case "handoff":
		o := handoffFlags(fs)
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		o.scenarios = fs.Args()
		o.progress = stderr
		err = runHandoff(ctx, stdout, *o)
	case "gobench":
		title := fs.String("title", "Go benchmarks", "the section's heading")
		in := fs.String("in", "", "the go test output to read (default: standard input)")
		if fs.Parse(args[1:]) != nil {
			return 2
		}
		r := stdin
		if *in != "" {
			f, ferr := os.Open(*in)
			if ferr != nil {
				fmt.Fprintf(stderr, "shoalbench gobench: %v\n", ferr)
				return 1
			}
			defer f.Close()
			r = f
		}
		err = writeGoBench(stdout, r, *title)
	default:
		fmt.Fprintf(stderr, "shoalbench: unknown command %q\n", args[0])
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "shoalbench %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
