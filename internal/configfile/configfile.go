// Package configfile implements the file-level commands on a configuration:
// `shoal fmt` (`alloy fmt`'s layout) and `shoal validate` (every check short of
// running), printing diagnostics the way Alloy does. The language itself is
// internal/syntax's and the component checks internal/runtime's; this
// package only reads files, calls them and reports.
package configfile

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/runtime"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

// Fmt prints the file as `alloy fmt` lays it out, or rewrites it in place when
// write is set. It returns the process exit code: 1 on a syntax error.
func Fmt(filename string, write bool, stdout, stderr io.Writer) int {
	src, err := os.ReadFile(filename)
	if err != nil {
		fmt.Fprintf(stderr, "shoal fmt: %v\n", err)
		return 1
	}
	out, err := printer.Format(filename, src)
	if err != nil {
		PrintError(stderr, err, filename, src)
		return 1
	}
	if !write {
		_, _ = stdout.Write(out)
		return 0
	}
	if string(out) == string(src) {
		return 0
	}
	info, err := os.Stat(filename)
	if err != nil {
		fmt.Fprintf(stderr, "shoal fmt: %v\n", err)
		return 1
	}
	// Write beside the file and rename, so that a crash never leaves a
	// half-written config behind.
	tmp := filename + ".shoal-fmt.tmp"
	if err := os.WriteFile(tmp, out, info.Mode().Perm()); err != nil {
		fmt.Fprintf(stderr, "shoal fmt: %v\n", err)
		return 1
	}
	if err := os.Rename(tmp, filename); err != nil {
		_ = os.Remove(tmp)
		fmt.Fprintf(stderr, "shoal fmt: %v\n", err)
		return 1
	}
	return 0
}

// Validate checks the file against the language and every registered
// component without running anything. It returns 1 with every error found.
func Validate(filename string, stdout, stderr io.Writer) int {
	return ValidateWith(filename, ValidateOptions{}, stdout, stderr)
}

// ValidateOptions are the flags of `shoal validate` that change what is
// accepted, as in Alloy's `validate`.
type ValidateOptions struct {
	// StabilityLevel is --stability.level; Undefined means the default.
	StabilityLevel stability.Level
	// CommunityComponents is --feature.community-components.enabled.
	CommunityComponents bool
}

// ValidateWith is Validate with the flags of `shoal validate`.
func ValidateWith(filename string, opts ValidateOptions, stdout, stderr io.Writer) int {
	src, err := os.ReadFile(filename)
	if err != nil {
		fmt.Fprintf(stderr, "shoal validate: %v\n", err)
		return 1
	}
	rt := runtime.New(runtime.Options{
		Registry:            all.Registry(),
		StabilityLevel:      opts.StabilityLevel,
		CommunityComponents: opts.CommunityComponents,
	})
	if diags := rt.Validate(filename, src); len(diags) > 0 {
		PrintError(stderr, diags, filename, src)
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid\n", filename)
	return 0
}

// PrintError prints err; diagnostics are printed with their source line and
// a caret under the column.
func PrintError(w io.Writer, err error, filename string, src []byte) {
	var diags diag.Diagnostics
	if errors.As(err, &diags) {
		diag.Fprint(w, diags, map[string][]byte{filename: src})
		return
	}
	fmt.Fprintln(w, err)
}
