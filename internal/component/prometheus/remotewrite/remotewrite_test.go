package remotewrite

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/component"
	engine "github.com/shoal-dev/shoal/internal/remotewrite"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// decode evaluates the first prometheus.remote_write block of src.
func decode(t *testing.T, name, src string) (Arguments, error) {
	t.Helper()
	f, err := parser.ParseFile(name, []byte(src))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	for _, s := range f.Body {
		b, ok := s.(*ast.BlockStmt)
		if !ok || strings.Join(b.Name, ".") != "prometheus.remote_write" {
			continue
		}
		var a Arguments
		err := vm.New(b).Evaluate(&vm.Scope{}, &a)
		return a, err
	}
	t.Fatalf("%s has no prometheus.remote_write block", name)
	return Arguments{}, nil
}

func TestAlloyDocExamplesDecode(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/alloy-doc-examples/prometheus.remote_write-*.alloy")
	if len(files) == 0 {
		files, _ = filepath.Glob("../../../../../shared/alloy-doc-examples/prometheus.remote_write-*.alloy")
	}
	if len(files) == 0 {
		t.Skip("Alloy doc examples not found")
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		a, err := decode(t, filepath.Base(path), string(src))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if err := a.Validate(); err != nil {
			t.Errorf("%s: validate: %v", path, err)
		}
		if len(a.Endpoints) != 1 || !strings.HasPrefix(string(a.Endpoints[0].URL), "http") {
			t.Errorf("%s: endpoints %+v", path, a.Endpoints)
		}
	}
}

func TestDefaultsAreAlloys(t *testing.T) {
	a, err := decode(t, "d.alloy", `prometheus.remote_write "d" {
  endpoint {
    url = "http://127.0.0.1:1/api/v1/write"
    headers = { "X-Scope-OrgID" = "t1" }
    write_relabel_config {
      source_labels = ["__name__"]
      regex = "go_.*"
      action = "drop"
    }
  }
  wal { max_size = "64MiB" }
}`)
	if err != nil {
		t.Fatal(err)
	}
	e := a.Endpoints[0]
	q := e.QueueOptions
	if e.RemoteTimeout != 30*time.Second || !e.SendExemplars || e.SendNativeHistograms || e.HTTPClientConfig.EnableHTTP2 || !e.HTTPClientConfig.FollowRedirects {
		t.Errorf("endpoint defaults: %+v", e)
	}
	if q != DefaultQueueOptions || q.Capacity != 10000 || q.MaxShards != 50 || q.MinShards != 1 || q.MaxSamplesPerSend != 2000 ||
		q.BatchSendDeadline != 5*time.Second || q.MinBackoff != 30*time.Millisecond || q.MaxBackoff != 5*time.Second || !q.RetryOnHTTP429 {
		t.Errorf("queue_config defaults: %+v", q)
	}
	if a.WAL.MaxSize != 64<<20 || a.WAL.MaxKeepaliveTime != 8*time.Hour || a.WAL.TruncateFrequency != 2*time.Hour {
		t.Errorf("wal: %+v", a.WAL)
	}
	if string(e.Headers["X-Scope-OrgID"]) != "t1" {
		t.Errorf("headers: %v", e.Headers)
	}
}

func TestValidateNamesTheProblem(t *testing.T) {
	for src, want := range map[string]string{
		`prometheus.remote_write "x" { endpoint { url = "http://[::1" } }`: "not a valid URL",
		`prometheus.remote_write "x" { endpoint {
  url = "http://a/"
  queue_config {
    min_shards = 9
    max_shards = 2
  }
} }`: "min_shards (9) must not exceed max_shards (2)",
		`prometheus.remote_write "x" {
  endpoint { url = "http://a/" }
  endpoint { url = "http://a/" }
}`: "both named",
	} {
		a, err := decode(t, "v.alloy", src)
		if err == nil {
			err = a.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", src, err, want)
		}
	}
}

type fakeCluster struct {
	component.Alone
	mu sync.Mutex
	d  map[string]component.Delivery
}

func (f *fakeCluster) AddDelivery(id string, d component.Delivery) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d == nil {
		delete(f.d, id)
		return
	}
	f.d[id] = d
}

func (f *fakeCluster) delivery(id string) component.Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.d[id]
}

func TestComponentDeliversAndSurvivesUpdate(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	var orgs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, body)
		var req prompb.WriteRequest
		if err == nil {
			err = req.Unmarshal(raw)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		orgs = append(orgs, r.Header.Get("X-Scope-OrgID"))
		for _, ts := range req.Timeseries {
			for _, l := range ts.Labels {
				if l.Name == "cluster" {
					got[l.Value] += len(ts.Samples)
				}
			}
		}
	}))
	defer srv.Close()
	total := func(cluster string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[cluster]
	}
	cfg := func(cluster string) Arguments {
		a, err := decode(t, "c.alloy", `prometheus.remote_write "default" {
  external_labels = { cluster = "`+cluster+`" }
  endpoint {
    name = "main"
    url = "`+srv.URL+`/api/v1/write"
    headers = { "X-Scope-OrgID" = "tenant-a" }
    queue_config { batch_send_deadline = "20ms" }
  }
}`)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var exports Exports
	cl := &fakeCluster{d: map[string]component.Delivery{}}
	c, err := New(component.Options{
		ID:            "prometheus.remote_write.default",
		Registerer:    prometheus.NewRegistry(),
		DataPath:      t.TempDir(),
		OnStateChange: func(e component.Exports) { exports = e.(Exports) },
		Cluster:       cl,
	}, cfg("one"))
	if err != nil {
		t.Fatal(err)
	}
	if exports.Receiver == nil || cl.delivery("prometheus.remote_write.default") == nil {
		t.Fatal("no receiver exported or no delivery registered")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()

	send := func(n int, t0 int64) {
		b := &sample.Batch{}
		for i := range n {
			b.Samples = append(b.Samples, sample.Sample{Labels: labels.FromStrings("__name__", "m", "i", string(rune('a'+i%26))), T: t0 + int64(i/26), V: 1})
		}
		if err := exports.Receiver.Receive(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string, cond func() bool) {
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	send(52, 1000)
	cl.delivery("prometheus.remote_write.default").Flush()
	wait("52 samples labelled cluster=one", func() bool { return total("one") == 52 })
	wait("the watermark to pass the samples", func() bool {
		return cl.delivery("prometheus.remote_write.default").Watermark() >= 1001
	})

	if err := c.Update(cfg("two")); err != nil {
		t.Fatal(err)
	}
	send(26, 5000)
	wait("26 samples labelled cluster=two", func() bool { return total("two") == 26 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if cl.delivery("prometheus.remote_write.default") != nil {
		t.Error("the delivery is still registered after Run returned")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, o := range orgs {
		if o != "tenant-a" {
			t.Fatalf("a request carried X-Scope-OrgID %q", o)
		}
	}
}

// TestProtobufMessageAndMetadataConfig: protobuf_message and
// metadata_config reach the engine; metadata_config's defaults are
// Alloy's; an unknown message is an error naming both accepted ones.
func TestProtobufMessageAndMetadataConfig(t *testing.T) {
	a, err := decode(t, "m.alloy", `prometheus.remote_write "m" {
  endpoint {
    url = "http://127.0.0.1:1/api/v1/write"
    protobuf_message = "io.prometheus.write.v2.Request"
    metadata_config {
      send_interval = "30s"
      max_samples_per_send = 500
    }
  }
  endpoint {
    name = "plain"
    url = "http://127.0.0.1:1/api/v1/write"
  }
}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	e, d := cfg.Endpoints[0], cfg.Endpoints[1]
	if e.ProtobufMessage != engine.ProtoV2 || !e.MetadataSend || e.MetadataInterval != 30*time.Second || e.MetadataMaxPerSend != 500 {
		t.Errorf("endpoint config %+v", e)
	}
	if d.ProtobufMessage != engine.ProtoV1 || !d.MetadataSend || d.MetadataInterval != time.Minute || d.MetadataMaxPerSend != 2000 {
		t.Errorf("defaults %+v", d)
	}
	a, err = decode(t, "bad.alloy", `prometheus.remote_write "m" {
  endpoint {
    url = "http://127.0.0.1:1/api/v1/write"
    protobuf_message = "prometheus.WriteRequestV3"
  }
}`)
	if err == nil {
		err = a.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "io.prometheus.write.v2.Request") {
		t.Errorf("unknown protobuf_message: %v", err)
	}
	a, err = decode(t, "off.alloy", `prometheus.remote_write "m" {
  endpoint {
    url = "http://127.0.0.1:1/api/v1/write"
    metadata_config { send = false }
  }
}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := a.config(); err != nil || cfg.Endpoints[0].MetadataSend {
		t.Errorf("send = false: %+v %v", cfg.Endpoints, err)
	}
}
