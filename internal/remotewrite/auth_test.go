package remotewrite

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/prompb"
)

// noCloudChains makes sure no default credential chain of AWS, Azure or
// Google can reach a cloud metadata address from a test: every variable
// that names credentials is unset, and the metadata endpoints point at a
// closed loopback port.
func noCloudChains(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST",
		"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
		"GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("AWS_CONFIG_FILE", dir+"/aws-config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/aws-credentials")
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	t.Setenv("GCE_METADATA_IP", "127.0.0.1:1")
	t.Setenv("NO_GCE_CHECK", "true")
	t.Setenv("HOME", dir)
}

// authReceiver accepts remote-write requests and remembers their headers
// and bodies.
type authReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	method, path, host string
	header             http.Header
	body               []byte
}

func newAuthReceiver(t *testing.T) *authReceiver {
	r := &authReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		raw, err := snappy.Decode(nil, body)
		var wr prompb.WriteRequest
		if err == nil {
			err = wr.Unmarshal(raw)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, seenRequest{req.Method, req.URL.Path, req.Host, req.Header.Clone(), body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *authReceiver) first(t *testing.T) seenRequest {
	t.Helper()
	eventually(t, 10*time.Second, "a remote-write request", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.reqs) > 0
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[0]
}

func authEndpoint(url string) EndpointConfig {
	q := DefaultQueueConfig
	q.BatchSendDeadline = 20 * time.Millisecond
	q.MinBackoff = time.Millisecond
	q.MaxBackoff = 20 * time.Millisecond
	q.MaxShards, q.MinShards = 1, 1
	return EndpointConfig{Name: "auth", URL: url, RemoteTimeout: 5 * time.Second, Queue: q, MetadataInterval: time.Hour}
}

// tokenServer is an OAuth 2.0 token endpoint that answers every grant it
// is told to accept with token.
type tokenServer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	forms []map[string]string
	basic []string // client id of HTTP basic client authentication
}

func newTokenServer(t *testing.T, grant, token string) *tokenServer {
	ts := &tokenServer{}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if err := req.ParseForm(); err != nil || req.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f := map[string]string{}
		for k := range req.PostForm {
			f[k] = req.PostForm.Get(k)
		}
		user, _, _ := req.BasicAuth()
		ts.mu.Lock()
		ts.forms = append(ts.forms, f)
		ts.basic = append(ts.basic, user)
		ts.mu.Unlock()
		if f["grant_type"] != grant {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"`+token+`","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) calls() ([]map[string]string, []string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]map[string]string(nil), ts.forms...), append([]string(nil), ts.basic...)
}

// TestOAuth2ClientCredentials: the oauth2 block (prometheus/common's
// OAuth2) fetches a token with the client_credentials grant and every
// remote-write request carries it.
func TestOAuth2ClientCredentials(t *testing.T) {
	noCloudChains(t)
	ts := newTokenServer(t, "client_credentials", "tok-oauth2")
	rcv := newAuthReceiver(t)
	ep := authEndpoint(rcv.srv.URL + "/api/v1/write")
	ep.HTTPClient = config.DefaultHTTPClientConfig
	ep.HTTPClient.OAuth2 = &config.OAuth2{ClientID: "shoal", ClientSecret: "s3cret", TokenURL: ts.srv.URL + "/token", Scopes: []string{"write"}}
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(1, 3, 1000))
	got := rcv.first(t)
	if a := got.header.Get("Authorization"); a != "Bearer tok-oauth2" {
		t.Errorf("Authorization %q, want Bearer tok-oauth2", a)
	}
	forms, basic := ts.calls()
	if len(forms) == 0 || forms[0]["grant_type"] != "client_credentials" || forms[0]["scope"] != "write" {
		t.Fatalf("token requests %v", forms)
	}
	if basic[0] != "shoal" && forms[0]["client_id"] != "shoal" {
		t.Errorf("token request did not authenticate the client: basic %q form %v", basic[0], forms[0])
	}
}

// TestRoundRobinDNS: with round_robin_dns the endpoint's connections go to
// every address its host name resolves to (two receivers on 127.0.0.1 and
// 127.0.0.2, same port); each answers with Connection: close, so that
// every request dials.
func TestRoundRobinDNS(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		host, _, _ := net.SplitHostPort(req.Context().Value(http.LocalAddrContextKey).(net.Addr).String())
		mu.Lock()
		hits[host]++
		mu.Unlock()
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusNoContent)
	})
	var port string
	var srvs []*httptest.Server
	for try := 0; try < 20 && len(srvs) < 2; try++ {
		for _, s := range srvs {
			s.Close()
		}
		srvs = nil
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ = net.SplitHostPort(l1.Addr().String())
		l2, err := net.Listen("tcp", "127.0.0.2:"+port)
		if err != nil {
			l1.Close()
			continue
		}
		for _, l := range []net.Listener{l1, l2} {
			s := httptest.NewUnstartedServer(handler)
			s.Listener.Close()
			s.Listener = l
			s.Start()
			srvs = append(srvs, s)
		}
	}
	if len(srvs) < 2 {
		t.Skip("cannot listen on 127.0.0.2 with 127.0.0.1's port")
	}
	for _, s := range srvs {
		t.Cleanup(s.Close)
	}
	var lookups sync.Map
	old := lookupHost
	lookupHost = func(ctx context.Context, host string) ([]string, error) {
		lookups.Store(host, true)
		if host != "rw.shoal.test" {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return []string{"127.0.0.1", "127.0.0.2"}, nil
	}
	t.Cleanup(func() { lookupHost = old })

	ep := authEndpoint("http://rw.shoal.test:" + port + "/api/v1/write")
	ep.HTTPClient = config.DefaultHTTPClientConfig
	ep.RoundRobinDNS = true
	ep.Queue.MaxSamplesPerSend = 2
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(10, 2, 1000))
	eventually(t, 10*time.Second, "requests on both addresses", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hits["127.0.0.1"] > 0 && hits["127.0.0.2"] > 0
	})
	if _, ok := lookups.Load("rw.shoal.test"); !ok {
		t.Error("the host name was not resolved by the round-robin resolver")
	}
}

// TestRoundRobinDialerSkipsDeadAddress: an address nobody listens on is
// skipped for the next one.
func TestRoundRobinDialerSkipsDeadAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	// 127.0.0.3 on this port: nothing listens there (refused at once).
	if c, err := net.Dial("tcp", "127.0.0.3:"+port); err == nil {
		c.Close()
		t.Skip("something listens on 127.0.0.3:" + port)
	}
	d := &roundRobinDialer{lookup: func(context.Context, string) ([]string, error) {
		return []string{"127.0.0.3", "127.0.0.1"}, nil
	}}
	for i := range 4 {
		c, err := d.DialContext(context.Background(), "tcp", "h.test:"+port)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if got := c.RemoteAddr().String(); got != "127.0.0.1:"+port {
			t.Errorf("dial %d went to %s", i, got)
		}
		c.Close()
	}
	// An IP address is dialed as is, without a lookup.
	d.lookup = func(context.Context, string) ([]string, error) { t.Error("lookup for an IP"); return nil, nil }
	c, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
