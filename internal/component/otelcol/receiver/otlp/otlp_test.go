package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/component/otelcol/otelcoltest"
	"github.com/shoal-dev/shoal/internal/runtime"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	sink := &otelcoltest.Sink{}
	err := discoverytest.Decode(t, `otelcol.receiver.otlp "x" {
		grpc { }
		http { }
		output { metrics = [sink] }
	}`, "otelcol.receiver.otlp", map[string]any{"sink": sink}, &a)
	if err != nil {
		t.Fatal(err)
	}
	if a.GRPC.Endpoint != "0.0.0.0:4317" || a.GRPC.Transport != "tcp" || a.GRPC.ReadBufferSize != 512<<10 {
		t.Errorf("grpc defaults %+v", a.GRPC)
	}
	if a.HTTP.Endpoint != "0.0.0.0:4318" || a.HTTP.MetricsURLPath != "/v1/metrics" || a.HTTP.TracesURLPath != "/v1/traces" ||
		a.HTTP.WriteTimeout != 30*time.Second || len(a.HTTP.CompressionAlgorithms) != 7 {
		t.Errorf("http defaults %+v", a.HTTP)
	}
	if len(a.Output.Metrics) != 1 || a.Output.Metrics[0] != otelcol.Consumer(sink) {
		t.Errorf("output %+v", a.Output)
	}
	if !a.DebugMetrics.DisableHighCardinalityMetrics {
		t.Error("debug_metrics default")
	}
}

// TestConfigErrorsNamePositions: a wrong argument, a missing output block
// and a bad value are refused at their file:line:col.
func TestConfigErrorsNamePositions(t *testing.T) {
	rt := runtime.New(runtime.Options{Registry: component.NewRegistry(Registration)})
	for src, want := range map[string]string{
		"otelcol.receiver.otlp \"x\" {\n  grpc {\n    endpoint = true\n  }\n  output { }\n}":                   "r.alloy:3:16",
		"otelcol.receiver.otlp \"x\" {\n  http {\n    nope = 1\n  }\n  output { }\n}":                          "r.alloy:3:5",
		"otelcol.receiver.otlp \"x\" {\n  http { }\n}":                                                         "r.alloy:1:1",
		"otelcol.receiver.otlp \"x\" {\n  http {\n    compression_algorithms = [\"br\"]\n  }\n  output { }\n}": "r.alloy:2:3",
	} {
		diags := rt.Validate("r.alloy", []byte(src))
		if len(diags) == 0 || !strings.Contains(diags.Error(), want) {
			t.Errorf("config\n%s\ngave %v, want an error at %s", src, diags, want)
		}
	}
}

// registries holds the metrics registry of each receiver start made.
var registries = map[*Component]*prometheus.Registry{}

// counter reads a receiver's counter by name and transport.
func counter(t *testing.T, c *Component, name, transport string) float64 {
	t.Helper()
	mfs, err := registries[c].Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "transport" && l.GetValue() == transport {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// start runs a receiver on loopback ports feeding sink, and returns it
// once both servers listen.
func start(t *testing.T, extra string, sink otelcol.Consumer) *Component {
	t.Helper()
	var a Arguments
	src := `otelcol.receiver.otlp "x" {
		grpc { endpoint = "127.0.0.1:0" }
		http {
			endpoint = "127.0.0.1:0"
			` + extra + `
		}
		output { metrics = [sink] }
	}`
	if err := discoverytest.Decode(t, src, "otelcol.receiver.otlp", map[string]any{"sink": sink}, &a); err != nil {
		t.Fatal(err)
	}
	opts, _, reg := discoverytest.Options(t, "otelcol.receiver.otlp.x")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	registries[c] = reg
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, 10*time.Second, func() bool {
		a := c.Addrs()
		return a.GRPC != "" && a.HTTP != ""
	}, "the servers did not start")
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health %+v", h)
	}
	return c
}

func post(t *testing.T, url, contentType, encoding string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type") + " " + string(b)
}

func TestHTTPTakesProtobufAndJSON(t *testing.T) {
	sink := &otelcoltest.Sink{}
	c := start(t, `max_request_body_size = "64KiB"`, sink)
	url := "http://" + c.Addrs().HTTP + "/v1/metrics"
	req := pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 3))
	pb, _ := req.MarshalProto()
	js, _ := req.MarshalJSON()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(pb)
	w.Close()

	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		code          int
		respType      string
	}{
		{"protobuf", "application/x-protobuf", "", pb, 200, "application/x-protobuf"},
		{"json", "application/json; charset=utf-8", "", js, 200, "application/json"},
		{"gzip", "application/x-protobuf", "gzip", gz.Bytes(), 200, "application/x-protobuf"},
		{"snappy", "application/x-protobuf", "snappy", snappy.Encode(nil, pb), 200, "application/x-protobuf"},
		{"text", "text/plain", "", pb, 415, ""},
		{"garbage", "application/x-protobuf", "", []byte("\xff\xff\xff"), 400, ""},
		{"bad json", "application/json", "", []byte("{"), 400, ""},
		{"unknown encoding", "application/x-protobuf", "br", pb, 415, ""},
		{"too large", "application/x-protobuf", "", make([]byte, 65<<10), 413, ""},
	} {
		before := sink.Points()
		code, resp := post(t, url, tc.ct, tc.enc, tc.body)
		if code != tc.code || !strings.HasPrefix(resp, tc.respType) {
			t.Errorf("%s: %d %q, want %d %s", tc.name, code, resp, tc.code, tc.respType)
		}
		if got := sink.Points() - before; (code == 200) != (got == 3) {
			t.Errorf("%s: %d points consumed", tc.name, got)
		}
	}
	if code, _ := post(t, "http://"+c.Addrs().HTTP+"/v1/traces", "application/x-protobuf", "", nil); code != 404 {
		t.Errorf("traces: %d, want 404 (shoal takes metrics only)", code)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	got := sink.All()[0]
	if v, _ := got.ResourceMetrics().At(0).Resource().Attributes().Get("service.name"); v.AsString() != "svc" {
		t.Errorf("resource lost: %v", got.ResourceMetrics().At(0).Resource().Attributes().AsRaw())
	}
}

func TestGRPCTakesMetrics(t *testing.T) {
	sink := &otelcoltest.Sink{}
	c := start(t, "", sink)
	conn, err := grpc.NewClient(c.Addrs().GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pmetricotlp.NewGRPCClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Export(ctx, pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 5))); err != nil {
		t.Fatal(err)
	}
	if sink.Points() != 5 {
		t.Errorf("%d points consumed, want 5", sink.Points())
	}
	// A consumer that cannot take the metrics makes a retryable error.
	sink.Fail(errors.New("disk queue full"))
	_, err = client.Export(ctx, pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 1)))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("failing consumer: %v, want Unavailable", err)
	}
	pb, _ := pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 1)).MarshalProto()
	if code, _ := post(t, "http://"+c.Addrs().HTTP+"/v1/metrics", "application/x-protobuf", "", pb); code != 503 {
		t.Errorf("failing consumer over HTTP: %d, want 503", code)
	}
	for _, m := range []struct {
		name, transport string
		want            float64
	}{
		{"otelcol_receiver_accepted_metric_points_total", "grpc", 5},
		{"otelcol_receiver_refused_metric_points_total", "grpc", 1},
		{"otelcol_receiver_refused_metric_points_total", "http", 1},
	} {
		if got := counter(t, c, m.name, m.transport); got != m.want {
			t.Errorf("%s{transport=%q} = %v, want %v", m.name, m.transport, got, m.want)
		}
	}
}

// metadataSink keeps the client metadata of the last request.
type metadataSink struct{ got chan map[string][]string }

func (m *metadataSink) ConsumeMetrics(ctx context.Context, _ pmetric.Metrics) error {
	m.got <- otelcol.Metadata(ctx)
	return nil
}

// TestIncludeMetadata: with include_metadata the request headers travel
// in the context, keys in lower case.
func TestIncludeMetadata(t *testing.T) {
	sink := &metadataSink{got: make(chan map[string][]string, 1)}
	c := start(t, "include_metadata = true", sink)
	pb, _ := pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 1)).MarshalProto()
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.Addrs().HTTP+"/v1/metrics", bytes.NewReader(pb))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Tenant", "blue")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case md := <-sink.got:
		if len(md["x-tenant"]) != 1 || md["x-tenant"][0] != "blue" {
			t.Errorf("metadata %v", md)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing consumed")
	}
}

// TestSaysItTakesMetricsOnly: an output block naming traces consumers
// loads, and the health says they get nothing.
func TestSaysItTakesMetricsOnly(t *testing.T) {
	var a Arguments
	sink := &otelcoltest.Sink{}
	err := discoverytest.Decode(t, `otelcol.receiver.otlp "x" {
		http { endpoint = "127.0.0.1:0" }
		output {
			metrics = [sink]
			traces  = [sink]
		}
	}`, "otelcol.receiver.otlp", map[string]any{"sink": sink}, &a)
	if err != nil {
		t.Fatal(err)
	}
	opts, _, _ := discoverytest.Options(t, "otelcol.receiver.otlp.x")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, 10*time.Second, func() bool { return c.Addrs().HTTP != "" }, "no server")
	if h := c.CurrentHealth(); h.State != component.HealthHealthy || !strings.Contains(h.Message, "metrics only") {
		t.Errorf("health %+v, want healthy saying metrics only", h)
	}
}

// TestRestartsOnNewEndpoint: a changed http block moves the server; a
// port in use makes the component unhealthy.
func TestRestartsOnNewEndpoint(t *testing.T) {
	sink := &otelcoltest.Sink{}
	c := start(t, "", sink)
	old := c.Addrs().HTTP
	a := c.args
	h := *a.HTTP
	h.Endpoint = old // taken by the running server until it stops: restart frees it
	h.MetricsURLPath = "/custom"
	a.HTTP = &h
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, 10*time.Second, func() bool {
		resp, err := http.Post("http://"+c.Addrs().HTTP+"/custom", "application/json", strings.NewReader("{}"))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, "the server did not move to /custom")
}

// TestTLS serves OTLP/HTTP over TLS with a certificate made for the test,
// and refuses a tls block without a certificate at its position.
func TestTLS(t *testing.T) {
	certPEM, keyPEM := selfSigned(t)
	dir := t.TempDir()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	sink := &otelcoltest.Sink{}
	c := start(t, fmt.Sprintf("tls {\n cert_file = %q\n key_file = %q\n min_version = \"1.3\"\n}", certFile, keyFile), sink)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	pb, _ := pmetricotlp.NewExportRequestFromMetrics(otelcoltest.Gauges("g", 2)).MarshalProto()
	resp, err := client.Post("https://"+c.Addrs().HTTP+"/v1/metrics", "application/x-protobuf", bytes.NewReader(pb))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || sink.Points() != 2 {
		t.Errorf("over TLS: %s, %d points", resp.Status, sink.Points())
	}
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("connection state %+v", resp.TLS)
	}

	rt := runtime.New(runtime.Options{Registry: component.NewRegistry(Registration)})
	diags := rt.Validate("t.alloy", []byte("otelcol.receiver.otlp \"x\" {\n  http {\n    tls {\n      min_version = \"1.2\"\n    }\n  }\n  output { }\n}"))
	if len(diags) == 0 || !strings.Contains(diags.Error(), "t.alloy:3:5") || !strings.Contains(diags.Error(), "certificate") {
		t.Errorf("tls without a certificate: %v", diags)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// TestCORS answers a browser's preflight for an allowed origin only.
func TestCORS(t *testing.T) {
	c := start(t, "cors {\n allowed_origins = [\"https://*.example.com\"]\n allowed_headers = [\"X-Tenant\"]\n max_age = 600\n}", &otelcoltest.Sink{})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, "http://"+c.Addrs().HTTP+"/v1/metrics", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("https://app.example.com")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Tenant") || resp.Header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("allowed origin: %s %v", resp.Status, resp.Header)
	}
	resp = preflight("https://evil.test")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", resp.Header)
	}
}
