package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are otelcol.receiver.otlp's, with Alloy's names and defaults.
// A protocol is served only when its block is present.
type Arguments struct {
	GRPC         *GRPC                `alloy:"grpc,block,optional"`
	HTTP         *HTTP                `alloy:"http,block,optional"`
	DebugMetrics otelcol.DebugMetrics `alloy:"debug_metrics,block,optional"`
	Output       *otelcol.Output      `alloy:"output,block"`
}

// SetToDefault sets Alloy's defaults: no protocol until its block is given.
func (a *Arguments) SetToDefault() {
	*a = Arguments{}
	a.DebugMetrics.SetToDefault()
}

// Validate checks the URL paths, as Alloy does.
func (a *Arguments) Validate() error {
	if a.HTTP != nil {
		for _, p := range []struct{ name, v string }{
			{"traces_url_path", a.HTTP.TracesURLPath},
			{"logs_url_path", a.HTTP.LogsURLPath},
			{"metrics_url_path", a.HTTP.MetricsURLPath},
		} {
			if p.v == "" {
				return fmt.Errorf("%s cannot be empty", p.name)
			}
			if _, err := url.Parse(p.v); err != nil {
				return fmt.Errorf("invalid %s: %w", p.name, err)
			}
		}
	}
	return nil
}

// GRPC is the grpc block: the OTLP/gRPC server.
type GRPC struct {
	Endpoint             string     `alloy:"endpoint,attr,optional"`
	Transport            string     `alloy:"transport,attr,optional"`
	TLS                  *TLS       `alloy:"tls,block,optional"`
	MaxRecvMsgSize       types.Size `alloy:"max_recv_msg_size,attr,optional"`
	MaxConcurrentStreams uint32     `alloy:"max_concurrent_streams,attr,optional"`
	ReadBufferSize       types.Size `alloy:"read_buffer_size,attr,optional"`
	WriteBufferSize      types.Size `alloy:"write_buffer_size,attr,optional"`
	Keepalive            *Keepalive `alloy:"keepalive,block,optional"`
	IncludeMetadata      bool       `alloy:"include_metadata,attr,optional"`
}

// SetToDefault sets Alloy's defaults.
func (g *GRPC) SetToDefault() {
	*g = GRPC{
		Endpoint:       "0.0.0.0:4317",
		Transport:      "tcp",
		Keepalive:      &Keepalive{ServerParameters: &KeepaliveServer{}, EnforcementPolicy: &KeepaliveEnforcement{}},
		ReadBufferSize: 512 * types.KiB,
	}
}

// Validate checks the transport.
func (g *GRPC) Validate() error {
	switch g.Transport {
	case "tcp", "tcp4", "tcp6", "unix":
		return nil
	}
	return fmt.Errorf("transport must be one of tcp, tcp4, tcp6 or unix, got %q", g.Transport)
}

// Keepalive is the grpc block's keepalive block.
type Keepalive struct {
	ServerParameters  *KeepaliveServer      `alloy:"server_parameters,block,optional"`
	EnforcementPolicy *KeepaliveEnforcement `alloy:"enforcement_policy,block,optional"`
}

// KeepaliveServer is keepalive's server_parameters block.
type KeepaliveServer struct {
	MaxConnectionIdle     time.Duration `alloy:"max_connection_idle,attr,optional"`
	MaxConnectionAge      time.Duration `alloy:"max_connection_age,attr,optional"`
	MaxConnectionAgeGrace time.Duration `alloy:"max_connection_age_grace,attr,optional"`
	Time                  time.Duration `alloy:"time,attr,optional"`
	Timeout               time.Duration `alloy:"timeout,attr,optional"`
}

// KeepaliveEnforcement is keepalive's enforcement_policy block.
type KeepaliveEnforcement struct {
	MinTime             time.Duration `alloy:"min_time,attr,optional"`
	PermitWithoutStream bool          `alloy:"permit_without_stream,attr,optional"`
}

// HTTP is the http block: the OTLP/HTTP server.
type HTTP struct {
	Endpoint              string        `alloy:"endpoint,attr,optional"`
	TLS                   *TLS          `alloy:"tls,block,optional"`
	CORS                  *CORS         `alloy:"cors,block,optional"`
	MaxRequestBodySize    types.Size    `alloy:"max_request_body_size,attr,optional"`
	IncludeMetadata       bool          `alloy:"include_metadata,attr,optional"`
	CompressionAlgorithms []string      `alloy:"compression_algorithms,attr,optional"`
	KeepAlivesEnabled     *bool         `alloy:"keep_alives_enabled,attr,optional"`
	IdleTimeout           time.Duration `alloy:"idle_timeout,attr,optional"`
	ReadTimeout           time.Duration `alloy:"read_timeout,attr,optional"`
	WriteTimeout          time.Duration `alloy:"write_timeout,attr,optional"`
	ReadHeaderTimeout     time.Duration `alloy:"read_header_timeout,attr,optional"`
	TracesURLPath         string        `alloy:"traces_url_path,attr,optional"`
	MetricsURLPath        string        `alloy:"metrics_url_path,attr,optional"`
	LogsURLPath           string        `alloy:"logs_url_path,attr,optional"`
}

// DefaultCompressionAlgorithms are the request encodings Alloy accepts by
// default ("" is none).
var DefaultCompressionAlgorithms = []string{"", "gzip", "zstd", "zlib", "snappy", "deflate", "lz4"}

// SetToDefault sets Alloy's defaults.
func (h *HTTP) SetToDefault() {
	*h = HTTP{
		Endpoint:              "0.0.0.0:4318",
		CompressionAlgorithms: append([]string(nil), DefaultCompressionAlgorithms...),
		CORS:                  &CORS{},
		IdleTimeout:           time.Minute,
		ReadHeaderTimeout:     time.Minute,
		WriteTimeout:          30 * time.Second,
		MetricsURLPath:        "/v1/metrics",
		LogsURLPath:           "/v1/logs",
		TracesURLPath:         "/v1/traces",
	}
}

// Validate checks the compression algorithms.
func (h *HTTP) Validate() error {
	for _, a := range h.CompressionAlgorithms {
		if !knownEncoding(a) {
			return fmt.Errorf("compression_algorithms: unknown algorithm %q", a)
		}
	}
	return nil
}

// CORS is the http block's cors block.
type CORS struct {
	AllowedOrigins []string `alloy:"allowed_origins,attr,optional"`
	AllowedHeaders []string `alloy:"allowed_headers,attr,optional"`
	ExposedHeaders []string `alloy:"exposed_headers,attr,optional"`
	MaxAge         int      `alloy:"max_age,attr,optional"`
}

// TLS is the tls block of a server, with Alloy's names.
type TLS struct {
	CAPEM                    string        `alloy:"ca_pem,attr,optional"`
	CAFile                   string        `alloy:"ca_file,attr,optional"`
	CertPEM                  string        `alloy:"cert_pem,attr,optional"`
	CertFile                 string        `alloy:"cert_file,attr,optional"`
	KeyPEM                   types.Secret  `alloy:"key_pem,attr,optional"`
	KeyFile                  string        `alloy:"key_file,attr,optional"`
	MinVersion               string        `alloy:"min_version,attr,optional"`
	MaxVersion               string        `alloy:"max_version,attr,optional"`
	ReloadInterval           time.Duration `alloy:"reload_interval,attr,optional"`
	CipherSuites             []string      `alloy:"cipher_suites,attr,optional"`
	IncludeSystemCACertsPool bool          `alloy:"include_system_ca_certs_pool,attr,optional"`
	CurvePreferences         []string      `alloy:"curve_preferences,attr,optional"`
	ClientCAFile             string        `alloy:"client_ca_file,attr,optional"`
}

// Validate checks that the certificate and key are each given once and
// the versions and suites are known.
func (t *TLS) Validate() error {
	if t.CertPEM != "" && t.CertFile != "" {
		return errors.New("at most one of cert_pem and cert_file must be set")
	}
	if t.KeyPEM != "" && t.KeyFile != "" {
		return errors.New("at most one of key_pem and key_file must be set")
	}
	if t.CertPEM == "" && t.CertFile == "" || t.KeyPEM == "" && t.KeyFile == "" {
		return errors.New("a server's tls block needs a certificate (cert_pem or cert_file) and its key (key_pem or key_file)")
	}
	if _, err := tlsVersion(t.MinVersion, tls.VersionTLS12); err != nil {
		return fmt.Errorf("min_version: %w", err)
	}
	if _, err := tlsVersion(t.MaxVersion, 0); err != nil {
		return fmt.Errorf("max_version: %w", err)
	}
	if _, err := cipherSuites(t.CipherSuites); err != nil {
		return err
	}
	if _, err := curves(t.CurvePreferences); err != nil {
		return err
	}
	return nil
}

func tlsVersion(v string, def uint16) (uint16, error) {
	switch v {
	case "":
		return def, nil
	case "1.0":
		return tls.VersionTLS10, nil
	case "1.1":
		return tls.VersionTLS11, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("unknown TLS version %q (1.0, 1.1, 1.2 or 1.3)", v)
}

func cipherSuites(names []string) ([]uint16, error) {
	var ids []uint16
	for _, n := range names {
		found := false
		for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
			if s.Name == n {
				ids = append(ids, s.ID)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("cipher_suites: unknown cipher suite %q", n)
		}
	}
	return ids, nil
}

func curves(names []string) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	for _, n := range names {
		switch strings.ToUpper(n) {
		case "X25519":
			ids = append(ids, tls.X25519)
		case "P256":
			ids = append(ids, tls.CurveP256)
		case "P384":
			ids = append(ids, tls.CurveP384)
		case "P521":
			ids = append(ids, tls.CurveP521)
		case "X25519MLKEM768":
			ids = append(ids, tls.X25519MLKEM768)
		default:
			return nil, fmt.Errorf("curve_preferences: unknown curve %q", n)
		}
	}
	return ids, nil
}

// Config builds the server's TLS configuration. With reload_interval the
// certificate is read again when that long has passed since the last read.
func (t *TLS) Config() (*tls.Config, error) {
	minV, _ := tlsVersion(t.MinVersion, tls.VersionTLS12)
	maxV, _ := tlsVersion(t.MaxVersion, 0)
	suites, _ := cipherSuites(t.CipherSuites)
	cs, _ := curves(t.CurvePreferences)
	cfg := &tls.Config{MinVersion: minV, MaxVersion: maxV, CipherSuites: suites, CurvePreferences: cs}
	load := func() (*tls.Certificate, error) {
		cert, key := []byte(t.CertPEM), []byte(string(t.KeyPEM))
		var err error
		if t.CertFile != "" {
			if cert, err = os.ReadFile(t.CertFile); err != nil {
				return nil, err
			}
		}
		if t.KeyFile != "" {
			if key, err = os.ReadFile(t.KeyFile); err != nil {
				return nil, err
			}
		}
		c, err := tls.X509KeyPair(cert, key)
		return &c, err
	}
	cert, err := load()
	if err != nil {
		return nil, fmt.Errorf("loading the server certificate: %w", err)
	}
	if t.ReloadInterval > 0 {
		var (
			mu   sync.Mutex
			last = time.Now()
		)
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(last) >= t.ReloadInterval {
				if c, err := load(); err == nil {
					cert, last = c, time.Now()
				}
			}
			return cert, nil
		}
	} else {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if t.ClientCAFile != "" {
		pool := x509.NewCertPool()
		if t.IncludeSystemCACertsPool {
			if sys, err := x509.SystemCertPool(); err == nil {
				pool = sys
			}
		}
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading client_ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client_ca_file %s holds no certificate", t.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}
