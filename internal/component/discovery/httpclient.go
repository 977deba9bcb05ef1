package discovery

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/prometheus/common/config"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// HTTPClientConfig is the HTTP client settings that Alloy's discovery.http
// and discovery.kubernetes take, squashed into their arguments: the auth
// blocks, tls_config, the proxy attributes, follow_redirects and
// enable_http2. It converts into prometheus/common's HTTPClientConfig.
type HTTPClientConfig struct {
	BasicAuth            *BasicAuth     `alloy:"basic_auth,block,optional"`
	Authorization        *Authorization `alloy:"authorization,block,optional"`
	OAuth2               *OAuth2Config  `alloy:"oauth2,block,optional"`
	BearerToken          types.Secret   `alloy:"bearer_token,attr,optional"`
	BearerTokenFile      string         `alloy:"bearer_token_file,attr,optional"`
	TLSConfig            TLSConfig      `alloy:"tls_config,block,optional"`
	ProxyURL             string         `alloy:"proxy_url,attr,optional"`
	NoProxy              string         `alloy:"no_proxy,attr,optional"`
	ProxyFromEnvironment bool           `alloy:"proxy_from_environment,attr,optional"`
	FollowRedirects      bool           `alloy:"follow_redirects,attr,optional"`
	EnableHTTP2          bool           `alloy:"enable_http2,attr,optional"`
	// HTTPHeaders are sent with every request; ProxyConnectHeader with the
	// CONNECT request to the proxy. Values are secrets, as in Alloy.
	HTTPHeaders        map[string][]types.Secret `alloy:"http_headers,attr,optional"`
	ProxyConnectHeader map[string][]types.Secret `alloy:"proxy_connect_header,attr,optional"`
}

// DefaultHTTPClientConfig follows redirects and allows HTTP/2, as Alloy
// does.
var DefaultHTTPClientConfig = HTTPClientConfig{
	FollowRedirects: true,
	EnableHTTP2:     true,
}

// SetToDefault sets Alloy's defaults.
func (h *HTTPClientConfig) SetToDefault() { *h = DefaultHTTPClientConfig }

// Validate checks that at most one kind of authentication is set and that
// the TLS and proxy settings are consistent.
func (h *HTTPClientConfig) Validate() error {
	_, err := h.Prometheus()
	return err
}

// IsDefault reports whether no setting differs from the defaults.
func (h *HTTPClientConfig) IsDefault() bool {
	return h.BasicAuth == nil && h.Authorization == nil && h.OAuth2 == nil &&
		h.BearerToken == "" && h.BearerTokenFile == "" && h.TLSConfig == (TLSConfig{}) &&
		h.ProxyURL == "" && h.NoProxy == "" && !h.ProxyFromEnvironment &&
		len(h.HTTPHeaders) == 0 && len(h.ProxyConnectHeader) == 0 &&
		h.FollowRedirects == DefaultHTTPClientConfig.FollowRedirects &&
		h.EnableHTTP2 == DefaultHTTPClientConfig.EnableHTTP2
}

// Prometheus converts to prometheus/common's form, validated.
func (h *HTTPClientConfig) Prometheus() (config.HTTPClientConfig, error) {
	c := config.HTTPClientConfig{
		BearerToken:     config.Secret(h.BearerToken),
		BearerTokenFile: h.BearerTokenFile,
		FollowRedirects: h.FollowRedirects,
		EnableHTTP2:     h.EnableHTTP2,
	}
	if h.BasicAuth != nil {
		c.BasicAuth = &config.BasicAuth{
			Username:     h.BasicAuth.Username,
			Password:     config.Secret(h.BasicAuth.Password),
			PasswordFile: h.BasicAuth.PasswordFile,
		}
	}
	if h.Authorization != nil {
		c.Authorization = &config.Authorization{
			Type:            h.Authorization.Type,
			Credentials:     config.Secret(h.Authorization.Credentials),
			CredentialsFile: h.Authorization.CredentialsFile,
		}
	}
	var err error
	if c.TLSConfig, err = h.TLSConfig.Prometheus(); err != nil {
		return c, err
	}
	if c.ProxyConfig, err = proxyConfig(h.ProxyURL, h.NoProxy, h.ProxyFromEnvironment); err != nil {
		return c, err
	}
	if len(h.ProxyConnectHeader) > 0 {
		c.ProxyConnectHeader = make(config.ProxyHeader, len(h.ProxyConnectHeader))
		for name, vs := range h.ProxyConnectHeader {
			for _, v := range vs {
				c.ProxyConnectHeader[name] = append(c.ProxyConnectHeader[name], config.Secret(v))
			}
		}
	}
	if len(h.HTTPHeaders) > 0 {
		c.HTTPHeaders = &config.Headers{Headers: make(map[string]config.Header, len(h.HTTPHeaders))}
		for name, vs := range h.HTTPHeaders {
			var hd config.Header
			for _, v := range vs {
				hd.Secrets = append(hd.Secrets, config.Secret(v))
			}
			c.HTTPHeaders.Headers[name] = hd
		}
	}
	if h.OAuth2 != nil {
		o := h.OAuth2
		oc := &config.OAuth2{
			ClientID:         o.ClientID,
			ClientSecret:     config.Secret(o.ClientSecret),
			ClientSecretFile: o.ClientSecretFile,
			Scopes:           o.Scopes,
			TokenURL:         o.TokenURL,
			EndpointParams:   o.EndpointParams,
		}
		if oc.TLSConfig, err = o.TLSConfig.Prometheus(); err != nil {
			return c, fmt.Errorf("oauth2: %w", err)
		}
		if oc.ProxyConfig, err = proxyConfig(o.ProxyURL, o.NoProxy, o.ProxyFromEnvironment); err != nil {
			return c, fmt.Errorf("oauth2: %w", err)
		}
		c.OAuth2 = oc
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func proxyConfig(rawURL, noProxy string, fromEnv bool) (config.ProxyConfig, error) {
	pc := config.ProxyConfig{NoProxy: noProxy, ProxyFromEnvironment: fromEnv}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return pc, fmt.Errorf("invalid proxy_url %q: %w", rawURL, err)
		}
		pc.ProxyURL = config.URL{URL: u}
	}
	if err := pc.Validate(); err != nil {
		return pc, err
	}
	return pc, nil
}

// BasicAuth is the basic_auth block.
type BasicAuth struct {
	Username     string       `alloy:"username,attr,optional"`
	Password     types.Secret `alloy:"password,attr,optional"`
	PasswordFile string       `alloy:"password_file,attr,optional"`
}

// Validate allows a password or a password file, not both.
func (b *BasicAuth) Validate() error {
	if b.Password != "" && b.PasswordFile != "" {
		return errors.New("at most one of basic_auth password & password_file must be configured")
	}
	return nil
}

// Authorization is the authorization block.
type Authorization struct {
	Type            string       `alloy:"type,attr,optional"`
	Credentials     types.Secret `alloy:"credentials,attr,optional"`
	CredentialsFile string       `alloy:"credentials_file,attr,optional"`
}

// OAuth2Config is the oauth2 block.
type OAuth2Config struct {
	ClientID             string            `alloy:"client_id,attr,optional"`
	ClientSecret         types.Secret      `alloy:"client_secret,attr,optional"`
	ClientSecretFile     string            `alloy:"client_secret_file,attr,optional"`
	Scopes               []string          `alloy:"scopes,attr,optional"`
	TokenURL             string            `alloy:"token_url,attr,optional"`
	EndpointParams       map[string]string `alloy:"endpoint_params,attr,optional"`
	ProxyURL             string            `alloy:"proxy_url,attr,optional"`
	NoProxy              string            `alloy:"no_proxy,attr,optional"`
	ProxyFromEnvironment bool              `alloy:"proxy_from_environment,attr,optional"`
	TLSConfig            TLSConfig         `alloy:"tls_config,block,optional"`
}

// TLSConfig is the tls_config block.
type TLSConfig struct {
	CA                 string       `alloy:"ca_pem,attr,optional"`
	CAFile             string       `alloy:"ca_file,attr,optional"`
	Cert               string       `alloy:"cert_pem,attr,optional"`
	CertFile           string       `alloy:"cert_file,attr,optional"`
	Key                types.Secret `alloy:"key_pem,attr,optional"`
	KeyFile            string       `alloy:"key_file,attr,optional"`
	ServerName         string       `alloy:"server_name,attr,optional"`
	InsecureSkipVerify bool         `alloy:"insecure_skip_verify,attr,optional"`
	MinVersion         string       `alloy:"min_version,attr,optional"`
}

// Validate checks the block on its own.
func (t *TLSConfig) Validate() error {
	_, err := t.Prometheus()
	return err
}

// Prometheus converts to prometheus/common's form, validated.
func (t *TLSConfig) Prometheus() (config.TLSConfig, error) {
	c := config.TLSConfig{
		CA:                 t.CA,
		CAFile:             t.CAFile,
		Cert:               t.Cert,
		CertFile:           t.CertFile,
		Key:                config.Secret(t.Key),
		KeyFile:            t.KeyFile,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
	if t.MinVersion != "" {
		v, ok := config.TLSVersions[t.MinVersion]
		if !ok {
			return c, fmt.Errorf("unknown TLS version %q, expected TLS10, TLS11, TLS12 or TLS13", t.MinVersion)
		}
		c.MinVersion = v
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}
