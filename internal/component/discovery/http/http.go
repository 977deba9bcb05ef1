// Package http is the discovery.http component: targets fetched as JSON
// target groups (Prometheus' http_sd format) from a URL every
// refresh_interval, with Alloy's HTTP client settings.
//
// It owns the Alloy arguments and their conversion. Fetching is
// prometheus' discovery/http; running it is the parent discovery package.
package http

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promhttp "github.com/prometheus/prometheus/discovery/http"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.http's arguments.
type Arguments struct {
	URL              string                     `alloy:"url,attr"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// SetToDefault sets Alloy's defaults: a 60s refresh, redirects followed,
// HTTP/2 allowed.
func (a *Arguments) SetToDefault() {
	*a = Arguments{
		RefreshInterval:  60 * time.Second,
		HTTPClientConfig: discovery.DefaultHTTPClientConfig,
	}
}

// Validate checks the URL, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' http_sd config.
func (a *Arguments) SDConfig() (*promhttp.SDConfig, error) {
	if a.URL == "" {
		return nil, errors.New("url must be set")
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		return nil, fmt.Errorf("invalid url %q: %w", a.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", a.URL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q: host is missing", a.URL)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promhttp.SDConfig{
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		URL:              a.URL,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.http component. http_sd uses prometheus' refresh
// loop, which the discovery package recognises by itself.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.http.
var Registration = component.Registration{
	Name:      "discovery.http",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
