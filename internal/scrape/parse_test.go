package scrape

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/shoal-dev/shoal/internal/sample"
)

// parseOnce runs one scrape's parse and commit on a fresh parser.
func parseOnce(t *testing.T, cfg Config, body string) ([]sample.Sample, parseResult, error) {
	t.Helper()
	tg, err := newTarget(labels.FromStrings("__address__", "host:9100", "team", "a"), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newParser(tg, &cfg)
	var b sample.Batch
	p.cache.begin()
	res, err := p.parse([]byte(body), "text/plain; version=0.0.4", 1000, &b)
	return b.Samples, res, err
}

func TestTargetLabelsAreAddedToEverySeries(t *testing.T) {
	ss, _, err := parseOnce(t, testConfig(), "m{x=\"1\"} 5\n")
	if err != nil {
		t.Fatal(err)
	}
	want := labels.FromStrings("__name__", "m", "instance", "host:9100", "job", "test", "team", "a", "x", "1")
	if len(ss) != 1 || !labels.Equal(ss[0].Labels, want) {
		t.Fatalf("got %v, want %v", ss, want)
	}
	if ss[0].T != 1000 || ss[0].V != 5 {
		t.Fatalf("sample at %d = %v, want 5 at the tick 1000", ss[0].T, ss[0].V)
	}
}

func TestHonorLabels(t *testing.T) {
	body := "m{job=\"theirs\",exported_job=\"taken\",instance=\"x\"} 1\n"
	for _, tc := range []struct {
		name  string
		honor bool
		want  labels.Labels
	}{
		{"off: exposed labels are renamed exported_", false, labels.FromStrings(
			"__name__", "m", "job", "test", "instance", "host:9100", "team", "a",
			"exported_job", "taken", "exported_exported_job", "theirs", "exported_instance", "x")},
		{"on: exposed labels win", true, labels.FromStrings(
			"__name__", "m", "job", "theirs", "instance", "x", "team", "a", "exported_job", "taken")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.HonorLabels = tc.honor
			ss, _, err := parseOnce(t, cfg, body)
			if err != nil {
				t.Fatal(err)
			}
			if !labels.Equal(ss[0].Labels, tc.want) {
				t.Fatalf("got %s\nwant %s", ss[0].Labels, tc.want)
			}
		})
	}
}

func TestHonorTimestamps(t *testing.T) {
	body := "m 1 500\n"
	cfg := testConfig()
	ss, _, _ := parseOnce(t, cfg, body)
	if ss[0].T != 500 {
		t.Fatalf("honor_timestamps: stamped %d, want the target's 500", ss[0].T)
	}
	cfg.HonorTimestamps = false
	ss, _, _ = parseOnce(t, cfg, body)
	if ss[0].T != 1000 {
		t.Fatalf("without honor_timestamps: stamped %d, want the tick 1000", ss[0].T)
	}
}

func TestMetricRelabelingDropsAndCounts(t *testing.T) {
	cfg := testConfig()
	cfg.MetricRelabel = []*relabel.Config{{
		SourceLabels: model.LabelNames{"__name__"}, Regex: relabel.MustNewRegexp("drop_.*"), Action: relabel.Drop,
		Separator: ";", Replacement: "$1", NameValidationScheme: cfg.ValidationScheme,
	}}
	ss, res, err := parseOnce(t, cfg, "keep 1\ndrop_me 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || res.total != 2 || res.added != 1 {
		t.Fatalf("samples %v, total %d, added %d; want 1 sample of 2, 1 after relabeling", ss, res.total, res.added)
	}
}

func TestLimitsFailTheScrape(t *testing.T) {
	for _, tc := range []struct {
		name    string
		set     func(*Config)
		body    string
		wantErr string
	}{
		{"sample_limit", func(c *Config) { c.SampleLimit = 2 }, "a 1\nb 1\nc 1\n", "sample limit exceeded"},
		{"label_limit", func(c *Config) { c.LabelLimit = 4 }, "a{x=\"1\",y=\"2\"} 1\n", "label_limit exceeded"},
		{"label_name_length_limit", func(c *Config) { c.LabelNameLengthLimit = 5 }, "a{longname=\"1\"} 1\n", "label_name_length_limit exceeded"},
		{"label_value_length_limit", func(c *Config) { c.LabelValueLengthLimit = 3 }, "a{x=\"long value\"} 1\n", "label_value_length_limit exceeded"},
		{"legacy names", func(c *Config) {}, "{\"a.b\"} 1\n", "invalid metric name"},
		{"repeated label name", func(c *Config) {}, "ok 1\na{x=\"1\",x=\"2\"} 1\n", `label name "x" is not unique`},
		{"repeated label name, honor_labels", func(c *Config) { c.HonorLabels = true }, "a{y=\"1\",y=\"1\"} 1\n", `label name "y" is not unique`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.set(&cfg)
			_, _, err := parseOnce(t, cfg, tc.body)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestSampleLimitCountsEverySampleScraped(t *testing.T) {
	cfg := testConfig()
	cfg.SampleLimit = 1
	_, res, err := parseOnce(t, cfg, "a 1\nb 1\nc 1\n")
	if err == nil || res.total != 3 {
		t.Fatalf("err %v, total %d; want the limit error and all 3 samples counted", err, res.total)
	}
}

func TestSeriesCacheServesSteadyTargets(t *testing.T) {
	cfg := testConfig()
	tg, _ := newTarget(labels.FromStrings("__address__", "h:1"), &cfg)
	p := newParser(tg, &cfg)
	body := []byte("a 1\nb 2\n")
	var first, second sample.Batch
	p.cache.begin()
	res1, _ := p.parse(body, "text/plain", 1, &first)
	p.cache.commit(func(labels.Labels) {})
	p.cache.begin()
	res2, _ := p.parse(body, "text/plain", 2, &second)
	p.cache.commit(func(labels.Labels) {})
	if res1.seriesAdded != 2 || res2.seriesAdded != 0 {
		t.Fatalf("series added %d then %d, want 2 then 0", res1.seriesAdded, res2.seriesAdded)
	}
	if !labels.Equal(first.Samples[0].Labels, second.Samples[0].Labels) {
		t.Fatal("cached labels differ")
	}
}

func TestDuplicateSeriesInOneBodyIsSentOnce(t *testing.T) {
	ss, res, err := parseOnce(t, testConfig(), "a 1\na 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || res.duplicates != 1 {
		t.Fatalf("sent %d samples with %d duplicates, want 1 and 1", len(ss), res.duplicates)
	}
}

func TestFallbackProtocolParsesBodiesWithoutContentType(t *testing.T) {
	cfg := testConfig()
	tg, _ := newTarget(labels.FromStrings("__address__", "h:1"), &cfg)
	p := newParser(tg, &cfg)
	var b sample.Batch
	p.cache.begin()
	res, err := p.parse([]byte("a 1\n"), "", 1, &b)
	if err != nil || len(b.Samples) != 1 || res.fallback == nil {
		t.Fatalf("err %v, %d samples, fallback %v", err, len(b.Samples), res.fallback)
	}
	cfg.FallbackProtocol = ""
	p = newParser(tg, &cfg)
	p.cache.begin()
	if _, err := p.parse([]byte("a 1\n"), "", 1, &b); err == nil {
		t.Fatal("a body without Content-Type parsed without a fallback protocol")
	}
}
