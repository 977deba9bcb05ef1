package relabel

import (
	"context"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/sample"
)

func TestDocExampleDecodes(t *testing.T) {
	// From Alloy's docs, prometheus.relabel-2.alloy.
	src := `
prometheus.relabel "example" {
  forward_to     = [/* ... */]
  max_cache_size = 0
  cache_ttl      = "10m"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "prometheus.relabel", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.MaxCacheSize != 0 || a.CacheTTL != 10*time.Minute || len(a.ForwardTo) != 0 {
		t.Fatalf("decoded %+v", a)
	}
}

func TestForwardToTakesReceivers(t *testing.T) {
	var got int
	recv := sample.ReceiverFunc(func(_ context.Context, b *sample.Batch) error { got += len(b.Samples); return nil })
	src := `
prometheus.relabel "x" {
  forward_to = [prometheus.remote_write.default.receiver]
  rule {
    source_labels = ["__name__"]
    regex         = "go_.*"
    action        = "drop"
  }
}
`
	vars := map[string]any{"prometheus": map[string]any{"remote_write": map[string]any{"default": map[string]any{"receiver": sample.Receiver(recv)}}}}
	var a Arguments
	if err := discoverytest.Decode(t, src, "prometheus.relabel", vars, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.ForwardTo) != 1 || len(a.Rules) != 1 || a.MaxCacheSize != DefaultMaxCacheSize {
		t.Fatalf("decoded %+v", a)
	}
	c, _, _ := newComponent(t, a.Rules, a.ForwardTo...)
	if err := c.Receive(context.Background(), batch(3)); err != nil {
		t.Fatal(err)
	}
	if got != 3 {
		t.Fatalf("the referenced receiver got %d samples, want 3", got)
	}
}
