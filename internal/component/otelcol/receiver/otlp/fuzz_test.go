package otlp

import (
	"bytes"
	"errors"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/shoal-dev/shoal/internal/component/otelcol/otelcoltest"
)

// FuzzDecodeMetrics feeds OTLP/HTTP bodies to the decoder: it must never
// panic, and what it accepts must encode and decode again to the same
// number of data points.
func FuzzDecodeMetrics(f *testing.F) {
	req := pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 2))
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()
	f.Add(true, pb)
	f.Add(false, js)
	f.Add(false, []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"scale":2,"positive":{"offset":-3,"bucketCounts":["1","2"]}}]}}]}]}]}`))
	f.Fuzz(func(t *testing.T, proto bool, body []byte) {
		ct := jsonType
		if proto {
			ct = protobufType
		}
		md, err := decodeMetrics(ct, body)
		if err != nil {
			return
		}
		again, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if err != nil {
			t.Fatalf("re-encoding what was accepted: %v", err)
		}
		md2, err := decodeMetrics(protobufType, again)
		if err != nil {
			t.Fatalf("decoding what was re-encoded: %v", err)
		}
		if md.DataPointCount() != md2.DataPointCount() {
			t.Fatalf("%d points, %d after a round trip", md.DataPointCount(), md2.DataPointCount())
		}
	})
}

// FuzzReadBody feeds compressed bodies to the decompressor: it must never
// panic nor return more than the limit.
func FuzzReadBody(f *testing.F) {
	for _, enc := range []string{"", "gzip", "zlib", "deflate", "zstd", "snappy", "lz4"} {
		f.Add(enc, []byte("hello"))
	}
	f.Add("gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\xcaH\xcd\xc9\xc9\x07\x04\x00\x00\xff\xff\x86\xa6\x106\x05\x00\x00\x00"))
	f.Add("snappy", []byte("\xff\x06\x00\x00sNaPpY\x01\t\x00\x00\x9c\xa9\x9a\x1bhello"))
	f.Fuzz(func(t *testing.T, enc string, body []byte) {
		const limit = 1 << 16
		b, err := readBody(bytes.NewReader(body), enc, limit)
		if err == nil && len(b) > limit {
			t.Fatalf("%d bytes returned over a limit of %d", len(b), limit)
		}
		if errors.Is(err, errTooLarge) && len(body) > 0 && enc == "" && len(body) <= limit {
			t.Fatalf("a body of %d bytes refused as too large", len(body))
		}
	})
}
