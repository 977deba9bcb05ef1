package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testPKI writes a CA and certificates it signed (for 127.0.0.1) into dir.
type testPKI struct {
	dir    string
	caPath string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shoal test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{dir: t.TempDir(), ca: ca, caKey: key}
	p.caPath = filepath.Join(p.dir, "ca.pem")
	writePEM(t, p.caPath, "CERTIFICATE", der)
	return p
}

// issue writes a certificate valid as server and client for 127.0.0.1.
func (p *testPKI) issue(t testing.TB, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath = filepath.Join(p.dir, name+".pem")
	keyPath = filepath.Join(p.dir, name+"-key.pem")
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "EC PRIVATE KEY", kder)
	return certPath, keyPath
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startTLSNode serves a node over HTTPS whose server verifies client
// certificates from the cluster CA when given. withCert chooses whether
// the node itself has a client certificate.
func startTLSNode(t *testing.T, p *testPKI, name string, withCert bool, opts ...nodeOpt) *tnode {
	t.Helper()
	certPath, keyPath := p.issue(t, name)
	cfg := Config{EnableTLS: true, TLSCAPath: p.caPath, TLSCertPath: certPath, TLSKeyPath: keyPath}
	srvTLS, err := serverTLS(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]nodeOpt{func(c *Config, _ *Options) {
		c.EnableTLS, c.TLSCAPath, c.NodeIdentity = true, p.caPath, true
		if withCert {
			c.TLSCertPath, c.TLSKeyPath = certPath, keyPath
		}
	}}, opts...)
	return startNodeOn(t, ln, name, srvTLS, opts...)
}

func TestTLSNodeWithoutClientCertificateCannotJoin(t *testing.T) {
	p := newTestPKI(t)
	a := startTLSNode(t, p, "a", true)
	b := startTLSNode(t, p, "b", true, withJoin(a.addr()))
	eventually(t, 10*time.Second, "b, with a client certificate, to join a", func() bool { return sees(a.Node, "a", "b") && sees(b.Node, "a", "b") })

	intruder := startTLSNode(t, p, "intruder", false, withJoin(a.addr()))
	intruder.SetReady()
	eventually(t, 15*time.Second, "the intruder to give up joining", func() bool { return intruder.Self().State == Participant })
	if got := alivePeers(a.Node); len(got) != 2 {
		t.Errorf("a sees %v; a node without a client certificate must not join", got)
	}
	if got := alivePeers(intruder.Node); len(got) != 1 {
		t.Errorf("the intruder sees %v, want only itself", got)
	}
}

// serverTLS is the server side of a test node, set up as internal/web
// does for gossip (web.Server.Apply): with a
// cluster CA, client certificates signed by it are verified when given
// (tls.VerifyClientCertIfGiven), and the gossip handler refuses requests
// without one, so probes and browsers still reach every other route. With
// base nil, the cluster certificate and key serve as the server's own.
func serverTLS(cfg Config, base *tls.Config) (*tls.Config, error) {
	var c *tls.Config
	if base != nil {
		c = base.Clone()
	} else {
		c = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSCertPath != "" {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertPath, cfg.TLSKeyPath)
			if err != nil {
				return nil, fmt.Errorf("--cluster.tls-cert-path/--cluster.tls-key-path: %w", err)
			}
			c.Certificates = []tls.Certificate{cert}
		}
	}
	if cfg.TLSCAPath != "" {
		pool, err := loadCA(cfg.TLSCAPath)
		if err != nil {
			return nil, err
		}
		if c.ClientCAs != nil {
			// Keep the web server's own client CAs and add ours.
			pem, _ := os.ReadFile(cfg.TLSCAPath)
			c.ClientCAs = c.ClientCAs.Clone()
			c.ClientCAs.AppendCertsFromPEM(pem)
		} else {
			c.ClientCAs = pool
		}
		if c.ClientAuth < tls.VerifyClientCertIfGiven {
			c.ClientAuth = tls.VerifyClientCertIfGiven
		}
	}
	return c, nil
}
