package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func TestReadLimited(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		limit   int64
		wantErr error
	}{
		{"no limit", 100_000, 0, nil},
		{"under the limit", 1000, 1001, nil},
		{"exactly the limit", 1000, 1000, nil},
		{"one byte over", 1001, 1000, errBodySizeLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tc.size)
			got, err := readLimited(bytes.NewReader(body), nil, tc.limit)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(got, body) {
				t.Fatalf("read %d bytes, want %d", len(got), tc.size)
			}
		})
	}
}

// endlessReader never ends.
type endlessReader struct{}

func (endlessReader) Read(p []byte) (int, error) { return len(p), nil }

func TestReadLimitedStopsAnEndlessBody(t *testing.T) {
	buf, err := readLimited(endlessReader{}, nil, 1<<20)
	if !errors.Is(err, errBodySizeLimit) || len(buf) > 1<<20+1 {
		t.Fatalf("err %v after %d bytes", err, len(buf))
	}
}

func TestFetchDecompressesGzipAndReusesBuffers(t *testing.T) {
	body := strings.Repeat("some_metric{label=\"value\"} 1\n", 1000)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = io.WriteString(w, body)
	_ = w.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(rw, "no gzip asked", http.StatusBadRequest)
			return
		}
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
		rw.Header().Set("Content-Encoding", "gzip")
		_, _ = rw.Write(gz.Bytes())
	}))
	defer srv.Close()

	cfg := testConfig()
	tg, err := newTarget(labels.FromStrings("__address__", srv.Listener.Addr().String()), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	var p pools
	f, err := newFetcher(srv.Client(), tg, &cfg, acceptHeader(cfg.Protocols, cfg.EscapingScheme), &p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, ct, err := f.fetch(context.Background())
		if err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		if string(got) != body || !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("scrape %d: %d bytes of %q", i, len(got), ct)
		}
		f.release(got)
	}
	if f.lastSize != len(body) {
		t.Fatalf("last size %d, want %d", f.lastSize, len(body))
	}
}

func TestFetchTimesOut(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	cfg := testConfig()
	cfg.Timeout = 50 * time.Millisecond
	tg, _ := newTarget(labels.FromStrings("__address__", srv.Listener.Addr().String()), &cfg)
	f, _ := newFetcher(srv.Client(), tg, &cfg, "*/*", &pools{})
	if _, _, err := f.fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestBufferPoolSizeClasses(t *testing.T) {
	var p pools
	for _, n := range []int{0, 1, 4096, 4097, 1 << 20, 3<<20 + 5} {
		b := p.getBuffer(n)
		if cap(b) < n || len(b) != 0 {
			t.Fatalf("getBuffer(%d): len %d cap %d", n, len(b), cap(b))
		}
		p.putBuffer(b)
		if b2 := p.getBuffer(n); cap(b2) < n {
			t.Fatalf("reused buffer for %d has cap %d", n, cap(b2))
		}
	}
}
