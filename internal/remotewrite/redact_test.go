package remotewrite

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/prompb"
)

// syncBuffer is a bytes.Buffer safe for the logger's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCredentialsInTheURLNeverAppear sends to an endpoint whose URL holds a
// password, through failures and rejections: the password must not appear
// in the metrics, the logs or the queue's files.
func TestCredentialsInTheURLNeverAppear(t *testing.T) {
	const pass = "s3cret-p4ss-in-url"
	rcv := newReceiver(t)
	rcv.setVerdict(func(n int, _ *prompb.WriteRequest) (int, string) {
		switch n {
		case 1:
			return http.StatusServiceUnavailable, "down"
		case 2:
			return http.StatusBadRequest, "out of order sample"
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Name = ""
	ep.URL = strings.Replace(rcv.srv.URL, "http://", "http://shoal:"+pass+"@", 1) + "/api/v1/write"
	var logs syncBuffer
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := start(t, dir, Options{Logger: logger, FlushOnShutdown: -1}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(1, 10, 1_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "the rejection counted", func() bool {
		return counter(t, r.reg, "prometheus_remote_storage_samples_failed_total") >= 10
	})
	r.receive(t, makeBatches(1, 10, 2_000_000))
	r.w.Flush()
	waitTotal(t, rcv, 10)
	// A dead endpoint: a network error's message.
	ep2 := ep
	ep2.URL = "http://shoal:" + pass + "@127.0.0.1:1/api/v1/write"
	if err := r.w.Update(Config{Endpoints: []EndpointConfig{ep, ep2}}); err != nil {
		t.Fatal(err)
	}
	r.receive(t, makeBatches(1, 10, 3_000_000))
	r.w.Flush()
	eventually(t, 20*time.Second, "a network error logged", func() bool {
		return strings.Contains(logs.String(), "127.0.0.1:1")
	})
	r.w.tick(time.Now())

	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var metrics bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&metrics, mf); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(metrics.String(), "xxxxx@127.0.0.1") {
		t.Errorf("the metrics do not name the endpoint by its redacted URL:\n%s", metrics.String())
	}
	places := map[string]string{"metrics": metrics.String(), "logs": logs.String()}
	r.stop(t)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			places[p] = string(b)
		}
		return nil
	})
	for where, text := range places {
		if strings.Contains(text, pass) {
			i := strings.Index(text, pass)
			t.Errorf("the password appears in %s: ...%s...", where, text[max(i-80, 0):min(i+40, len(text))])
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@host/x":       "https://u:xxxxx@host/x",
		"https://u@host/x":         "https://u@host/x",
		"https://host:9/api/write": "https://host:9/api/write",
		"https://u:p@host/%zz":     "https://xxxxx@host/%zz",
		"<URL>":                    "<URL>",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
