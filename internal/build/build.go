// Package build describes the running binary: its version, from the link
// flags or from Go's build information. It knows nothing else.
package build

import (
	"runtime/debug"
	"strings"
)

// Version returns the version to show: linked, when set at link time to
// something other than "dev"; otherwise the module version or VCS revision
// recorded by the Go toolchain.
func Version(linked string) string {
	if linked != "" && linked != "dev" {
		return linked
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if rev == "" {
		return "dev"
	}
	return "dev-" + strings.TrimSpace(rev[:min(12, len(rev))]) + modified
}
