package vm_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
	"github.com/shoal-dev/shoal/internal/syntax/types"
	"github.com/shoal-dev/shoal/internal/syntax/value"
	"github.com/shoal-dev/shoal/internal/syntax/vm"
)

// The structs below have the shape of real component arguments, so that the
// tests exercise what components rely on.

type basicAuth struct {
	Username     string       `alloy:"username,attr,optional"`
	Password     types.Secret `alloy:"password,attr,optional"`
	PasswordFile string       `alloy:"password_file,attr,optional"`
}

func (b *basicAuth) Validate() error {
	if b.Password != "" && b.PasswordFile != "" {
		return errors.New("at most one of password and password_file must be set")
	}
	return nil
}

type tlsConfig struct {
	CAFile             string `alloy:"ca_file,attr,optional"`
	ServerName         string `alloy:"server_name,attr,optional"`
	InsecureSkipVerify bool   `alloy:"insecure_skip_verify,attr,optional"`
}

type clustering struct {
	Enabled        bool     `alloy:"enabled,attr"`
	ExcludedLabels []string `alloy:"excluded_labels,attr,optional"`
}

type httpClientConfig struct {
	BasicAuth   *basicAuth   `alloy:"basic_auth,block,optional"`
	BearerToken types.Secret `alloy:"bearer_token,attr,optional"`
	TLSConfig   tlsConfig    `alloy:"tls_config,block,optional"`
}

type scrapeArgs struct {
	Targets         []map[string]string `alloy:"targets,attr"`
	ForwardTo       []sample.Receiver   `alloy:"forward_to,attr"`
	JobName         string              `alloy:"job_name,attr,optional"`
	ScrapeInterval  time.Duration       `alloy:"scrape_interval,attr,optional"`
	ScrapeTimeout   time.Duration       `alloy:"scrape_timeout,attr,optional"`
	MetricsPath     string              `alloy:"metrics_path,attr,optional"`
	Scheme          string              `alloy:"scheme,attr,optional"`
	Params          map[string][]string `alloy:"params,attr,optional"`
	HonorLabels     bool                `alloy:"honor_labels,attr,optional"`
	HonorTimestamps bool                `alloy:"honor_timestamps,attr,optional"`
	SampleLimit     uint                `alloy:"sample_limit,attr,optional"`
	BodySizeLimit   types.Size          `alloy:"body_size_limit,attr,optional"`
	ScrapeProtocols []string            `alloy:"scrape_protocols,attr,optional"`

	HTTPClientConfig httpClientConfig `alloy:",squash"`
	Clustering       clustering       `alloy:"clustering,block,optional"`
}

func (a *scrapeArgs) SetToDefault() {
	*a = scrapeArgs{
		ScrapeInterval:  time.Minute,
		ScrapeTimeout:   10 * time.Second,
		MetricsPath:     "/metrics",
		Scheme:          "http",
		HonorTimestamps: true,
		ScrapeProtocols: []string{"OpenMetricsText1.0.0", "PrometheusText0.0.4"},
	}
}

func (a *scrapeArgs) Validate() error {
	if a.ScrapeTimeout > a.ScrapeInterval {
		return fmt.Errorf("scrape_timeout (%s) greater than scrape_interval (%s)", a.ScrapeTimeout, a.ScrapeInterval)
	}
	return nil
}

type queueConfig struct {
	Capacity          int           `alloy:"capacity,attr,optional"`
	MaxShards         int           `alloy:"max_shards,attr,optional"`
	BatchSendDeadline time.Duration `alloy:"batch_send_deadline,attr,optional"`
}

func (q *queueConfig) SetToDefault() {
	*q = queueConfig{Capacity: 10000, MaxShards: 50, BatchSendDeadline: 5 * time.Second}
}

type writeRelabelConfig struct {
	SourceLabels []string `alloy:"source_labels,attr,optional"`
	Regex        string   `alloy:"regex,attr,optional"`
	Action       string   `alloy:"action,attr,optional"`
}

func (r *writeRelabelConfig) SetToDefault() {
	*r = writeRelabelConfig{Regex: "(.*)", Action: "replace"}
}

type endpoint struct {
	Name          string                `alloy:"name,attr,optional"`
	URL           string                `alloy:"url,attr"`
	RemoteTimeout time.Duration         `alloy:"remote_timeout,attr,optional"`
	Headers       map[string]string     `alloy:"headers,attr,optional"`
	HTTP          httpClientConfig      `alloy:",squash"`
	QueueConfig   queueConfig           `alloy:"queue_config,block,optional"`
	Relabel       []*writeRelabelConfig `alloy:"write_relabel_config,block,optional"`
}

func (e *endpoint) SetToDefault() {
	*e = endpoint{RemoteTimeout: 30 * time.Second}
	e.QueueConfig.SetToDefault()
}

type walOptions struct {
	TruncateFrequency time.Duration `alloy:"truncate_frequency,attr,optional"`
	MaxSize           types.Size    `alloy:"max_size,attr,optional"`
}

type remoteWriteArgs struct {
	ExternalLabels map[string]string `alloy:"external_labels,attr,optional"`
	Endpoints      []*endpoint       `alloy:"endpoint,block,optional"`
	WAL            walOptions        `alloy:"wal,block,optional"`
}

func (a *remoteWriteArgs) SetToDefault() {
	*a = remoteWriteArgs{WAL: walOptions{TruncateFrequency: 2 * time.Hour, MaxSize: 1 * types.GiB}}
}

type rule struct {
	Name  string `alloy:",label"`
	Match string `alloy:"match,attr"`
}

type rulesArgs struct {
	Rules []rule `alloy:"rule,block,optional"`
}

// Exports of the components a config refers to.
type discoveryExports struct {
	Targets []map[string]string `alloy:"targets,attr"`
}

type receiverExports struct {
	Receiver sample.Receiver `alloy:"receiver,attr"`
}

type fileExports struct {
	Content types.OptionalSecret `alloy:"content,attr"`
}

// testScope is what the runtime would build: component exports by name.
func testScope(recv sample.Receiver) *vm.Scope {
	return &vm.Scope{Variables: map[string]any{
		"discovery": map[string]any{
			"file": map[string]any{
				"nodes": discoveryExports{Targets: []map[string]string{
					{"__address__": "10.0.0.1:9100", "job": "node"},
					{"__address__": "10.0.0.2:9100", "job": "node"},
				}},
			},
		},
		"prometheus": map[string]any{
			"remote_write": map[string]any{
				"default": receiverExports{Receiver: recv},
			},
		},
		"local": map[string]any{
			"file": map[string]any{
				"token":  fileExports{Content: types.OptionalSecret{IsSecret: true, Value: "s3cr3t-token"}},
				"plain":  fileExports{Content: types.OptionalSecret{Value: "admin"}},
				"number": fileExports{Content: types.OptionalSecret{Value: "42"}},
			},
		},
	}}
}

// parseBlock parses src and returns its first block.
func parseBlock(t testing.TB, src string) *ast.BlockStmt {
	t.Helper()
	f, err := parser.ParseFile("test.alloy", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	for _, s := range f.Body {
		if b, ok := s.(*ast.BlockStmt); ok {
			return b
		}
	}
	t.Fatal("no block in source")
	return nil
}

func evalBlock(t testing.TB, scope *vm.Scope, src string, target any) error {
	t.Helper()
	return vm.New(parseBlock(t, src)).Evaluate(scope, target)
}

func TestDecodeScrapeArguments(t *testing.T) {
	var got []string
	recv := sample.ReceiverFunc(func(_ context.Context, b *sample.Batch) error {
		got = append(got, "received")
		return nil
	})
	src := `
prometheus.scrape "default" {
	targets         = discovery.file.nodes.targets
	forward_to      = [prometheus.remote_write.default.receiver]
	job_name        = "node"
	scrape_interval = "15s"
	scrape_timeout  = "1m30s" // longer than the interval: rejected by Validate below
	params          = { "module" = ["http_2xx"] }
	sample_limit    = 5000
	body_size_limit = "10MB"

	basic_auth {
		username = local.file.plain.content
		password = local.file.token.content
	}

	tls_config {
		server_name = "node.example"
	}

	clustering {
		enabled = true
	}
}`
	var args scrapeArgs
	err := evalBlock(t, testScope(recv), src, &args)
	if err == nil || !strings.Contains(err.Error(), "test.alloy:2:1: scrape_timeout (1m30s) greater than scrape_interval (15s)") {
		t.Fatalf("Validate error not reported at the block: %v", err)
	}

	src = strings.Replace(src, `"1m30s"`, `"5s"`, 1)
	if err := evalBlock(t, testScope(recv), src, &args); err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	want := scrapeArgs{
		Targets: []map[string]string{
			{"__address__": "10.0.0.1:9100", "job": "node"},
			{"__address__": "10.0.0.2:9100", "job": "node"},
		},
		JobName:         "node",
		ScrapeInterval:  15 * time.Second,
		ScrapeTimeout:   5 * time.Second,
		MetricsPath:     "/metrics", // default kept
		Scheme:          "http",
		Params:          map[string][]string{"module": {"http_2xx"}},
		HonorTimestamps: true,
		SampleLimit:     5000,
		BodySizeLimit:   10 << 20,
		ScrapeProtocols: []string{"OpenMetricsText1.0.0", "PrometheusText0.0.4"},
		HTTPClientConfig: httpClientConfig{
			BasicAuth: &basicAuth{Username: "admin", Password: "s3cr3t-token"},
			TLSConfig: tlsConfig{ServerName: "node.example"},
		},
		Clustering: clustering{Enabled: true},
	}
	if len(args.ForwardTo) != 1 || args.ForwardTo[0] == nil {
		t.Fatalf("forward_to = %v, want the remote_write receiver", args.ForwardTo)
	}
	if err := args.ForwardTo[0].Receive(context.Background(), &sample.Batch{}); err != nil || len(got) != 1 {
		t.Fatalf("the decoded receiver is not the exported one: err=%v calls=%d", err, len(got))
	}
	args.ForwardTo = nil
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", args, want)
	}
}

func TestDecodeDefaultsWhenOmitted(t *testing.T) {
	var args scrapeArgs
	src := `prometheus.scrape "x" {
		targets    = []
		forward_to = []
	}`
	if err := evalBlock(t, testScope(nil), src, &args); err != nil {
		t.Fatal(err)
	}
	if args.ScrapeInterval != time.Minute || args.ScrapeTimeout != 10*time.Second || !args.HonorTimestamps {
		t.Fatalf("defaults not applied: %+v", args)
	}
	if args.HTTPClientConfig.BasicAuth != nil {
		t.Fatal("an absent optional block must stay nil")
	}
}

func TestDecodeEvaluateResetsTarget(t *testing.T) {
	// A target reused across reloads must not keep values from the last
	// config.
	args := scrapeArgs{JobName: "stale", HonorLabels: true}
	src := `prometheus.scrape "x" {
		targets    = []
		forward_to = []
	}`
	if err := evalBlock(t, testScope(nil), src, &args); err != nil {
		t.Fatal(err)
	}
	if args.JobName != "" || args.HonorLabels {
		t.Fatalf("stale values survived: %+v", args)
	}
}

func TestDecodeRemoteWriteRepeatedBlocks(t *testing.T) {
	src := `prometheus.remote_write "default" {
	external_labels = { cluster = "eu-1" }

	endpoint {
		name = "primary"
		url  = "http://127.0.0.1:9090/api/v1/write"
		headers = { "X-Scope-OrgID" = "tenant-1" }
		bearer_token = "abc"

		queue_config {
			max_shards = 10
		}

		write_relabel_config {
			source_labels = ["__name__"]
			regex         = "go_.*"
			action        = "drop"
		}
		write_relabel_config {
			source_labels = ["job"]
		}
	}

	endpoint {
		url            = "http://127.0.0.2:9090/api/v1/write"
		remote_timeout = "1m"
	}

	wal {
		max_size = "512KiB"
	}
}`
	var args remoteWriteArgs
	if err := evalBlock(t, testScope(nil), src, &args); err != nil {
		t.Fatal(err)
	}
	want := remoteWriteArgs{
		ExternalLabels: map[string]string{"cluster": "eu-1"},
		Endpoints: []*endpoint{
			{
				Name:          "primary",
				URL:           "http://127.0.0.1:9090/api/v1/write",
				RemoteTimeout: 30 * time.Second,
				Headers:       map[string]string{"X-Scope-OrgID": "tenant-1"},
				HTTP:          httpClientConfig{BearerToken: "abc"},
				// Block defaults fill what the block leaves out.
				QueueConfig: queueConfig{Capacity: 10000, MaxShards: 10, BatchSendDeadline: 5 * time.Second},
				Relabel: []*writeRelabelConfig{
					{SourceLabels: []string{"__name__"}, Regex: "go_.*", Action: "drop"},
					{SourceLabels: []string{"job"}, Regex: "(.*)", Action: "replace"},
				},
			},
			{
				URL:           "http://127.0.0.2:9090/api/v1/write",
				RemoteTimeout: time.Minute,
				QueueConfig:   queueConfig{Capacity: 10000, MaxShards: 50, BatchSendDeadline: 5 * time.Second},
			},
		},
		// The wal block has no SetToDefault of its own: it keeps the
		// defaults its parent gave it for what it leaves out.
		WAL: walOptions{TruncateFrequency: 2 * time.Hour, MaxSize: 512 << 10},
	}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("decoded\n%#v\nwant\n%#v", args, want)
	}
}

func TestDecodeLabelledBlocks(t *testing.T) {
	src := `rules "x" {
		rule "first" { match = "a" }
		rule "second" { match = "b" }
	}`
	var args rulesArgs
	if err := evalBlock(t, testScope(nil), src, &args); err != nil {
		t.Fatal(err)
	}
	want := rulesArgs{Rules: []rule{{Name: "first", Match: "a"}, {Name: "second", Match: "b"}}}
	if !reflect.DeepEqual(args, want) {
		t.Fatalf("got %+v, want %+v", args, want)
	}
}

func TestDecodeIntoMap(t *testing.T) {
	f, err := parser.ParseFile("test.alloy", []byte("a = 1\nb = \"x\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]value.Value
	if err := vm.New(f.Body).Evaluate(nil, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m["a"].String() != "1" || m["b"].String() != `"x"` {
		t.Fatalf("got %v", m)
	}
}

// TestDecodeErrors checks each kind of error, its message and its exact
// position.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "missing required attribute is reported at the block",
			src: `prometheus.scrape "x" {
	forward_to = []
}`,
			want: []string{`test.alloy:1:1: missing required attribute "targets"`},
		},
		{
			name: "unknown attribute",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	scrape_intervall = "10s"
}`,
			want: []string{`test.alloy:4:2: unrecognized attribute name "scrape_intervall"`},
		},
		{
			name: "unknown block",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	oauth3 {
	}
}`,
			want: []string{`test.alloy:4:2: unrecognized block name "oauth3"`},
		},
		{
			name: "attribute used as a block",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	job_name { }
}`,
			want: []string{`test.alloy:4:2: "job_name" must be an attribute, but is used as a block`},
		},
		{
			name: "block used as an attribute",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	clustering = true
}`,
			want: []string{`test.alloy:4:2: "clustering" must be a block, but is used as an attribute`},
		},
		{
			name: "duplicate attribute",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	job_name = "a"
	job_name = "b"
}`,
			want: []string{`test.alloy:5:2: attribute "job_name" may only be provided once`},
		},
		{
			name: "duplicate block",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	clustering { enabled = true }
	clustering { enabled = false }
}`,
			want: []string{`test.alloy:5:2: block "clustering" may only be specified once`},
		},
		{
			name: "type mismatch",
			src: `prometheus.scrape "x" {
	targets = "10.0.0.1:9100"
	forward_to = []
}`,
			want: []string{`test.alloy:2:12: "10.0.0.1:9100" should be array, got string`},
		},
		{
			name: "type mismatch inside an array literal points at the element",
			src: `prometheus.scrape "x" {
	targets = [{ "__address__" = "a" }, "b"]
	forward_to = []
}`,
			want: []string{`test.alloy:2:38: "b" should be object, got string`},
		},
		{
			name: "type mismatch inside an object literal points at the field",
			src: `prometheus.scrape "x" {
	targets = [{ "__address__" = true }]
	forward_to = []
}`,
			want: []string{`test.alloy:2:31: true should be string, got bool`},
		},
		{
			name: "type mismatch through a reference names the path",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = discovery.file.nodes.targets
}`,
			want: []string{`test.alloy:3:15: discovery.file.nodes.targets[0] expected capsule("sample.Receiver"), got object`},
		},
		{
			name: "bad duration",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	scrape_interval = "5 minutes"
}`,
			want: []string{`test.alloy:4:20: invalid duration "5 minutes"`},
		},
		{
			name: "duration without a unit",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	scrape_interval = 60
}`,
			want: []string{`test.alloy:4:20: invalid duration 60: a duration is a string with a unit, such as "60s"`},
		},
		{
			name: "bad size",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	body_size_limit = "10XB"
}`,
			want: []string{`test.alloy:4:20: invalid size "10XB"`},
		},
		{
			name: "number out of range",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	sample_limit = -1
}`,
			want: []string{`test.alloy:4:17: -1 does not fit in an unsigned integer`},
		},
		{
			name: "secret into a string",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	job_name = local.file.token.content
}`,
			want: []string{`test.alloy:4:13: local.file.token.content secrets may not be converted into strings`},
		},
		{
			name: "unknown identifier",
			src: `prometheus.scrape "x" {
	targets = discovery.fiel.nodes.targets
	forward_to = []
}`,
			want: []string{`test.alloy:2:22: field "fiel" does not exist`},
		},
		{
			name: "undefined root identifier",
			src: `prometheus.scrape "x" {
	targets = dicovery.file.nodes.targets
	forward_to = []
}`,
			want: []string{`test.alloy:2:12: identifier "dicovery" does not exist`},
		},
		{
			name: "validate in a nested block is reported at that block",
			src: `prometheus.scrape "x" {
	targets = []
	forward_to = []
	basic_auth {
		password = "a"
		password_file = "/b"
	}
}`,
			want: []string{`test.alloy:4:2: at most one of password and password_file must be set`},
		},
		{
			name: "missing required attribute in a nested block",
			src: `prometheus.remote_write "x" {
	endpoint {
		name = "a"
	}
}`,
			want: []string{`test.alloy:2:2: missing required attribute "url"`},
		},
		{
			name: "every error is reported, in source order",
			src: `prometheus.scrape "x" {
	targets = 1
	forward_to = []
	honor_labels = "yes"
	bogus = 1
	clustering {
		enabled = 3
	}
}`,
			want: []string{
				`test.alloy:2:12: 1 should be array, got number`,
				`test.alloy:4:17: "yes" should be bool, got string`,
				`test.alloy:5:2: unrecognized attribute name "bogus"`,
				`test.alloy:7:13: 3 should be bool, got number`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var target any = &scrapeArgs{}
			if strings.HasPrefix(tt.src, "prometheus.remote_write") {
				target = &remoteWriteArgs{}
			}
			err := evalBlock(t, testScope(nil), tt.src, target)
			ds := diag.From(err)
			if ds == nil {
				t.Fatalf("want diagnostics, got %v", err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestLabelErrors(t *testing.T) {
	src := `rules "x" {
	rule { match = "a" }
}`
	err := evalBlock(t, testScope(nil), src, &rulesArgs{})
	if err == nil || err.Error() != `test.alloy:2:2: block "rule" requires non-empty label` {
		t.Fatalf("got %v", err)
	}
	src = `prometheus.scrape "x" {
	targets = []
	forward_to = []
	clustering "nope" { enabled = true }
}`
	err = evalBlock(t, testScope(nil), src, &scrapeArgs{})
	if err == nil || err.Error() != `test.alloy:4:13: block "clustering" does not support specifying labels` {
		t.Fatalf("got %v", err)
	}
}

func TestDiagnosticRangeCoversTheNode(t *testing.T) {
	src := `prometheus.scrape "x" {
	targets = []
	forward_to = []
	scrape_interval = "5 minutes"
}`
	ds := diag.From(evalBlock(t, testScope(nil), src, &scrapeArgs{}))
	if len(ds) != 1 {
		t.Fatalf("got %v", ds)
	}
	if ds[0].StartPos.Column != 20 || ds[0].EndPos.Column != 30 || ds[0].EndPos.Line != 4 {
		t.Fatalf("range %v..%v does not cover the literal", ds[0].StartPos, ds[0].EndPos)
	}
}

func TestSecretDoesNotLeakIntoErrors(t *testing.T) {
	src := `prometheus.scrape "x" {
	targets = []
	forward_to = []
	sample_limit = local.file.token.content
}`
	err := evalBlock(t, testScope(nil), src, &scrapeArgs{})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("got %v", err)
	}
}

func TestOptionalSecretConversions(t *testing.T) {
	// A non-secret file content is usable as a plain string and a number;
	// a secret one only where a secret is expected.
	src := `prometheus.scrape "x" {
	targets = []
	forward_to = []
	job_name = local.file.plain.content
	sample_limit = local.file.number.content
	bearer_token = local.file.token.content
}`
	var args scrapeArgs
	if err := evalBlock(t, testScope(nil), src, &args); err != nil {
		t.Fatal(err)
	}
	if args.JobName != "admin" || args.SampleLimit != 42 || string(args.HTTPClientConfig.BearerToken) != "s3cr3t-token" {
		t.Fatalf("got %+v", args)
	}
}

func TestEvaluatorIsSafeForConcurrentUse(t *testing.T) {
	ev := vm.New(parseBlock(t, `prometheus.scrape "x" {
	targets    = discovery.file.nodes.targets
	forward_to = []
	job_name   = string.format("job-%d", 1)
}`))
	scope := testScope(nil)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var args scrapeArgs
			err := ev.Evaluate(scope, &args)
			if err == nil && (args.JobName != "job-1" || len(args.Targets) != 2) {
				err = fmt.Errorf("decoded %+v", args)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestMalformedTagIsAnError(t *testing.T) {
	var bad struct {
		A int `alloy:"a,atr"`
	}
	err := evalBlock(t, nil, `x { a = 1 }`, &bad)
	if err == nil || !strings.Contains(err.Error(), `needs attr, block, label or squash`) {
		t.Fatalf("got %v", err)
	}
}
