package scrape

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/sample"
	engine "github.com/shoal-dev/shoal/internal/scrape"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// decode evaluates the first block of src into Arguments.
func decode(t *testing.T, src string, scope map[string]any) (Arguments, error) {
	t.Helper()
	f, err := parser.ParseFile("test.alloy", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var args Arguments
	err = vm.New(f.Body[0].(*ast.BlockStmt)).Evaluate(&vm.Scope{Variables: scope}, &args)
	return args, err
}

func TestArgumentTagsAreWellFormed(t *testing.T) {
	if err := value.CheckTags(reflect.TypeFor[Arguments]()); err != nil {
		t.Fatal(err)
	}
	if err := value.CheckTags(reflect.TypeFor[TargetInfo]()); err != nil {
		t.Fatal(err)
	}
}

func TestAlloyConfigDecodesWithAlloysNamesAndDefaults(t *testing.T) {
	args, err := decode(t, `
prometheus.scrape "default" {
  targets    = [{"__address__" = "127.0.0.1:9100", "team" = "infra"}]
  forward_to = []
  scrape_interval = "15s"
  body_size_limit = "10MiB"
  sample_limit    = 5000
  params = { "module" = ["http_2xx"] }
  scrape_protocols = ["PrometheusProto", "OpenMetricsText1.0.0"]

  basic_auth {
    username = "u"
    password = "p"
  }
  tls_config {
    insecure_skip_verify = true
  }
  clustering {
    enabled = true
    excluded_labels = ["host"]
  }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if args.ScrapeInterval != 15*time.Second || args.ScrapeTimeout != 10*time.Second {
		t.Fatalf("interval %s, timeout %s", args.ScrapeInterval, args.ScrapeTimeout)
	}
	if args.BodySizeLimit != 10*types.MiB || args.SampleLimit != 5000 {
		t.Fatalf("body_size_limit %d, sample_limit %d", args.BodySizeLimit, args.SampleLimit)
	}
	if !args.HonorTimestamps || !args.EnableCompression || args.MetricsPath != "/metrics" || args.Scheme != "http" {
		t.Fatalf("defaults lost: %+v", args)
	}
	if !args.Clustering.Enabled || !slices.Equal(args.Clustering.ExcludedLabels, []string{"host"}) {
		t.Fatalf("clustering %+v", args.Clustering)
	}
	if args.HTTPClientConfig.BasicAuth == nil || args.HTTPClientConfig.BasicAuth.Password != "p" || !args.HTTPClientConfig.TLSConfig.InsecureSkipVerify {
		t.Fatalf("http client config %+v", args.HTTPClientConfig)
	}
	if !args.HTTPClientConfig.FollowRedirects || !args.HTTPClientConfig.EnableHTTP2 {
		t.Fatal("follow_redirects and enable_http2 default to true")
	}
	cfg, err := args.Config("prometheus.scrape.default")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.JobName != "prometheus.scrape.default" {
		t.Fatalf("job name %q, want the component ID", cfg.JobName)
	}
	if !cfg.ScrapeNativeHistograms || cfg.Protocols[0] != engine.PrometheusProto {
		t.Fatalf("asking for protobuf keeps native histograms: %+v", cfg.Protocols)
	}
	if string(cfg.HTTPClient.BasicAuth.Password) != "p" {
		t.Fatal("password not passed to the HTTP client")
	}
}

func TestInvalidArgumentsAreRejected(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`scrape_protocols = ["Telegraph"]`, "unknown scrape protocol"},
		{`scheme = "ftp"`, "scheme must be http or https"},
		{`metric_name_validation_scheme = "loose"`, "metric_name_validation_scheme"},
		{`bearer_token = "a"
  bearer_token_file = "b"`, "bearer_token"},
	} {
		_, err := decode(t, "prometheus.scrape \"x\" {\n  targets = []\n  forward_to = []\n  "+tc.src+"\n}", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestEnableProtobufNegotiationPutsProtobufFirst(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.EnableProtobufNegotiation = true
	cfg, err := a.Config("x")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Protocols, engine.ProtoFirstProtocols) {
		t.Fatalf("protocols %v", cfg.Protocols)
	}
}

// recordingCluster owns targets by a set of keys and records publications.
type recordingCluster struct {
	component.Alone
	mu        sync.Mutex
	owned     map[uint64]bool
	published map[string][]uint64
}

func (r *recordingCluster) Enabled() bool { return true }
func (r *recordingCluster) Owns(k uint64, _ int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owned[k]
}
func (r *recordingCluster) SetTargets(id string, keys []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published[id] = keys
}

func TestClusteredComponentPublishesKeysAndListsOnlyOwnedTargets(t *testing.T) {
	cl := &recordingCluster{owned: map[uint64]bool{}, published: map[string][]uint64{}}
	var a Arguments
	a.SetToDefault()
	a.Targets = []discovery.Target{{"__address__": "10.0.0.1:9100"}, {"__address__": "10.0.0.2:9100"}}
	a.Clustering.Enabled = true
	k1 := engine.Key(a.Targets[0].Labels(), nil)
	cl.owned[k1] = true

	c, err := New(component.Options{ID: "prometheus.scrape.default", Cluster: cl}, a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	cl.mu.Lock()
	keys := cl.published["prometheus.scrape.default"]
	cl.mu.Unlock()
	if len(keys) != 2 {
		t.Fatalf("published %d keys, want 2", len(keys))
	}
	infos := c.DebugInfo().([]TargetInfo)
	if len(infos) != 1 || infos[0].URL != "http://10.0.0.1:9100/metrics" {
		t.Fatalf("debug info %+v, want only the owned target", infos)
	}
	if infos[0].Job != "prometheus.scrape.default" || infos[0].Health != "unknown" || infos[0].Labels["instance"] != "10.0.0.1:9100" {
		t.Fatalf("debug info %+v", infos[0])
	}

	// Turning clustering off withdraws the keys and lists every target.
	a.Clustering.Enabled = false
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	cl.mu.Lock()
	keys = cl.published["prometheus.scrape.default"]
	cl.mu.Unlock()
	if keys != nil {
		t.Fatalf("keys still published: %v", keys)
	}
	if n := len(c.DebugInfo().([]TargetInfo)); n != 2 {
		t.Fatalf("%d targets listed without clustering, want 2", n)
	}
}

func TestComponentScrapesIntoForwardTo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("hello 1\n"))
	}))
	defer srv.Close()
	got := make(chan sample.Sample, 100)
	recv := sample.ReceiverFunc(func(_ context.Context, b *sample.Batch) error {
		for _, s := range b.Samples {
			select {
			case got <- s:
			default:
			}
		}
		return nil
	})
	var a Arguments
	a.SetToDefault()
	a.Targets = []discovery.Target{{"__address__": srv.Listener.Addr().String()}}
	a.ForwardTo = []sample.Receiver{recv}
	a.ScrapeInterval = time.Second
	a.ScrapeTimeout = 5 * time.Second // clamped to the interval
	c, err := New(component.Options{ID: "prometheus.scrape.t"}, a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-got:
			if s.Labels.Get("__name__") == "hello" {
				if job := s.Labels.Get("job"); job != "prometheus.scrape.t" {
					t.Fatalf("job %q, want the component ID", job)
				}
				// The grid offset is the key modulo the interval.
				if off := int64(engine.Key(a.Targets[0].Labels(), nil) % 1000); s.T%1000 != off {
					t.Fatalf("stamped %d, off the grid (offset %d)", s.T, off)
				}
				if h := c.CurrentHealth(); h.State != component.HealthHealthy {
					t.Fatalf("health %+v", h)
				}
				return
			}
		case <-deadline:
			t.Fatal("no sample of the target reached forward_to")
		}
	}
}

func TestCollisionsMakeTheComponentUnhealthy(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Targets = []discovery.Target{
		{"__address__": "10.0.0.1:9100", "host": "a"},
		{"__address__": "10.0.0.1:9100", "host": "b"},
	}
	a.Clustering.Enabled = true
	a.Clustering.ExcludedLabels = []string{"host"}
	c, err := New(component.Options{ID: "prometheus.scrape.c"}, a)
	if err != nil {
		t.Fatal(err)
	}
	h := c.CurrentHealth()
	if h.State != component.HealthUnhealthy || !strings.Contains(h.Message, "share cluster key") {
		t.Fatalf("health %+v", h)
	}
}
