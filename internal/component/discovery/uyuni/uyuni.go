// Package uyuni is the discovery.uyuni component: one target per
// monitoring endpoint (exporter) of the systems an Uyuni or SUSE Manager
// server manages, listed over its XML-RPC API every refresh_interval.
//
// It owns the Alloy arguments (credentials and the proxy, TLS and header
// settings, as in Alloy) and their conversion. Talking to Uyuni is
// prometheus' discovery/uyuni; running it is the parent discovery package.
package uyuni

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promuyuni "github.com/prometheus/prometheus/discovery/uyuni"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.uyuni's arguments.
type Arguments struct {
	Server               string                    `alloy:"server,attr"`
	Username             string                    `alloy:"username,attr"`
	Password             types.Secret              `alloy:"password,attr"`
	Entitlement          string                    `alloy:"entitlement,attr,optional"`
	Separator            string                    `alloy:"separator,attr,optional"`
	RefreshInterval      time.Duration             `alloy:"refresh_interval,attr,optional"`
	ProxyURL             string                    `alloy:"proxy_url,attr,optional"`
	NoProxy              string                    `alloy:"no_proxy,attr,optional"`
	ProxyFromEnvironment bool                      `alloy:"proxy_from_environment,attr,optional"`
	ProxyConnectHeader   map[string][]types.Secret `alloy:"proxy_connect_header,attr,optional"`
	TLSConfig            discovery.TLSConfig       `alloy:"tls_config,block,optional"`
	FollowRedirects      bool                      `alloy:"follow_redirects,attr,optional"`
	EnableHTTP2          bool                      `alloy:"enable_http2,attr,optional"`
	HTTPHeaders          map[string][]types.Secret `alloy:"http_headers,attr,optional"`
}

// DefaultArguments are Alloy's: systems with the monitoring_entitled
// entitlement, groups joined with ",", a one-minute refresh.
var DefaultArguments = Arguments{
	Entitlement:     "monitoring_entitled",
	Separator:       ",",
	RefreshInterval: time.Minute,
	FollowRedirects: true,
	EnableHTTP2:     true,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the server URL, the credentials and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' uyuni_sd config.
func (a *Arguments) SDConfig() (*promuyuni.SDConfig, error) {
	u, err := url.Parse(a.Server)
	if err != nil {
		return nil, fmt.Errorf("invalid server URL: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: it needs a scheme and a host", a.Server)
	}
	if a.Username == "" || a.Password == "" {
		return nil, errors.New("username and password must be set")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	h := discovery.HTTPClientConfig{
		ProxyURL:             a.ProxyURL,
		NoProxy:              a.NoProxy,
		ProxyFromEnvironment: a.ProxyFromEnvironment,
		ProxyConnectHeader:   a.ProxyConnectHeader,
		TLSConfig:            a.TLSConfig,
		FollowRedirects:      a.FollowRedirects,
		EnableHTTP2:          a.EnableHTTP2,
		HTTPHeaders:          a.HTTPHeaders,
	}
	hc, err := h.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promuyuni.SDConfig{
		Server:           a.Server,
		Username:         a.Username,
		Password:         config.Secret(a.Password),
		HTTPClientConfig: hc,
		Entitlement:      a.Entitlement,
		Separator:        a.Separator,
		RefreshInterval:  model.Duration(a.RefreshInterval),
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.uyuni component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.uyuni.
var Registration = component.Registration{
	Name:      "discovery.uyuni",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
