package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoggingDefaultsAndChecks(t *testing.T) {
	var l Logging
	l.SetToDefault()
	if l.Level != "info" || l.Format != "logfmt" || l.Validate() != nil {
		t.Fatalf("defaults = %+v", l)
	}
	l.Level, l.Format = "verbose", "xml"
	err := l.Validate()
	if err == nil || !strings.Contains(err.Error(), `unknown log level "verbose"`) || !strings.Contains(err.Error(), `unknown log format "xml"`) {
		t.Fatalf("Validate = %v", err)
	}
}

func TestTLSChecksReportEveryProblem(t *testing.T) {
	tl := TLS{
		CertPEM: "x", CertFile: "y",
		ClientAuthType: "Sometimes",
		MinVersion:     "TLS9",
		CipherSuites:   []string{"TLS_NOPE"},
	}
	err := tl.Validate()
	for _, want := range []string{
		"at most one of cert_pem and cert_file",
		"a certificate and a key must be set together",
		`unknown client_auth_type "Sometimes"`,
		`unknown TLS version "TLS9"`,
		`unknown cipher suite "TLS_NOPE"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to mention %q", err, want)
		}
	}
}

func TestTLSConfigLoadsFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	tl := TLS{CertFile: certFile, KeyFile: keyFile, ClientCAFile: certFile, ClientAuthType: "RequireAndVerifyClientCert", MinVersion: "TLS13"}
	if err := tl.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg, err := tl.Config()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Certificates) != 1 || cfg.ClientCAs == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("config = %+v", cfg)
	}
	tl.KeyFile = filepath.Join(dir, "missing.pem")
	if _, err := tl.Config(); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Fatalf("Config with a missing key = %v", err)
	}
}

func TestAuthFilter(t *testing.T) {
	var none *Auth
	if none.NeedsAuth("/metrics") {
		t.Error("no auth block asks for authentication")
	}
	all := &Auth{Basic: &BasicAuth{Username: "u", Password: "p"}}
	if !all.NeedsAuth("/metrics") || !all.NeedsAuth("/") {
		t.Error("basic auth without a filter must cover every path")
	}
	only := &Auth{Basic: all.Basic, Filter: &AuthFilter{Paths: []string{"/metrics", "/v1"}, AuthenticateMatchingPaths: true}}
	for path, want := range map[string]bool{"/metrics": true, "/v1/x": true, "/v10": false, "/-/ready": false} {
		if got := only.NeedsAuth(path); got != want {
			t.Errorf("matching: NeedsAuth(%q) = %v, want %v", path, got, want)
		}
	}
	except := &Auth{Basic: all.Basic, Filter: &AuthFilter{Paths: []string{"/metrics"}, AuthenticateMatchingPaths: false}}
	if except.NeedsAuth("/metrics") || !except.NeedsAuth("/api/v0/web/components") {
		t.Error("non-matching filter must exempt the listed paths only")
	}
}

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
