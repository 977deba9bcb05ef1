package agent

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shoal-dev/shoal/internal/config"
)

// A logger handed out before a reload follows the new level and format,
// and keeps its attributes and groups in the order they were added.
func TestLoggerFollowsTheLoggingBlockAcrossReloads(t *testing.T) {
	var out bytes.Buffer
	s := newLogSwitch(&out)
	log := s.logger().With("component", "x").WithGroup("g").With("k", "v")

	log.Debug("hidden")
	if out.Len() != 0 {
		t.Fatalf("debug logged at the default info level: %q", out.String())
	}
	s.apply(config.Logging{Level: "debug", Format: "json"})
	log.Debug("shown")
	got := out.String()
	if !strings.Contains(got, `"component":"x"`) || !strings.Contains(got, `"g":{"k":"v"}`) || !strings.Contains(got, `"msg":"shown"`) {
		t.Fatalf("json record = %q, want component outside group g and k inside it", got)
	}
}
