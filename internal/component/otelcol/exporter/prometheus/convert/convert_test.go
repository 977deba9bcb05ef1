package convert

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/shoal-dev/shoal/internal/sample"
)

// The cases below are those of Alloy's converter tests
// (internal/component/otelcol/exporter/prometheus/internal/convert), with
// the series Alloy's converter writes for them as the expected output,
// written out one series per line: name{labels in order} value, then
// " # {exemplar labels} value" when the series carries an exemplar.

const (
	exemplarA = `{"time_unix_nano": 1000000001, "as_double": 0.3, "span_id": "aaaaaaaaaaaaaaaa", "trace_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`
	exemplarB = `{"time_unix_nano": 1000000002, "as_double": 0.5, "span_id": "bbbbbbbbbbbbbbbb", "trace_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}`
	exemplarC = `{"time_unix_nano": 1000000003, "as_double": 1.5, "span_id": "cccccccccccccccc", "trace_id": "cccccccccccccccccccccccccccccccc"}`
	exA       = ` # {span_id="aaaaaaaaaaaaaaaa",trace_id="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} 0.3`
	exB       = ` # {span_id="bbbbbbbbbbbbbbbb",trace_id="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"} 0.5`
	exC       = ` # {span_id="cccccccccccccccc",trace_id="cccccccccccccccccccccccccccccccc"} 1.5`

	// service resource of Alloy's resource_to_telemetry_conversion cases.
	serviceResource = `"resource": {"attributes": [
		{"key": "service.name", "value": {"stringValue": "myservice"}},
		{"key": "service.instance.id", "value": {"stringValue": "instance"}},
		{"key": "raw", "value": {"stringValue": "test"}},
		{"key": "foo.one", "value": {"stringValue": "foo"}},
		{"key": "bar.one", "value": {"stringValue": "bar"}}]}`
	serviceLabels = `bar_one="bar",foo_one="foo",instance="instance",job="myservice",raw="test",service_instance_id="instance",service_name="myservice"`
)

// payload wraps metrics (JSON objects, comma separated) in one resource
// (given as a "resource" member, or "") and one scope.
func payload(resource, metrics string) string {
	if resource != "" {
		resource += ","
	}
	return `{"resource_metrics": [{` + resource + `"scope_metrics": [{"metrics": [` + metrics + `]}]}]}`
}

func histogramJSON(name, unit, bounds string, exemplars ...string) string {
	return fmt.Sprintf(`{"name": %q, "unit": %q, "description": "A histogram of request durations", "histogram": {
		"aggregation_temporality": 2,
		"data_points": [{"start_time_unix_nano": 1000000000, "time_unix_nano": 1000000000,
			"count": 333, "sum": 100, "bucket_counts": [0, 111, 0, 222], "explicit_bounds": [%s],
			"exemplars": [%s]}]}}`, name, unit, bounds, strings.Join(exemplars, ","))
}

func summaryJSON(name, unit string) string {
	return fmt.Sprintf(`{"name": %q, "unit": %q, "summary": {"data_points": [{
		"start_time_unix_nano": 1000000000, "time_unix_nano": 1000000000, "count": 333, "sum": 100,
		"quantile_values": [{"quantile": 0, "value": 100}, {"quantile": 0.25, "value": 200},
			{"quantile": 0.5, "value": 300}, {"quantile": 0.75, "value": 400}, {"quantile": 1, "value": 500}]}]}}`, name, unit)
}

func sumJSON(name, unit string, monotonic bool, exemplars ...string) string {
	return fmt.Sprintf(`{"name": %q, "unit": %q, "sum": {"aggregation_temporality": 2, "is_monotonic": %v,
		"data_points": [{"start_time_unix_nano": 1000000000, "time_unix_nano": 1000000000, "as_double": 15,
			"exemplars": [%s]}]}}`, name, unit, monotonic, strings.Join(exemplars, ","))
}

func gaugeJSON(name, unit, attrs string) string {
	return fmt.Sprintf(`{"name": %q, "unit": %q, "description": "A test gauge", "gauge": {"data_points": [{
		"start_time_unix_nano": 1000000000, "time_unix_nano": 1000000000, "as_double": 1234.56, "attributes": [%s]}]}}`, name, unit, attrs)
}

// render writes the samples of b one per line, sorted, as the cases
// expect them; timestamps are left out.
func render(b *sample.Batch) []string {
	ex := map[string]string{}
	for _, e := range b.Exemplars {
		ex[e.Labels.String()] = fmt.Sprintf(" # %s %s", promLabels(e.Exemplar.Labels), strconv.FormatFloat(e.Exemplar.Value, 'g', -1, 64))
	}
	var out []string
	for _, s := range b.Samples {
		v := strconv.FormatFloat(s.V, 'g', -1, 64)
		if value.IsStaleNaN(s.V) {
			v = "stale"
		}
		if s.H != nil {
			v = "histogram"
		}
		out = append(out, s.Labels.Get("__name__")+promLabels(s.Labels.DropMetricName())+" "+v+ex[s.Labels.String()])
	}
	slices.Sort(out)
	return out
}

func promLabels(ls labels.Labels) string {
	if ls.IsEmpty() {
		return ""
	}
	var parts []string
	ls.Range(func(l labels.Label) { parts = append(parts, fmt.Sprintf("%s=%q", l.Name, l.Value)) })
	return "{" + strings.Join(parts, ",") + "}"
}

func decode(t testing.TB, js string) pmetric.Metrics {
	t.Helper()
	var u pmetric.JSONUnmarshaler
	md, err := u.UnmarshalMetrics([]byte(js))
	if err != nil {
		t.Fatalf("decoding the case's input: %v\n%s", err, js)
	}
	return md
}

func convert(t testing.TB, opts Options, js string) *sample.Batch {
	t.Helper()
	var b sample.Batch
	New(opts).Convert(decode(t, js), &b)
	return &b
}

func TestConverterAsAlloy(t *testing.T) {
	hist := func(name string) []string {
		return []string{
			name + `_bucket{le="+Inf"} 333` + exC,
			name + `_bucket{le="0.25"} 0`,
			name + `_bucket{le="0.5"} 111` + exA,
			name + `_bucket{le="0.75"} 111` + exB,
			name + `_bucket{le="1"} 333`,
			name + `_count 333`,
			name + `_sum 100`,
		}
	}
	summary := func(name, labels string) []string {
		l := func(extra string) string {
			var parts []string
			for _, p := range []string{labels, extra} {
				if p != "" {
					parts = append(parts, strings.Split(p, ",")...)
				}
			}
			if len(parts) == 0 {
				return ""
			}
			slices.Sort(parts)
			return "{" + strings.Join(parts, ",") + "}"
		}
		return []string{
			name + l(`quantile="0"`) + " 100", name + l(`quantile="0.25"`) + " 200", name + l(`quantile="0.5"`) + " 300",
			name + l(`quantile="0.75"`) + " 400", name + l(`quantile="1"`) + " 500",
			name + "_count" + l("") + " 333", name + "_sum" + l("") + " 100",
		}
	}
	for _, tc := range []struct {
		name  string
		opts  Options
		input string
		want  []string
	}{
		{
			name:  "Gauge",
			input: payload("", gaugeJSON("test_metric_seconds", "", "")),
			want:  []string{"test_metric_seconds 1234.56"},
		},
		{
			name:  "Monotonic sum with exemplar",
			input: payload("", sumJSON("test_metric_seconds_total", "", true, exemplarA)),
			want:  []string{"test_metric_seconds_total 15" + exA},
		},
		{
			name:  "Non-monotonic sum",
			input: payload("", sumJSON("test_metric_seconds", "", false)),
			want:  []string{"test_metric_seconds 15"},
		},
		{
			name:  "Histogram",
			input: payload("", histogramJSON("test_metric_seconds", "", "0.25, 0.5, 0.75, 1.0", exemplarA, exemplarC, exemplarB)),
			want:  hist("test_metric_seconds"),
		},
		{
			name: "Histogram out-of-order exemplars",
			input: payload("", histogramJSON("test_metric_seconds", "", "0.25, 0.5, 0.75, 1.0", exemplarA,
				`{"time_unix_nano": 1000000000, "as_double": 0.3, "span_id": "dddddddddddddddd", "trace_id": "dddddddddddddddddddddddddddddddd"}`,
				exemplarC, exemplarB)),
			want: hist("test_metric_seconds"),
		},
		{
			name:  "Histogram out-of-order bounds",
			input: payload("", histogramJSON("test_metric_seconds", "", "0.5, 1.0, 0.25, 0.75")),
			want: []string{
				`test_metric_seconds_bucket{le="+Inf"} 333`, `test_metric_seconds_bucket{le="0.25"} 0`,
				`test_metric_seconds_bucket{le="0.5"} 0`, `test_metric_seconds_bucket{le="0.75"} 222`,
				`test_metric_seconds_bucket{le="1"} 333`, `test_metric_seconds_count 333`, `test_metric_seconds_sum 100`,
			},
		},
		{
			name:  "Summary",
			input: payload("", summaryJSON("test_metric_seconds", "")),
			want:  summary("test_metric_seconds", ""),
		},
		{
			name: "Labels from resource attributes",
			input: payload(`"resource": {"attributes": [
				{"key": "service.name", "value": {"stringValue": "myservice"}},
				{"key": "service.instance.id", "value": {"stringValue": "instance"}},
				{"key": "do_not_display", "value": {"stringValue": "test"}}]}`, gaugeJSON("test_metric_seconds", "", "")),
			want: []string{`test_metric_seconds{instance="instance",job="myservice"} 1234.56`},
		},
		{
			name: "Scope info",
			opts: Options{IncludeScopeInfo: true},
			input: `{"resource_metrics": [{"scope_metrics": [{
				"scope": {"name": "a-name", "version": "a-version", "attributes": [{"key": "something.extra", "value": {"stringValue": "zzz-extra-value"}}]},
				"metrics": [` + gaugeJSON("test_metric_seconds", "", "") + `]}]}]}`,
			want: []string{
				`otel_scope_info{otel_scope_name="a-name",otel_scope_version="a-version",something_extra="zzz-extra-value"} 1`,
				`test_metric_seconds 1234.56`,
			},
		},
		{
			name: "Scope labels",
			opts: Options{IncludeScopeLabels: true},
			input: `{"resource_metrics": [{"scope_metrics": [{
				"scope": {"name": "a-name", "version": "a-version", "attributes": [{"key": "something.extra", "value": {"stringValue": "zzz-extra-value"}}]},
				"metrics": [` + gaugeJSON("test_metric_seconds", "", `{"key": "foo", "value": {"stringValue": "bar"}}`) + `]}]}]}`,
			want: []string{`test_metric_seconds{foo="bar",otel_scope_name="a-name",otel_scope_version="a-version"} 1234.56`},
		},
		{
			name: "Target info",
			opts: Options{IncludeTargetInfo: true},
			input: payload(`"resource": {"attributes": [
				{"key": "service.name", "value": {"stringValue": "myservice"}},
				{"key": "service.instance.id", "value": {"stringValue": "instance"}},
				{"key": "custom_attr", "value": {"stringValue": "test"}}]}`, gaugeJSON("test_metric_seconds", "", "")),
			want: []string{
				`target_info{custom_attr="test",instance="instance",job="myservice"} 1`,
				`test_metric_seconds{instance="instance",job="myservice"} 1234.56`,
			},
		},
		{
			name: "Target info with keep_identifying_resource_attributes",
			opts: Options{IncludeTargetInfo: true, KeepIdentifyingResourceAttributes: true},
			input: payload(`"resource": {"attributes": [
				{"key": "service.name", "value": {"stringValue": "myservice"}},
				{"key": "service.namespace", "value": {"stringValue": "myns"}},
				{"key": "service.instance.id", "value": {"stringValue": "instance"}},
				{"key": "custom_attr", "value": {"stringValue": "test"}}]}`, gaugeJSON("test_metric_seconds", "", "")),
			want: []string{
				`target_info{custom_attr="test",instance="instance",job="myns/myservice",service_instance_id="instance",service_name="myservice",service_namespace="myns"} 1`,
				`test_metric_seconds{instance="instance",job="myns/myservice"} 1234.56`,
			},
		},
		{name: "Gauge without suffixes", input: payload("", gaugeJSON("test_metric", "seconds", "")), want: []string{"test_metric 1234.56"}},
		{name: "Gauge with suffixes", opts: Options{AddMetricSuffixes: true}, input: payload("", gaugeJSON("test_metric", "seconds", "")), want: []string{"test_metric_seconds 1234.56"}},
		{name: "Monotonic sum without suffixes", input: payload("", sumJSON("test_metric_total", "seconds", true, exemplarA)), want: []string{"test_metric_total 15" + exA}},
		{name: "Monotonic sum with suffixes", opts: Options{AddMetricSuffixes: true}, input: payload("", sumJSON("test_metric_total", "seconds", true, exemplarA)), want: []string{"test_metric_seconds_total 15" + exA}},
		{name: "Monotonic sum without suffixes, no _total", input: payload("", sumJSON("test_metric", "seconds", true)), want: []string{"test_metric 15"}},
		{name: "Monotonic sum with suffixes, no _total", opts: Options{AddMetricSuffixes: true}, input: payload("", sumJSON("test_metric", "seconds", true)), want: []string{"test_metric_seconds_total 15"}},
		{name: "Non-monotonic sum without suffixes", input: payload("", sumJSON("test_metric", "seconds", false)), want: []string{"test_metric 15"}},
		{name: "Non-monotonic sum with suffixes", opts: Options{AddMetricSuffixes: true}, input: payload("", sumJSON("test_metric", "seconds", false)), want: []string{"test_metric_seconds 15"}},
		{
			name:  "Histogram without suffixes",
			input: payload("", histogramJSON("test_metric", "seconds", "0.25, 0.5, 0.75, 1.0", exemplarA, exemplarC, exemplarB)),
			want:  hist("test_metric"),
		},
		{
			name:  "Histogram with suffixes",
			opts:  Options{AddMetricSuffixes: true},
			input: payload("", histogramJSON("test_metric", "seconds", "0.25, 0.5, 0.75, 1.0", exemplarA, exemplarC, exemplarB)),
			want:  hist("test_metric_seconds"),
		},
		{name: "Summary without suffixes", input: payload("", summaryJSON("test_metric", "seconds")), want: summary("test_metric", "")},
		{name: "Summary with suffixes", opts: Options{AddMetricSuffixes: true}, input: payload("", summaryJSON("test_metric", "seconds")), want: summary("test_metric_seconds", "")},
		{
			name:  "Gauge, resource attributes to labels",
			opts:  Options{ResourceToTelemetryConversion: true},
			input: payload(serviceResource, gaugeJSON("test_metric_gauge", "", "")),
			want:  []string{"test_metric_gauge{" + serviceLabels + "} 1234.56"},
		},
		{
			name:  "Gauge, resource attributes not to labels",
			input: payload(serviceResource, gaugeJSON("test_metric_gauge", "", "")),
			want:  []string{`test_metric_gauge{instance="instance",job="myservice"} 1234.56`},
		},
		{
			name:  "Summary, resource attributes to labels",
			opts:  Options{ResourceToTelemetryConversion: true},
			input: payload(serviceResource, summaryJSON("test_metric_summary", "seconds")),
			want:  summary("test_metric_summary", serviceLabels),
		},
		{
			name:  "Monotonic sum, resource attributes to labels",
			opts:  Options{ResourceToTelemetryConversion: true},
			input: payload(serviceResource, sumJSON("test_metric_mono_sum_total", "seconds", true, exemplarA)),
			want:  []string{"test_metric_mono_sum_total{" + serviceLabels + "} 15" + exA},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(convert(t, tc.opts, tc.input))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// TestMetadataAsAlloy: with honor_metadata, a family's type, help and unit
// go with its first batch and again only when they change.
func TestMetadataAsAlloy(t *testing.T) {
	c := New(Options{HonorMetadata: true, IncludeTargetInfo: true})
	in := payload("", gaugeJSON("test_metric_seconds", "s", "")+","+sumJSON("c_total", "", true)+","+histogramJSON("h", "", "1"))
	var b sample.Batch
	c.Convert(decode(t, in), &b)
	got := map[string]sample.Metadata{}
	for _, m := range b.Metadata {
		got[m.Family] = m
	}
	want := map[string]sample.Metadata{
		"target_info":         {Family: "target_info", Type: "gauge", Help: "Target metadata"},
		"test_metric_seconds": {Family: "test_metric_seconds", Type: "gauge", Help: "A test gauge", Unit: "s"},
		"c_total":             {Family: "c_total", Type: "counter"},
		"h":                   {Family: "h", Type: "histogram", Help: "A histogram of request durations"},
	}
	if len(got) != len(want) {
		t.Errorf("metadata %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("metadata of %s = %+v, want %+v", k, got[k], w)
		}
	}
	b.Reset()
	c.Convert(decode(t, in), &b)
	if len(b.Metadata) != 0 {
		t.Errorf("unchanged metadata sent again: %v", b.Metadata)
	}
	c.SetOptions(Options{HonorMetadata: true})
	c.Convert(decode(t, in), &b)
	if len(b.Metadata) != 3 {
		t.Errorf("after an update, %d families' metadata sent, want the 3 still written", len(b.Metadata))
	}
	b.Reset()
	New(Options{}).Convert(decode(t, in), &b)
	if len(b.Metadata) != 0 {
		t.Errorf("metadata sent without honor_metadata: %v", b.Metadata)
	}
}

// expand lists the bucket counts of spans and deltas by bucket index,
// leaving out empty buckets: layouts that differ only in where spans
// break describe the same histogram.
func expand(spans []histogram.Span, deltas []int64) map[int32]int64 {
	out := map[int32]int64{}
	var idx int32
	var count int64
	d := 0
	for i, s := range spans {
		if i == 0 {
			idx = s.Offset
		} else {
			idx += s.Offset
		}
		for j := uint32(0); j < s.Length; j++ {
			count += deltas[d]
			d++
			if count != 0 {
				out[idx] = count
			}
			idx++
		}
	}
	return out
}

func TestExponentialHistogramsAsAlloy(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		point                 string
		schema                int32
		zeroCount, count      uint64
		sum                   float64
		posSpans, negSpans    []histogram.Span
		posDeltas, negDeltas  []int64
		exemplarSpan, exValue string
		// inconsistent is true for Alloy's case whose count (19) is not
		// what its buckets hold (24).
		inconsistent bool
	}{
		{
			// Alloy's "Exponential Histogram with metadata": only the
			// newest of its out-of-order exemplars is kept.
			name: "scale 0",
			point: `"scale": 0, "count": 11, "sum": 158.63, "positive": {"offset": -1, "bucket_counts": [2, 1, 3, 2, 0, 0, 3]},
				"exemplars": [
					{"time_unix_nano": 1000000001, "as_double": 3.0, "span_id": "aaaaaaaaaaaaaaaa", "trace_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
					{"time_unix_nano": 1000000003, "as_double": 1.0, "span_id": "cccccccccccccccc", "trace_id": "cccccccccccccccccccccccccccccccc"},
					{"time_unix_nano": 1000000002, "as_double": 1.5, "span_id": "bbbbbbbbbbbbbbbb", "trace_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]`,
			schema: 0, count: 11, sum: 158.63,
			posSpans: []histogram.Span{{Offset: 0, Length: 7}}, posDeltas: []int64{2, -1, 2, -1, -2, 0, 3},
			exemplarSpan: "cccccccccccccccc", exValue: "1",
		},
		{
			// Alloy's "Exponential Histogram 2", negative buckets and a
			// zero count; the zero threshold given is not used.
			name: "scale 2 with negative buckets",
			point: `"scale": 2, "count": 19, "sum": 200, "zero_count": 5, "zero_threshold": 0.1,
				"positive": {"offset": 3, "bucket_counts": [0, 0, 0, 0, 2, 1, 1, 0, 3, 0, 0]},
				"negative": {"offset": 0, "bucket_counts": [0, 4, 0, 2, 3, 0, 0, 3]},
				"exemplars": [{"time_unix_nano": 1000000001, "as_double": 3.0, "span_id": "aaaaaaaaaaaaaaaa", "trace_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]`,
			schema: 2, zeroCount: 5, count: 19, sum: 200,
			posSpans: []histogram.Span{{Offset: 4, Length: 0}, {Offset: 4, Length: 7}}, posDeltas: []int64{2, -1, 0, -1, 3, -3, 0},
			negSpans: []histogram.Span{{Offset: 1, Length: 8}}, negDeltas: []int64{0, 4, -4, 2, 1, -3, 0, 3},
			exemplarSpan: "aaaaaaaaaaaaaaaa", exValue: "3", inconsistent: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := payload("", `{"name": "test_exponential_histogram", "exponential_histogram": {"aggregation_temporality": 2,
				"data_points": [{"start_time_unix_nano": 1000000000, "time_unix_nano": 1000000000, `+tc.point+`}]}}`)
			b := convert(t, Options{}, in)
			if len(b.Samples) != 1 || b.Samples[0].H == nil {
				t.Fatalf("samples %v, want one native histogram", b.Samples)
			}
			h := b.Samples[0].H
			if err := h.Validate(); err != nil && !tc.inconsistent {
				t.Errorf("invalid histogram: %v", err)
			}
			if h.Schema != tc.schema || h.ZeroCount != tc.zeroCount || h.Count != tc.count || h.Sum != tc.sum || h.ZeroThreshold != 1e-128 {
				t.Errorf("schema %d zero %d count %d sum %g threshold %g", h.Schema, h.ZeroCount, h.Count, h.Sum, h.ZeroThreshold)
			}
			if got, want := expand(h.PositiveSpans, h.PositiveBuckets), expand(tc.posSpans, tc.posDeltas); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("positive buckets %v, want %v", got, want)
			}
			if got, want := expand(h.NegativeSpans, h.NegativeBuckets), expand(tc.negSpans, tc.negDeltas); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("negative buckets %v, want %v", got, want)
			}
			if len(b.Exemplars) < 1 {
				t.Fatal("no exemplar")
			}
			last := b.Exemplars[len(b.Exemplars)-1].Exemplar
			if last.Labels.Get("span_id") != tc.exemplarSpan || strconv.FormatFloat(last.Value, 'g', -1, 64) != tc.exValue {
				t.Errorf("newest exemplar %v, want span %s value %s", last, tc.exemplarSpan, tc.exValue)
			}
		})
	}
}

// TestExponentialScaleDown: a schema above 8 is reduced to 8 by merging
// buckets; one below -4 is dropped.
func TestExponentialScaleDown(t *testing.T) {
	in := payload("", `{"name": "e", "exponential_histogram": {"aggregation_temporality": 2, "data_points": [
		{"time_unix_nano": 1000000000, "scale": 10, "count": 10, "sum": 5, "positive": {"offset": 0, "bucket_counts": [1, 2, 3, 4]}}]}}`)
	h := convert(t, Options{}, in).Samples[0].H
	// Scale 10 to 8 merges 4 buckets into one: OTLP buckets 0..3 are
	// Prometheus bucket 1 at schema 8.
	if h.Schema != 8 || fmt.Sprint(expand(h.PositiveSpans, h.PositiveBuckets)) != "map[1:10]" {
		t.Errorf("schema %d buckets %v", h.Schema, expand(h.PositiveSpans, h.PositiveBuckets))
	}
	in = strings.Replace(in, `"scale": 10`, `"scale": -5`, 1)
	if b := convert(t, Options{}, in); len(b.Samples) != 0 {
		t.Errorf("a histogram of scale -5 was written: %v", b.Samples)
	}
}

func TestClassicHistogramAsCustomBuckets(t *testing.T) {
	in := payload("", `{"name": "h", "histogram": {"aggregation_temporality": 2, "data_points": [{"time_unix_nano": 1000000000,
		"count": 10, "sum": 5.5, "bucket_counts": [0, 2, 5, 3], "explicit_bounds": [0.1, 0.5, 1.0]}]}}`)
	b := convert(t, Options{ConvertClassicHistogramsToNHCB: true}, in)
	if len(b.Samples) != 1 || b.Samples[0].H == nil {
		t.Fatalf("samples %v", b.Samples)
	}
	h := b.Samples[0].H
	if h.Schema != histogram.CustomBucketsSchema || !slices.Equal(h.CustomValues, []float64{0.1, 0.5, 1}) || h.Count != 10 || h.Sum != 5.5 {
		t.Errorf("histogram %v", h)
	}
	if got := fmt.Sprint(expand(h.PositiveSpans, h.PositiveBuckets)); got != "map[1:2 2:5 3:3]" {
		t.Errorf("buckets %s", got)
	}
	if err := h.Validate(); err != nil {
		t.Error(err)
	}
}

// TestDroppedAndStale: delta sums and histograms are dropped; a point
// flagged as having no recorded value is a staleness marker; a point older
// than the last one written to its series is dropped.
func TestDroppedAndStale(t *testing.T) {
	in := payload("", `{"name": "d", "sum": {"aggregation_temporality": 1, "is_monotonic": true, "data_points": [{"time_unix_nano": 1, "as_int": 3}]}},
		{"name": "dh", "histogram": {"aggregation_temporality": 1, "data_points": [{"time_unix_nano": 1, "count": 1}]}},
		{"name": "g", "gauge": {"data_points": [{"time_unix_nano": 3000000000, "as_int": 7}, {"time_unix_nano": 2000000000, "as_int": 8}, {"time_unix_nano": 4000000000, "flags": 1}]}}`)
	b := convert(t, Options{}, in)
	got := render(b)
	if want := []string{"g 7", "g stale"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if b.Samples[0].T != 3000 || b.Samples[1].T != 4000 {
		t.Errorf("timestamps %d, %d, want 3000, 4000", b.Samples[0].T, b.Samples[1].T)
	}
	if !value.IsStaleNaN(b.Samples[1].V) {
		t.Error("not a staleness marker")
	}
}

// TestGCForgetsUnseenSeries: series unseen for the stale time are
// forgotten, so an older point is accepted again.
func TestGCForgetsUnseenSeries(t *testing.T) {
	c := New(Options{IncludeTargetInfo: true})
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	var b sample.Batch
	c.Convert(decode(t, payload("", `{"name": "g", "gauge": {"data_points": [{"time_unix_nano": 5000000000, "as_int": 1}]}}`)), &b)
	if c.Len() != 3 { // target_info, otel_scope_info, g
		t.Fatalf("%d series remembered, want 3", c.Len())
	}
	now = now.Add(time.Minute)
	c.GC(5 * time.Minute)
	if c.Len() != 3 {
		t.Fatalf("GC forgot series seen a minute ago: %d left", c.Len())
	}
	now = now.Add(5 * time.Minute)
	c.GC(5 * time.Minute)
	if c.Len() != 0 {
		t.Fatalf("%d series left after GC, want 0", c.Len())
	}
	b.Reset()
	c.Convert(decode(t, payload("", `{"name": "g", "gauge": {"data_points": [{"time_unix_nano": 4000000000, "as_int": 1}]}}`)), &b)
	if got := render(&b); !slices.Contains(got, "g 1") {
		t.Errorf("after GC an older point was dropped: %v", got)
	}
}

// TestStartTimestampZero: with start_timestamp_zero_ingestion a counter
// gets a zero at its start time, once per start time; a gauge never.
func TestStartTimestampZero(t *testing.T) {
	c := New(Options{StartTimestampZeroIngestion: true})
	in := payload("", `{"name": "c", "sum": {"aggregation_temporality": 2, "is_monotonic": true, "data_points": [
		{"start_time_unix_nano": 1000000000, "time_unix_nano": 5000000000, "as_int": 3},
		{"start_time_unix_nano": 1000000000, "time_unix_nano": 6000000000, "as_int": 4}]}},
		{"name": "g", "gauge": {"data_points": [{"start_time_unix_nano": 1000000000, "time_unix_nano": 5000000000, "as_int": 3}]}}`)
	var b sample.Batch
	c.Convert(decode(t, in), &b)
	var got []string
	for _, s := range b.Samples {
		got = append(got, fmt.Sprintf("%s@%d=%g", s.Labels.Get("__name__"), s.T, s.V))
	}
	want := []string{"c@1000=0", "c@5000=3", "c@6000=4", "g@5000=3"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name, unit string
		kind       string // gauge, counter, updown
		suffixes   bool
		want       string
	}{
		{"system.cpu.time", "s", "counter", true, "system_cpu_time_seconds_total"},
		{"http.server.request.size", "By", "gauge", true, "http_server_request_size_bytes"},
		{"throughput", "By/s", "gauge", true, "throughput_bytes_per_second"},
		{"requests", "{request}", "counter", true, "requests_total"},
		{"cpu.utilization", "1", "gauge", true, "cpu_utilization_ratio"},
		{"cpu.utilization", "1", "updown", true, "cpu_utilization"},
		{"total.things", "", "counter", true, "things_total"},
		{"queue.size", "{item}/s", "updown", true, "queue_size_per_second"},
		{"queue.size", "{item}", "updown", true, "queue_size"},
		{"queue.rate", "/s", "gauge", true, "queue_rate_per_second"},
		{"9lives", "", "gauge", true, "_9lives"},
		{"9lives", "", "gauge", false, "_9lives"},
		{"http.server.duration", "ms", "gauge", false, "http_server_duration"},
		{"a:b-c", "", "gauge", false, "a:b_c"},
		{"a:b-c", "", "gauge", true, "a_b_c"},
		{"temp", "Cel", "gauge", true, "temp_celsius"},
		{"x_seconds", "s", "gauge", true, "x_seconds"},
		{"héllo.wörld", "", "gauge", true, "héllo_wörld"},
	} {
		m := pmetric.NewMetric()
		m.SetName(tc.name)
		m.SetUnit(tc.unit)
		switch tc.kind {
		case "gauge":
			m.SetEmptyGauge()
		case "counter":
			m.SetEmptySum().SetIsMonotonic(true)
		case "updown":
			m.SetEmptySum()
		}
		if got := MetricName(m, tc.suffixes); got != tc.want {
			t.Errorf("MetricName(%q, %q, %s, %v) = %q, want %q", tc.name, tc.unit, tc.kind, tc.suffixes, got, tc.want)
		}
	}
	for in, want := range map[string]string{
		"service.name": "service_name", "_private": "key_private", "__meta": "__meta", "0x": "key_0x",
		"a-b/c": "a_b_c", "": "", "é": "é",
	} {
		if got := LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAttributeValuesAsAlloy: non-string attribute values become labels
// as pdata prints them; an empty value removes the label; a data point
// attribute named like a base label replaces it.
func TestAttributeValuesAsAlloy(t *testing.T) {
	in := payload(`"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}`,
		gaugeJSON("g", "", `{"key": "i", "value": {"intValue": "42"}}, {"key": "b", "value": {"boolValue": true}},
			{"key": "d", "value": {"doubleValue": 1.5}}, {"key": "empty", "value": {"stringValue": ""}},
			{"key": "arr", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": "1"}]}}},
			{"key": "job", "value": {"stringValue": "overridden"}}`))
	got := render(convert(t, Options{}, in))
	want := []string{`g{arr="[\"x\",1]",b="true",d="1.5",i="42",job="overridden"} 1234.56`}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNaNValues(t *testing.T) {
	b := convert(t, Options{}, payload("", `{"name": "g", "gauge": {"data_points": [{"time_unix_nano": 1, "as_double": "NaN"}]}}`))
	if len(b.Samples) != 1 || !math.IsNaN(b.Samples[0].V) || value.IsStaleNaN(b.Samples[0].V) {
		t.Errorf("samples %v, want one plain NaN", b.Samples)
	}
}
