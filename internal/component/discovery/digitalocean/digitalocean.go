// Package digitalocean is the discovery.digitalocean component: one
// target per DigitalOcean Droplet with an IPv4 address, listed from the
// DigitalOcean API every refresh_interval.
//
// It owns the Alloy arguments (a bearer token and the proxy settings, no
// other HTTP client settings, as in Alloy) and their conversion. Talking
// to DigitalOcean is prometheus' discovery/digitalocean; running it is the
// parent discovery package.
package digitalocean

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promdo "github.com/prometheus/prometheus/discovery/digitalocean"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.digitalocean's arguments.
type Arguments struct {
	RefreshInterval      time.Duration             `alloy:"refresh_interval,attr,optional"`
	Port                 int                       `alloy:"port,attr,optional"`
	BearerToken          types.Secret              `alloy:"bearer_token,attr,optional"`
	BearerTokenFile      string                    `alloy:"bearer_token_file,attr,optional"`
	ProxyURL             string                    `alloy:"proxy_url,attr,optional"`
	NoProxy              string                    `alloy:"no_proxy,attr,optional"`
	ProxyFromEnvironment bool                      `alloy:"proxy_from_environment,attr,optional"`
	ProxyConnectHeader   map[string][]types.Secret `alloy:"proxy_connect_header,attr,optional"`
	FollowRedirects      bool                      `alloy:"follow_redirects,attr,optional"`
	EnableHTTP2          bool                      `alloy:"enable_http2,attr,optional"`
	HTTPHeaders          map[string][]types.Secret `alloy:"http_headers,attr,optional"`
}

// DefaultArguments are Alloy's: port 80, a one-minute refresh, redirects
// followed, HTTP/2 allowed.
var DefaultArguments = Arguments{
	Port:            80,
	RefreshInterval: time.Minute,
	FollowRedirects: true,
	EnableHTTP2:     true,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks that exactly one of bearer_token and bearer_token_file
// is set (the API needs a token), the interval and the proxy settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' digitalocean_sd config.
func (a *Arguments) SDConfig() (*promdo.SDConfig, error) {
	if (a.BearerToken == "") == (a.BearerTokenFile == "") {
		return nil, errors.New("exactly one of bearer_token or bearer_token_file must be specified")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	h := discovery.HTTPClientConfig{
		BearerToken:          a.BearerToken,
		BearerTokenFile:      a.BearerTokenFile,
		ProxyURL:             a.ProxyURL,
		NoProxy:              a.NoProxy,
		ProxyFromEnvironment: a.ProxyFromEnvironment,
		ProxyConnectHeader:   a.ProxyConnectHeader,
		FollowRedirects:      a.FollowRedirects,
		EnableHTTP2:          a.EnableHTTP2,
		HTTPHeaders:          a.HTTPHeaders,
	}
	hc, err := h.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promdo.SDConfig{
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Port:             a.Port,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.digitalocean component (a refresh-loop
// discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.digitalocean.
var Registration = component.Registration{
	Name:      "discovery.digitalocean",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
