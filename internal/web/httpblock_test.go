package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/config"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// testCA is a throwaway certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue returns a certificate and key in PEM for 127.0.0.1, usable by a
// server and a client.
func (ca *testCA) issue(t *testing.T, name string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// client trusts ca and presents the certificate when given.
func (ca *testCA) client(t *testing.T, certPEM, keyPEM string) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certPEM != "" {
		c, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// serve runs a server with the http block on 127.0.0.1:0 until the test
// ends and returns its host:port.
func serve(t *testing.T, opts Options, h config.HTTP) string {
	t.Helper()
	s := New(opts)
	if err := s.Apply(h); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Serve(ctx); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return addr.String()
}

func fetch(t *testing.T, c *http.Client, url string) (int, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// gossipOptions is fakeOptions with a stand-in gossip transport.
func gossipOptions() Options {
	opts := fakeOptions(5)
	opts.Gossip = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "gossip reached")
	})
	return opts
}

func TestTLSServesTheUI(t *testing.T) {
	ca := newTestCA(t, "ui-ca")
	cert, key := ca.issue(t, "node")
	addr := serve(t, fakeOptions(5), config.HTTP{TLS: &config.TLS{CertPEM: cert, KeyPEM: key, ClientAuthType: "NoClientCert"}})
	c := ca.client(t, "", "")

	resp, err := c.Get("https://" + addr + "/component/prometheus.scrape.default")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Targets scraped by node-a now") {
		t.Fatalf("GET the component page over TLS: %d\n%s", resp.StatusCode, body)
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("TLS negotiated %s, want HTTP/2", resp.Proto)
	}
	if code, _, err := fetch(t, c, "https://"+addr+"/static/style.css"); err != nil || code != http.StatusOK {
		t.Errorf("the stylesheet over TLS: %d %v", code, err)
	}

	plain := &http.Client{Timeout: 5 * time.Second}
	if code, _, err := fetch(t, plain, "http://"+addr+"/"); err == nil && code == http.StatusOK {
		t.Error("the TLS server also answers plain HTTP")
	}
}

func TestTLSCanRequireClientCertificates(t *testing.T) {
	ca := newTestCA(t, "ui-ca")
	cert, key := ca.issue(t, "node")
	ccert, ckey := ca.issue(t, "browser")
	addr := serve(t, fakeOptions(5), config.HTTP{TLS: &config.TLS{
		CertPEM: cert, KeyPEM: key, ClientCAPEM: ca.pem, ClientAuthType: "RequireAndVerifyClientCert",
	}})

	if code, _, err := fetch(t, ca.client(t, "", ""), "https://"+addr+"/"); err == nil {
		t.Errorf("a client without a certificate got %d, want a failed handshake", code)
	}
	stranger := newTestCA(t, "other-ca")
	scert, skey := stranger.issue(t, "stranger")
	c := ca.client(t, scert, skey)
	if code, _, err := fetch(t, c, "https://"+addr+"/"); err == nil {
		t.Errorf("a client with a certificate of another CA got %d, want a failed handshake", code)
	}
	code, body, err := fetch(t, ca.client(t, ccert, ckey), "https://"+addr+"/")
	if err != nil || code != http.StatusOK || !strings.Contains(body, "prometheus.scrape.default") {
		t.Errorf("a client with a good certificate: %d %v", code, err)
	}
}

func TestGossipRouteDemandsAVerifiedClientCertificate(t *testing.T) {
	ca := newTestCA(t, "ui-ca")
	cert, key := ca.issue(t, "node")
	peerCert, peerKey := ca.issue(t, "peer")
	// NoClientCert: browsers and probes need none, but gossip does.
	addr := serve(t, gossipOptions(), config.HTTP{TLS: &config.TLS{
		CertPEM: cert, KeyPEM: key, ClientCAPEM: ca.pem, ClientAuthType: "NoClientCert",
	}})
	gossip := "https://" + addr + GossipPrefix + "stream"

	anonymous := ca.client(t, "", "")
	if code, _, err := fetch(t, anonymous, gossip); err != nil || code != http.StatusForbidden {
		t.Errorf("gossip without a client certificate: %d %v, want 403", code, err)
	}
	for _, path := range []string{"/", "/-/ready", "/api/v0/web/peers"} {
		if code, _, err := fetch(t, anonymous, "https://"+addr+path); err != nil || code != http.StatusOK {
			t.Errorf("GET %s without a client certificate: %d %v, want 200", path, code, err)
		}
	}
	code, body, err := fetch(t, ca.client(t, peerCert, peerKey), gossip)
	if err != nil || code != http.StatusOK || body != "gossip reached" {
		t.Errorf("gossip with a verified certificate: %d %q %v", code, body, err)
	}
	stranger := newTestCA(t, "other-ca")
	scert, skey := stranger.issue(t, "stranger")
	if code, _, err := fetch(t, ca.client(t, scert, skey), gossip); err == nil && code == http.StatusOK {
		t.Error("gossip accepted a certificate of another CA")
	}
}

func TestGossipRouteIsOpenWithoutAClientCA(t *testing.T) {
	h := New(gossipOptions()).Handler()
	if code, body := get(t, h, GossipPrefix+"stream"); code != http.StatusOK || body != "gossip reached" {
		t.Errorf("gossip over plain HTTP without a client CA: %d %q", code, body)
	}
}

func TestBasicAuthFilter(t *testing.T) {
	const user, pass = "admin", "correct-horse-battery"
	healthy := fakeOptions(5)
	comps := healthy.Components()
	for i := range comps {
		comps[i].Health = component.Health{State: component.HealthHealthy}
	}
	healthy.Components = func() []Component { return comps }

	auth := func(f *config.AuthFilter) config.HTTP {
		return config.HTTP{Auth: &config.Auth{Basic: &config.BasicAuth{Username: user, Password: types.Secret(pass)}, Filter: f}}
	}
	for _, tc := range []struct {
		name   string
		http   config.HTTP
		closed []string // need credentials
		open   []string // answer without them
	}{
		{
			name:   "no filter: every path",
			http:   auth(nil),
			closed: []string{"/", "/clustering", "/component/prometheus.scrape.default", "/api/v0/web/components", "/-/ready", "/-/healthy", "/metrics"},
		},
		{
			name:   "authenticate_matching_paths = true",
			http:   auth(&config.AuthFilter{Paths: []string{"/api/v0/web", "/component/"}, AuthenticateMatchingPaths: true}),
			closed: []string{"/api/v0/web/components", "/api/v0/web/peers", "/component/prometheus.scrape.default"},
			open:   []string{"/", "/clustering", "/targets", "/-/ready", "/-/healthy", "/metrics"},
		},
		{
			name:   "authenticate_matching_paths = false",
			http:   auth(&config.AuthFilter{Paths: []string{"/-/ready", "/-/healthy", "/metrics"}, AuthenticateMatchingPaths: false}),
			closed: []string{"/", "/clustering", "/graph", "/targets", "/component/prometheus.scrape.default", "/api/v0/web/components", "/static/style.css"},
			open:   []string{"/-/ready", "/-/healthy", "/metrics"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(healthy)
			if err := s.Apply(tc.http); err != nil {
				t.Fatal(err)
			}
			h := s.Handler()
			do := func(path, u, p string) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				if u != "" {
					req.SetBasicAuth(u, p)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec
			}
			for _, p := range tc.closed {
				if rec := do(p, "", ""); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
					t.Errorf("GET %s without credentials: %d, want 401 with a challenge", p, rec.Code)
				}
				if rec := do(p, user, "wrong"); rec.Code != http.StatusUnauthorized {
					t.Errorf("GET %s with a wrong password: %d, want 401", p, rec.Code)
				}
				if rec := do(p, user, pass); rec.Code != http.StatusOK {
					t.Errorf("GET %s with credentials: %d, want 200", p, rec.Code)
				}
			}
			for _, p := range tc.open {
				if rec := do(p, "", ""); rec.Code != http.StatusOK {
					t.Errorf("GET %s without credentials: %d, want 200", p, rec.Code)
				}
			}
		})
	}
}

// TestBasicAuthNeverLocksOutGossip turns basic auth on for every path, and
// for the gossip prefix by name: gossip requests without the password still
// reach the cluster transport (peers never send it), while the UI, the API
// and paths that only look like the gossip prefix still ask for it.
func TestBasicAuthNeverLocksOutGossip(t *testing.T) {
	const user, pass = "admin", "s3cret"
	var gossipHits int
	opts := fakeOptions(2)
	opts.Gossip = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gossipHits++
		w.WriteHeader(http.StatusNoContent)
	})
	for _, f := range []*config.AuthFilter{nil, {Paths: []string{"/api/v1/ckit"}, AuthenticateMatchingPaths: true}} {
		s := New(opts)
		if err := s.Apply(config.HTTP{Auth: &config.Auth{Basic: &config.BasicAuth{Username: user, Password: types.Secret(pass)}, Filter: f}}); err != nil {
			t.Fatal(err)
		}
		h := s.Handler()
		for _, p := range []string{GossipPrefix + "message", GossipPrefix + "stream"} {
			before := gossipHits
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, p, strings.NewReader("x")))
			if rec.Code != http.StatusNoContent || gossipHits != before+1 {
				t.Errorf("filter %v: POST %s without credentials: %d (handler reached: %v), want the gossip handler", f, p, rec.Code, gossipHits > before)
			}
		}
		for _, p := range []string{"/api/v0/web/peers", "/", "/api/v1/ckit/transport/../../v0/web/peers", "/api/v1/ckit/other"} {
			if f != nil && !strings.HasPrefix(p, "/api/v1/ckit") {
				continue // outside this filter's paths
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("filter %v: GET %s without credentials: %d, want 401", f, p, rec.Code)
			}
		}
	}
}
