// Package scaleway is the discovery.scaleway component: one target per
// Scaleway Instance or Elastic Metal (baremetal) server of a project and
// zone, listed from the Scaleway API every refresh_interval.
//
// It owns the Alloy arguments (Scaleway keys and the proxy, TLS and header
// settings, as in Alloy) and their conversion. Talking to Scaleway is
// prometheus' discovery/scaleway; running it is the parent discovery
// package.
package scaleway

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promscaleway "github.com/prometheus/prometheus/discovery/scaleway"
	"gopkg.in/yaml.v3"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.scaleway's arguments.
type Arguments struct {
	Project              string                    `alloy:"project_id,attr"`
	Role                 string                    `alloy:"role,attr"`
	APIURL               string                    `alloy:"api_url,attr,optional"`
	Zone                 string                    `alloy:"zone,attr,optional"`
	AccessKey            string                    `alloy:"access_key,attr"`
	SecretKey            types.Secret              `alloy:"secret_key,attr,optional"`
	SecretKeyFile        string                    `alloy:"secret_key_file,attr,optional"`
	NameFilter           string                    `alloy:"name_filter,attr,optional"`
	TagsFilter           []string                  `alloy:"tags_filter,attr,optional"`
	RefreshInterval      time.Duration             `alloy:"refresh_interval,attr,optional"`
	Port                 int                       `alloy:"port,attr,optional"`
	ProxyURL             string                    `alloy:"proxy_url,attr,optional"`
	NoProxy              string                    `alloy:"no_proxy,attr,optional"`
	ProxyFromEnvironment bool                      `alloy:"proxy_from_environment,attr,optional"`
	ProxyConnectHeader   map[string][]types.Secret `alloy:"proxy_connect_header,attr,optional"`
	TLSConfig            discovery.TLSConfig       `alloy:"tls_config,block,optional"`
	FollowRedirects      bool                      `alloy:"follow_redirects,attr,optional"`
	EnableHTTP2          bool                      `alloy:"enable_http2,attr,optional"`
	HTTPHeaders          map[string][]types.Secret `alloy:"http_headers,attr,optional"`
}

// DefaultArguments are Alloy's: the public API, zone fr-par-1, port 80, a
// one-minute refresh, redirects followed, HTTP/2 allowed.
var DefaultArguments = Arguments{
	APIURL:          "https://api.scaleway.com",
	Zone:            "fr-par-1",
	RefreshInterval: time.Minute,
	Port:            80,
	FollowRedirects: true,
	EnableHTTP2:     true,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the project, the role, the keys and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' scaleway_sd config.
func (a *Arguments) SDConfig() (*promscaleway.SDConfig, error) {
	switch {
	case a.Project == "":
		return nil, errors.New("project_id must not be empty")
	case a.Role != "instance" && a.Role != "baremetal":
		return nil, fmt.Errorf("invalid role %q, expected instance or baremetal", a.Role)
	case (a.SecretKey == "") == (a.SecretKeyFile == ""):
		return nil, errors.New("exactly one of secret_key or secret_key_file must be configured")
	case a.AccessKey == "":
		return nil, errors.New("access_key must not be empty")
	case a.RefreshInterval <= 0:
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	if u, err := url.Parse(a.APIURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid api_url %q: it needs a scheme and a host", a.APIURL)
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
	c := &promscaleway.SDConfig{
		Project:          a.Project,
		APIURL:           a.APIURL,
		Zone:             a.Zone,
		AccessKey:        a.AccessKey,
		SecretKey:        config.Secret(a.SecretKey),
		SecretKeyFile:    a.SecretKeyFile,
		NameFilter:       a.NameFilter,
		TagsFilter:       slices.Clone(a.TagsFilter),
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Port:             a.Port,
	}
	// The role's type is unexported upstream; its YAML form sets it.
	if err := yaml.Unmarshal([]byte(a.Role), &c.Role); err != nil {
		return nil, fmt.Errorf("role: %w", err)
	}
	return c, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.scaleway component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.scaleway.
var Registration = component.Registration{
	Name:      "discovery.scaleway",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
