package scrape

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// BenchmarkScrapeParseLabelBatch measures the steady state of one target:
// a 1,000-series text body parsed, labelled through the series cache,
// checked for staleness and appended to a reused batch.
func BenchmarkScrapeParseLabelBatch(b *testing.B) {
	const series = 1000
	var sb strings.Builder
	sb.WriteString("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n")
	for i := range series {
		fmt.Fprintf(&sb, "http_requests_total{method=\"GET\",code=\"200\",handler=\"/api/v1/item/%d\"} %d\n", i, i*7)
	}
	body := []byte(sb.String())
	cfg := testConfig()
	tg, err := newTarget(labels.FromStrings("__address__", "10.0.0.1:9100", "team", "infra"), &cfg)
	if err != nil {
		b.Fatal(err)
	}
	p := newParser(tg, &cfg)
	batch := &sample.Batch{}
	stale := 0
	run := func(tick int64) {
		batch.Reset()
		p.cache.begin()
		if _, err := p.parse(body, "text/plain; version=0.0.4", tick, batch); err != nil {
			b.Fatal(err)
		}
		p.cache.commit(staleAppender(batch, tick, &stale))
	}
	run(0) // fill the cache
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		run(int64(i + 1))
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if len(batch.Samples) != series {
		b.Fatalf("%d samples, want %d", len(batch.Samples), series)
	}
	n := float64(b.N) * series
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/sample")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/sample")
}

// BenchmarkFetch measures one scrape's HTTP round trip over a kept-alive
// loopback connection with the client shoal builds from its Config: what
// every scrape costs before parsing, in time and allocations.
func BenchmarkFetch(b *testing.B) {
	body := []byte(strings.Repeat("some_metric{label=\"value\"} 1\n", 100))
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = rw.Write(body)
	}))
	defer srv.Close()
	cfg := testConfig()
	client, err := commoncfg.NewClientFromConfig(cfg.HTTPClient, "scrape")
	if err != nil {
		b.Fatal(err)
	}
	tg, err := newTarget(labels.FromStrings("__address__", srv.Listener.Addr().String()), &cfg)
	if err != nil {
		b.Fatal(err)
	}
	f, err := newFetcher(client, tg, &cfg, acceptHeader(cfg.Protocols, cfg.EscapingScheme), &pools{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := f.fetch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(body) {
			b.Fatalf("read %d bytes, want %d", len(got), len(body))
		}
		f.release(got)
	}
}

// BenchmarkScrapeParse300Targets is the pipeline benchmark's scrape side
// without the network: 300 targets of 100 series, scraped in turn, so that
// the series caches (30,000 series) no longer fit in the CPU's caches.
func BenchmarkScrapeParse300Targets(b *testing.B) {
	const targets, series = 300, 100
	cfg := testConfig()
	parsers := make([]*parser, targets)
	bodies := make([][]byte, targets)
	for i := range targets {
		var sb strings.Builder
		sb.WriteString("# TYPE lab_requests_total counter\n")
		for s := range series {
			fmt.Fprintf(&sb, "lab_requests_total{series=\"%d\"} %d\n", s, s*7)
		}
		bodies[i] = []byte(sb.String())
		tg, err := newTarget(labels.FromStrings("__address__", fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250)), &cfg)
		if err != nil {
			b.Fatal(err)
		}
		parsers[i] = newParser(tg, &cfg)
	}
	batch := &sample.Batch{}
	stale := 0
	run := func(i int, tick int64) {
		p := parsers[i]
		batch.Reset()
		p.cache.begin()
		if _, err := p.parse(bodies[i], "text/plain; version=0.0.4", tick, batch); err != nil {
			b.Fatal(err)
		}
		p.cache.commit(staleAppender(batch, tick, &stale))
	}
	for i := range targets {
		run(i, 0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		run(n%targets, int64(n/targets+1))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*series), "ns/sample")
}
