package discoverytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TLSProxy is an HTTP proxy on loopback that answers CONNECT requests
// itself: it terminates TLS with a certificate for the requested host,
// signed by its own CA, and serves the requests inside with a handler. It
// stands in for a provider's fixed API endpoint (api.hetzner.cloud,
// api.linode.com, ...) that a discoverer does not let a test change:
// point proxy_url at URL and trust CAPEM in tls_config. The client never
// resolves or dials the provider's host; only the proxy is dialled.
type TLSProxy struct {
	URL   string // http://127.0.0.1:port
	CAPEM string

	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey
	handler http.Handler

	mu      sync.Mutex
	hosts   []string // CONNECT targets, in order
	plain   int      // requests that were not CONNECT
	leaves  map[string]*tls.Certificate
	serving sync.WaitGroup
}

// NewTLSProxy starts a proxy serving h; it stops when the test ends.
func NewTLSProxy(t testing.TB, h http.Handler) *TLSProxy {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shoal test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &TLSProxy{
		CAPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		ca:      ca,
		caKey:   key,
		handler: h,
		leaves:  map[string]*tls.Certificate{},
	}
	srv := httptest.NewServer(http.HandlerFunc(p.serveProxy))
	t.Cleanup(func() {
		srv.Close()
		p.serving.Wait()
	})
	p.URL = srv.URL
	return p
}

// Hosts returns the host:port of every CONNECT request so far.
func (p *TLSProxy) Hosts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.hosts...)
}

// Plain is how many requests came without CONNECT (they are refused).
func (p *TLSProxy) Plain() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plain
}

func (p *TLSProxy) serveProxy(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		p.mu.Lock()
		p.plain++
		p.mu.Unlock()
		http.Error(w, "this test proxy only tunnels TLS", http.StatusMethodNotAllowed)
		return
	}
	p.mu.Lock()
	p.hosts = append(p.hosts, r.Host)
	p.mu.Unlock()
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil || buf.Reader.Buffered() > 0 {
		conn.Close()
		return
	}
	tconn := tls.Server(conn, &tls.Config{GetCertificate: p.leaf, NextProtos: []string{"http/1.1"}})
	p.serving.Add(1)
	go func() {
		defer p.serving.Done()
		srv := &http.Server{Handler: p.handler, ReadHeaderTimeout: 10 * time.Second}
		_ = srv.Serve(&oneConn{c: tconn})
	}()
}

// leaf returns a certificate for the server name the client asked for.
func (p *TLSProxy) leaf(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.leaves[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(p.leaves) + 2)),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses, tmpl.DNSNames = []net.IP{ip}, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	p.leaves[name] = c
	return c, nil
}

// oneConn is a listener that yields one connection, then reports closed.
type oneConn struct {
	mu sync.Mutex
	c  net.Conn
}

func (l *oneConn) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == nil {
		return nil, net.ErrClosed
	}
	c := l.c
	l.c = nil
	return c, nil
}

func (l *oneConn) Close() error   { return nil }
func (l *oneConn) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
