// Command shoal runs a node of a shoal fleet, and formats, validates and
// demonstrates its configuration. Every subcommand parses its flags here and
// calls into internal/; no logic lives in this package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/shoal-dev/shoal/internal/agent"
	"github.com/shoal-dev/shoal/internal/build"
	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/configfile"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `shoal: a fleet of Prometheus scraping agents that split targets by gossip.

Usage:
  shoal run CONFIG_FILE [flags]   run a node
  shoal fmt [-w] FILE             print (or rewrite) FILE in canonical layout
  shoal validate FILE [flags]     check FILE without running it
  shoal demo [flags]              run a local fleet with targets and a receiver
  shoal lab SCENARIO [flags]      run a cluster scenario and print its figures
  shoal version                   print the version

Run "shoal COMMAND --help" for the flags of a command.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, stderr)
	case "fmt":
		return cmdFmt(rest, stdout, stderr)
	case "validate":
		return cmdValidate(rest, stdout, stderr)
	case "demo":
		return cmdDemo(rest, stdout, stderr)
	case "lab":
		return cmdLab(rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "shoal %s\n", build.Version(version))
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "shoal: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// newFlagSet returns a flag set whose --help prints the command's usage and
// every flag with its default.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before or after the
// positional arguments, as Alloy allows ("shoal run config.alloy --flag").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 1
}

func cmdRun(args []string, stderr io.Writer) int {
	fs := newFlagSet("run", "shoal run CONFIG_FILE [flags]", stderr)
	var cfg agent.Config
	cfg.RegisterFlags(fs)
	ccfg := cluster.DefaultConfig()
	ccfg.RegisterFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCode(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "shoal run: exactly one CONFIG_FILE is required")
		fs.Usage()
		return 2
	}
	cfg.ConfigFile = pos[0]
	cfg.Cluster = ccfg
	cfg.Version = build.Version(version)
	applyMemoryPolicy()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "shoal run: %v\n", err)
		return 1
	}
	return 0
}

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", "shoal fmt [-w] FILE", stderr)
	write := fs.Bool("w", false, "write the result to FILE instead of printing it")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCode(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "shoal fmt: exactly one FILE is required")
		fs.Usage()
		return 2
	}
	return configfile.Fmt(pos[0], *write, stdout, stderr)
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "shoal validate FILE [flags]", stderr)
	var opts configfile.ValidateOptions
	agent.RegisterFeatureFlags(fs, &opts.StabilityLevel, &opts.CommunityComponents)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCode(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "shoal validate: exactly one FILE is required")
		fs.Usage()
		return 2
	}
	return configfile.ValidateWith(pos[0], opts, stdout, stderr)
}
