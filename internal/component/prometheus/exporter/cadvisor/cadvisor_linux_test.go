//go:build linux

package cadvisor

import "testing"

// checkIncluded checks the metric sets a's lists choose.
func checkIncluded(t *testing.T, a Arguments) {
	t.Helper()
	// enabled_metrics wins over disabled_metrics.
	got, err := a.includedMetrics()
	if err != nil || len(got) != 2 || !got.Has("cpu") || !got.Has("memory") {
		t.Errorf("included metrics = %v, %v", got, err)
	}
	a.EnabledMetrics = nil
	got, _ = a.includedMetrics()
	if got.Has("disk") || !got.Has("process") || !got.Has("cpu") {
		t.Errorf("with disabled_metrics [disk]: %v, want all but disk", got)
	}
	a.DisabledMetrics = nil
	got, _ = a.includedMetrics()
	if got.Has("process") || got.Has("tcp") || !got.Has("disk") || !got.Has("cpu") {
		t.Errorf("by default: %v, want cAdvisor's default set", got)
	}
}
