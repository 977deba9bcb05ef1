package scrape

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// FuzzParseLabel feeds arbitrary bodies and content types through the
// parse and label path, twice (so the series cache is exercised), with
// limits set. It must never panic. Seeds live in testdata/seeds.
func FuzzParseLabel(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/seeds/*")
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		ct := "text/plain; version=0.0.4"
		switch filepath.Ext(path) {
		case ".om":
			ct = "application/openmetrics-text; version=1.0.0"
		case ".pb":
			ct = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
		}
		f.Add(b, ct, false)
		f.Add(b, "", true)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string, honor bool) {
		cfg := testConfig()
		cfg.HonorLabels = honor
		cfg.ScrapeNativeHistograms = true
		cfg.SampleLimit = 1000
		cfg.LabelLimit = 30
		cfg.NativeHistogramBucketLimit = 20
		cfg.ValidationScheme = model.LegacyValidation
		if honor {
			cfg.ValidationScheme = model.UTF8Validation
		}
		tg, err := newTarget(labels.FromStrings("__address__", "h:1", "job", "fuzz"), &cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := newParser(tg, &cfg)
		for tick := int64(1); tick <= 2; tick++ {
			var b sample.Batch
			p.cache.begin()
			_, err := p.parse(body, contentType, tick, &b)
			n := 0
			if err != nil {
				p.cache.abort(staleAppender(&b, tick, &n))
				continue
			}
			p.cache.commit(staleAppender(&b, tick, &n))
			for _, s := range b.Samples {
				if s.Labels.Get("__name__") == "" {
					t.Fatalf("sample without a name: %s", s.Labels)
				}
			}
		}
	})
}
