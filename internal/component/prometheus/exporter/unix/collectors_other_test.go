//go:build !linux || shoal_lean

package unix

import (
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestLeanBuildRefusesToBuild(t *testing.T) {
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.unix.host")
	if _, err := Registration.Build(opts, DefaultArguments); err == nil || !strings.Contains(err.Error(), "shoal_lean") {
		t.Fatalf("err = %v, want one naming the shoal_lean build tag", err)
	}
}
