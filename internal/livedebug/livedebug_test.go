package livedebug

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

func TestWatchNeedsEnabledHubAndSupportedComponent(t *testing.T) {
	h := NewHub()
	h.Publisher("prometheus.scrape.a", "prometheus.scrape")
	h.Publisher("local.file.x", "local.file")
	if _, err := h.Watch("prometheus.scrape.a", 1); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Watch on a disabled hub: %v", err)
	}
	h.SetEnabled(true)
	if _, err := h.Watch("nope", 1); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Watch of an unknown component: %v", err)
	}
	var unsupported ErrUnsupported
	if _, err := h.Watch("local.file.x", 1); !errors.As(err, &unsupported) {
		t.Fatalf("Watch of local.file: %v", err)
	}
	var nilHub *Hub
	if _, err := nilHub.Watch("x", 1); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Watch on a nil hub: %v", err)
	}
	if p := nilHub.Publisher("prometheus.scrape.a", "prometheus.scrape"); p.Active() {
		t.Fatal("a nil hub's publisher is active")
	}
}

func TestPublisherIsInactiveUntilWatchedAndAfterClose(t *testing.T) {
	h := NewHub()
	h.SetEnabled(true)
	p := h.Publisher("prometheus.relabel.r", "prometheus.relabel")
	called := 0
	p.Publish(3, func(int) string { called++; return "x" })
	if p.Active() || called != 0 {
		t.Fatalf("unwatched publisher rendered %d lines (active %v)", called, p.Active())
	}
	w, err := h.Watch("prometheus.relabel.r", 1)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Active() {
		t.Fatal("watched publisher is not active")
	}
	b := &sample.Batch{Samples: []sample.Sample{{Labels: labels.FromStrings("__name__", "up", "job", "j"), T: 1000, V: 1}}}
	rec := p.Receiver(sample.ReceiverFunc(func(context.Context, *sample.Batch) error { return nil }))
	if err := rec.Receive(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-w.C:
		want := `sample: ts=1000, labels={__name__="up", job="j"}, value=1.000000`
		if line != want {
			t.Fatalf("line = %q, want %q", line, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no line")
	}
	w.Close()
	if p.Active() {
		t.Fatal("publisher still active after its only watcher closed")
	}
}

// TestWatcherIsBounded publishes far more than the limits and checks that
// the watcher got at most its buffer, that the rest was counted as dropped,
// and that the publisher never blocked.
func TestWatcherIsBounded(t *testing.T) {
	h := NewHub()
	h.SetEnabled(true)
	p := h.Publisher("discovery.file.f", "discovery.file")
	w, err := h.Watch("discovery.file.f", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const n = 10 * Buffer
	done := make(chan struct{})
	go func() {
		p.PublishTargets(n, func(i int) string { return "{}" })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a reader that does not read")
	}
	got := len(w.C)
	if got == 0 || got > Buffer {
		t.Fatalf("watcher holds %d lines, want 1..%d", got, Buffer)
	}
	if dropped := w.Dropped(); int(dropped)+got != n {
		t.Fatalf("dropped %d + kept %d != published %d", dropped, got, n)
	}
	if line := <-w.C; !strings.HasPrefix(line, "target: ") {
		t.Fatalf("line = %q", line)
	}
}

func TestSamplingKeepsAboutTheAskedShare(t *testing.T) {
	h := NewHub()
	h.SetEnabled(true)
	p := h.Publisher("prometheus.scrape.s", "prometheus.scrape")
	w, err := h.Watch("prometheus.scrape.s", 0.1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p.Publish(Buffer, func(int) string { return "x" })
	// 10% of 1000 has a standard deviation under 10: 100 ± 60 cannot fail
	// by chance in practice.
	if got := len(w.C); got < 40 || got > 160 {
		t.Fatalf("kept %d of %d at 10%%", got, Buffer)
	}
}

func TestDisablingEndsStreams(t *testing.T) {
	h := NewHub()
	h.SetEnabled(true)
	p := h.Publisher("discovery.dns.d", "discovery.dns")
	p.SetSnapshot(func() []string { return []string{"target: {a=\"1\"}"} })
	w, err := h.Watch("discovery.dns.d", 1)
	if err != nil {
		t.Fatal(err)
	}
	if line := <-w.C; line != `target: {a="1"}` {
		t.Fatalf("snapshot line = %q", line)
	}
	h.SetEnabled(false)
	select {
	case <-w.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("disabling did not end the stream")
	}
	if p.Active() {
		t.Fatal("publisher active after disabling")
	}
	w.Close() // closing an ended watcher is harmless
}

// BenchmarkInactivePublish is the cost on the hot path while nobody
// watches: one atomic load per batch.
func BenchmarkInactivePublish(b *testing.B) {
	h := NewHub()
	h.SetEnabled(true)
	p := h.Publisher("prometheus.scrape.s", "prometheus.scrape")
	batch := &sample.Batch{Samples: make([]sample.Sample, 100)}
	for b.Loop() {
		p.PublishBatch(batch)
	}
}
