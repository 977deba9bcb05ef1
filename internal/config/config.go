// Package config holds the arguments of the configuration file's top-level
// blocks that are not components: `logging { ... }` and `http { ... }`, with
// Alloy's names and defaults, and the conversions others need from them (a
// slog level, a *tls.Config). It decodes and checks; it does not serve HTTP
// (internal/web does) or configure the process logger (cmd does).
package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Globals are the decoded top-level blocks of one config. A block that is
// absent from the file has its default value.
type Globals struct {
	Logging       Logging
	HTTP          HTTP
	LiveDebugging LiveDebugging
}

// LiveDebugging is the `livedebugging` block: whether the UI may stream
// what flows through components. Alloy's default is off.
type LiveDebugging struct {
	Enabled bool `alloy:"enabled,attr,optional"`
}

// DefaultGlobals returns the globals of a config that declares neither block.
func DefaultGlobals() Globals {
	var g Globals
	g.Logging.SetToDefault()
	g.HTTP.SetToDefault()
	return g
}

// Logging is the `logging` block. Alloy's write_to (teeing logs to loki.*
// receivers) is refused by the runtime before decoding.
type Logging struct {
	Level       string `alloy:"level,attr,optional"`
	Format      string `alloy:"format,attr,optional"`
	Destination string `alloy:"destination,attr,optional"`
}

// The logging levels and formats Alloy accepts.
var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"logfmt", "json"}
)

// SetToDefault sets Alloy's defaults: level "info", format "logfmt",
// destination "stderr".
func (l *Logging) SetToDefault() {
	*l = Logging{Level: "info", Format: "logfmt", Destination: "stderr"}
}

// Validate checks the level and format names.
func (l *Logging) Validate() error {
	var errs []error
	if !slices.Contains(logLevels, l.Level) {
		errs = append(errs, fmt.Errorf("unknown log level %q, want one of %s", l.Level, strings.Join(logLevels, ", ")))
	}
	if !slices.Contains(logFormats, l.Format) {
		errs = append(errs, fmt.Errorf("unknown log format %q, want one of %s", l.Format, strings.Join(logFormats, ", ")))
	}
	switch l.Destination {
	case "stderr":
	case "windows_event_log":
		errs = append(errs, errors.New(`destination "windows_event_log" is not supported: shoal does not run as a Windows service and writes its logs to stderr only`))
	default:
		errs = append(errs, fmt.Errorf(`unknown log destination %q, want "stderr"`, l.Destination))
	}
	return errors.Join(errs...)
}

// SlogLevel is Level as a slog.Level.
func (l Logging) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// HTTP is the `http` block: the TLS and authentication of the HTTP server.
type HTTP struct {
	TLS  *TLS  `alloy:"tls,block,optional"`
	Auth *Auth `alloy:"auth,block,optional"`
}

// SetToDefault leaves TLS and authentication off.
func (h *HTTP) SetToDefault() { *h = HTTP{} }

// TLS is the `http { tls { ... } }` block. PEM and file forms of the same
// item exclude each other.
type TLS struct {
	CertPEM          string   `alloy:"cert_pem,attr,optional"`
	CertFile         string   `alloy:"cert_file,attr,optional"`
	KeyPEM           string   `alloy:"key_pem,attr,optional"`
	KeyFile          string   `alloy:"key_file,attr,optional"`
	ClientCAPEM      string   `alloy:"client_ca_pem,attr,optional"`
	ClientCAFile     string   `alloy:"client_ca_file,attr,optional"`
	ClientAuthType   string   `alloy:"client_auth_type,attr,optional"`
	CipherSuites     []string `alloy:"cipher_suites,attr,optional"`
	CurvePreferences []string `alloy:"curve_preferences,attr,optional"`
	MinVersion       string   `alloy:"min_version,attr,optional"`
	MaxVersion       string   `alloy:"max_version,attr,optional"`
}

// SetToDefault sets Alloy's default: no client certificate asked for.
func (t *TLS) SetToDefault() { *t = TLS{ClientAuthType: "NoClientCert"} }

var clientAuthTypes = map[string]tls.ClientAuthType{
	"NoClientCert":               tls.NoClientCert,
	"RequestClientCert":          tls.RequestClientCert,
	"RequireAnyClientCert":       tls.RequireAnyClientCert,
	"VerifyClientCertIfGiven":    tls.VerifyClientCertIfGiven,
	"RequireAndVerifyClientCert": tls.RequireAndVerifyClientCert,
}

var tlsVersions = map[string]uint16{
	"TLS10": tls.VersionTLS10,
	"TLS11": tls.VersionTLS11,
	"TLS12": tls.VersionTLS12,
	"TLS13": tls.VersionTLS13,
}

var curves = map[string]tls.CurveID{
	"CurveP256":      tls.CurveP256,
	"CurveP384":      tls.CurveP384,
	"CurveP521":      tls.CurveP521,
	"X25519":         tls.X25519,
	"X25519MLKEM768": tls.X25519MLKEM768,
}

// Validate checks the names and that each item comes from one source.
func (t *TLS) Validate() error {
	var errs []error
	both := func(a, b, what string) {
		if a != "" && b != "" {
			errs = append(errs, fmt.Errorf("at most one of %s_pem and %s_file must be set", what, what))
		}
	}
	both(t.CertPEM, t.CertFile, "cert")
	both(t.KeyPEM, t.KeyFile, "key")
	both(t.ClientCAPEM, t.ClientCAFile, "client_ca")
	if (t.CertPEM != "" || t.CertFile != "") != (t.KeyPEM != "" || t.KeyFile != "") {
		errs = append(errs, errors.New("a certificate and a key must be set together"))
	}
	if _, ok := clientAuthTypes[t.ClientAuthType]; !ok {
		errs = append(errs, fmt.Errorf("unknown client_auth_type %q", t.ClientAuthType))
	}
	for _, v := range []string{t.MinVersion, t.MaxVersion} {
		if _, ok := tlsVersions[v]; v != "" && !ok {
			errs = append(errs, fmt.Errorf("unknown TLS version %q, want one of TLS10, TLS11, TLS12, TLS13", v))
		}
	}
	for _, c := range t.CipherSuites {
		if cipherSuite(c) == 0 {
			errs = append(errs, fmt.Errorf("unknown cipher suite %q", c))
		}
	}
	for _, c := range t.CurvePreferences {
		if _, ok := curves[c]; !ok {
			errs = append(errs, fmt.Errorf("unknown curve %q", c))
		}
	}
	return errors.Join(errs...)
}

func cipherSuite(name string) uint16 {
	for _, s := range slices.Concat(tls.CipherSuites(), tls.InsecureCipherSuites()) {
		if s.Name == name {
			return s.ID
		}
	}
	return 0
}

// Config builds the server's tls.Config, reading the files now. It is the
// caller's to call again when the files change.
func (t *TLS) Config() (*tls.Config, error) {
	certPEM, err := pemOrFile(t.CertPEM, t.CertFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := pemOrFile(t.KeyPEM, t.KeyFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		ClientAuth: clientAuthTypes[t.ClientAuthType],
		MinVersion: tlsVersions[t.MinVersion],
		MaxVersion: tlsVersions[t.MaxVersion],
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if certPEM != nil {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("http tls: loading key pair: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	caPEM, err := pemOrFile(t.ClientCAPEM, t.ClientCAFile)
	if err != nil {
		return nil, err
	}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("http tls: client CA holds no PEM certificate")
		}
		cfg.ClientCAs = pool
	}
	for _, c := range t.CipherSuites {
		cfg.CipherSuites = append(cfg.CipherSuites, cipherSuite(c))
	}
	for _, c := range t.CurvePreferences {
		cfg.CurvePreferences = append(cfg.CurvePreferences, curves[c])
	}
	return cfg, nil
}

func pemOrFile(pem, file string) ([]byte, error) {
	if pem != "" {
		return []byte(pem), nil
	}
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("http tls: %w", err)
	}
	return b, nil
}

// Auth is the `http { auth { ... } }` block.
type Auth struct {
	Basic  *BasicAuth  `alloy:"basic,block,optional"`
	Filter *AuthFilter `alloy:"filter,block,optional"`
}

// BasicAuth is the `auth { basic { ... } }` block.
type BasicAuth struct {
	Username string       `alloy:"username,attr"`
	Password types.Secret `alloy:"password,attr"`
}

// AuthFilter is the `auth { filter { ... } }` block: which paths need
// authentication.
type AuthFilter struct {
	Paths []string `alloy:"paths,attr,optional"`
	// AuthenticateMatchingPaths true means only Paths (and what lies below
	// them) are authenticated; false means every path but those is.
	AuthenticateMatchingPaths bool `alloy:"authenticate_matching_paths,attr,optional"`
}

// SetToDefault: with no filter every path is authenticated.
func (f *AuthFilter) SetToDefault() { *f = AuthFilter{AuthenticateMatchingPaths: true} }

// NeedsAuth reports whether a request for path must be authenticated.
func (a *Auth) NeedsAuth(path string) bool {
	if a == nil || a.Basic == nil {
		return false
	}
	if a.Filter == nil || len(a.Filter.Paths) == 0 {
		return true
	}
	match := false
	for _, p := range a.Filter.Paths {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			match = true
			break
		}
	}
	return match == a.Filter.AuthenticateMatchingPaths
}
