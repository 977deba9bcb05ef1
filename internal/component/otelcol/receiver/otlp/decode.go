package otlp

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"mime"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// The media types of OTLP/HTTP.
const (
	protobufType = "application/x-protobuf"
	jsonType     = "application/json"
)

// errUnsupportedType is returned for a body that is neither protobuf nor
// JSON.
var errUnsupportedType = errors.New("unsupported content type: OTLP/HTTP takes application/x-protobuf or application/json")

// decodeMetrics decodes an ExportMetricsServiceRequest in the encoding
// that contentType names. It is the entry point of every OTLP/HTTP body.
func decodeMetrics(contentType string, body []byte) (pmetric.Metrics, error) {
	req := pmetricotlp.NewExportRequest()
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return pmetric.Metrics{}, errUnsupportedType
	}
	switch mt {
	case protobufType:
		err = req.UnmarshalProto(body)
	case jsonType:
		err = req.UnmarshalJSON(body)
	default:
		return pmetric.Metrics{}, errUnsupportedType
	}
	if err != nil {
		return pmetric.Metrics{}, err
	}
	return req.Metrics(), nil
}

// encodeResponse is the body of a successful response in the request's
// encoding.
func encodeResponse(contentType string) ([]byte, string) {
	resp := pmetricotlp.NewExportResponse()
	if mt, _, _ := mime.ParseMediaType(contentType); mt == jsonType {
		b, _ := resp.MarshalJSON()
		return b, jsonType
	}
	b, _ := resp.MarshalProto()
	return b, protobufType
}

func knownEncoding(e string) bool {
	switch e {
	case "", "gzip", "zstd", "zlib", "snappy", "deflate", "lz4":
		return true
	}
	return false
}

// errTooLarge is returned when a body exceeds max_request_body_size,
// before or after decompression.
var errTooLarge = errors.New("request body too large")

// readBody reads body, decompressing it as encoding says, up to limit
// bytes after decompression.
func readBody(body io.Reader, encoding string, limit int64) ([]byte, error) {
	read := func(r io.Reader) ([]byte, error) {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return nil, err
		}
		if int64(len(b)) > limit {
			return nil, errTooLarge
		}
		return b, nil
	}
	switch encoding {
	case "", "identity":
		return read(body)
	case "gzip", "x-gzip":
		r, err := gzip.NewReader(body)
		if err != nil {
			return nil, err
		}
		return read(r)
	case "zlib", "deflate":
		r, err := zlib.NewReader(body)
		if err != nil {
			return nil, err
		}
		return read(r)
	case "zstd":
		r, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(limit)+1))
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return read(r)
	case "snappy":
		raw, err := read(body)
		if err != nil {
			return nil, err
		}
		if bytes.HasPrefix(raw, []byte("\xff\x06\x00\x00sNaPpY")) {
			return read(snappy.NewReader(bytes.NewReader(raw)))
		}
		if n, err := snappy.DecodedLen(raw); err != nil {
			return nil, err
		} else if int64(n) > limit {
			return nil, errTooLarge
		}
		return snappy.Decode(nil, raw)
	}
	return nil, fmt.Errorf("unsupported content encoding %q", encoding)
}
