package scrape

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// TestMetadataSentWhenItChanges: a target's HELP, TYPE and UNIT reach the
// batch on its first scrape, not on later scrapes of the same body (the
// fast path skips known comment lines), and again for a family whose
// HELP changed; OpenMetrics bodies (through textparse) carry UNIT.
func TestMetadataSentWhenItChanges(t *testing.T) {
	cfg := testConfig()
	tg, _ := newTarget(labels.FromStrings("__address__", "h:1"), &cfg)
	p := newParser(tg, &cfg)
	scrape := func(body, ct string, tick int64) []sample.Metadata {
		t.Helper()
		var b sample.Batch
		p.cache.begin()
		if _, err := p.parse([]byte(body), ct, tick, &b); err != nil {
			t.Fatal(err)
		}
		p.cache.commit(func(labels.Labels) {})
		slices.SortFunc(b.Metadata, func(a, b sample.Metadata) int { return strings.Compare(a.Family, b.Family) })
		return b.Metadata
	}
	body := "# HELP reqs_total Requests.\n# TYPE reqs_total counter\nreqs_total 1\n# TYPE temp gauge\ntemp 3\nuntyped 1\n"
	got := scrape(body, "text/plain; version=0.0.4", 1000)
	want := []sample.Metadata{
		{Family: "reqs_total", Type: model.MetricTypeCounter, Help: "Requests."},
		{Family: "temp", Type: model.MetricTypeGauge},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("first scrape metadata %+v, want %+v", got, want)
	}
	if got := scrape(body, "text/plain; version=0.0.4", 2000); len(got) != 0 {
		t.Fatalf("unchanged body sent metadata again: %+v", got)
	}
	changed := strings.Replace(body, "Requests.", "Requests served.", 1)
	got = scrape(changed, "text/plain; version=0.0.4", 3000)
	if want := []sample.Metadata{{Family: "reqs_total", Type: model.MetricTypeCounter, Help: "Requests served."}}; !slices.Equal(got, want) {
		t.Fatalf("after a HELP change %+v, want %+v", got, want)
	}

	om := "# TYPE size_bytes gauge\n# UNIT size_bytes bytes\n# HELP size_bytes Size.\nsize_bytes 5\n# EOF\n"
	got = scrape(om, "application/openmetrics-text; version=1.0.0", 4000)
	if want := []sample.Metadata{{Family: "size_bytes", Type: model.MetricTypeGauge, Help: "Size.", Unit: "bytes"}}; !slices.Equal(got, want) {
		t.Fatalf("OpenMetrics metadata %+v, want %+v", got, want)
	}
}

// TestMetadataOfAFailedScrapeComesWithTheNext: metadata seen in a scrape
// that fails is sent with the next one that succeeds.
func TestMetadataOfAFailedScrapeComesWithTheNext(t *testing.T) {
	cfg := testConfig()
	cfg.SampleLimit = 1
	tg, _ := newTarget(labels.FromStrings("__address__", "h:1"), &cfg)
	p := newParser(tg, &cfg)
	var b sample.Batch
	p.cache.begin()
	if _, err := p.parse([]byte("# TYPE a gauge\na 1\nb 2\n"), "text/plain", 1000, &b); err == nil {
		t.Fatal("sample_limit did not fail the scrape")
	}
	p.cache.abort(func(labels.Labels) {})
	b.Reset()
	p.cache.begin()
	if _, err := p.parse([]byte("# TYPE a gauge\na 1\n"), "text/plain", 2000, &b); err != nil {
		t.Fatal(err)
	}
	if want := []sample.Metadata{{Family: "a", Type: model.MetricTypeGauge}}; !slices.Equal(b.Metadata, want) {
		t.Fatalf("metadata %+v, want %+v", b.Metadata, want)
	}
}

// TestEngineForwardsMetadata: the engine's scrapes forward a target's
// metadata to the receiver with the first scrape, and not again while it
// does not change.
func TestEngineForwardsMetadata(t *testing.T) {
	tgt := newTextTarget(t, "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n")
	l := targetLabels(tgt.addr())
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets([]labels.Labels{l}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	tk := newTicker(h, l, cfg, 1)
	tk.tick(t)
	tk.tick(t)
	var got []sample.Metadata
	for _, b := range h.recv.snapshot() {
		got = append(got, b.Metadata...)
	}
	if want := []sample.Metadata{{Family: "a_total", Type: model.MetricTypeCounter, Help: "A."}}; !slices.Equal(got, want) {
		t.Fatalf("metadata forwarded over two scrapes %+v, want %+v once", got, want)
	}
}
