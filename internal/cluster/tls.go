package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// ClientTLS is the TLS configuration this node dials its peers with: the
// cluster CA verifies their servers, and this node's certificate is its
// client certificate.
func ClientTLS(cfg Config) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TLSServerName, NextProtos: []string{"h2"}}
	if cfg.TLSCAPath != "" {
		pool, err := loadCA(cfg.TLSCAPath)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if cfg.TLSCertPath != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertPath, cfg.TLSKeyPath)
		if err != nil {
			return nil, fmt.Errorf("--cluster.tls-cert-path/--cluster.tls-key-path: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func loadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--cluster.tls-ca-path: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cluster.tls-ca-path %s: no PEM certificates", path)
	}
	return pool, nil
}
