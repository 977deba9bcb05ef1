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

// ServerTLS adapts the web server's TLS configuration for gossip: with a
// cluster CA, client certificates signed by it are verified when given
// (tls.VerifyClientCertIfGiven), and the gossip handler refuses requests
// without one, so probes and browsers still reach every other route. With
// base nil, the cluster certificate and key serve as the server's own.
func ServerTLS(cfg Config, base *tls.Config) (*tls.Config, error) {
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
