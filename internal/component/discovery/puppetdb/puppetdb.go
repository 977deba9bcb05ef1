// Package puppetdb is the discovery.puppetdb component: one target per
// resource that a PQL query returns from PuppetDB, queried every
// refresh_interval.
//
// It owns the Alloy arguments and their conversion. Querying PuppetDB is
// prometheus' discovery/puppetdb; running it is the parent discovery
// package.
package puppetdb

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	prompuppetdb "github.com/prometheus/prometheus/discovery/puppetdb"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.puppetdb's arguments.
type Arguments struct {
	HTTPClientConfig  discovery.HTTPClientConfig `alloy:",squash"`
	RefreshInterval   time.Duration              `alloy:"refresh_interval,attr,optional"`
	URL               string                     `alloy:"url,attr"`
	Query             string                     `alloy:"query,attr"`
	IncludeParameters bool                       `alloy:"include_parameters,attr,optional"`
	Port              int                        `alloy:"port,attr,optional"`
}

// DefaultArguments are Alloy's: port 80, a one-minute refresh.
var DefaultArguments = Arguments{
	RefreshInterval:  time.Minute,
	Port:             80,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the URL, the query, the interval and the client
// settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' puppetdb_sd config.
func (a *Arguments) SDConfig() (*prompuppetdb.SDConfig, error) {
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
	if a.Query == "" {
		return nil, errors.New("query must be set")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	if a.Port < 0 || a.Port > 65535 {
		return nil, fmt.Errorf("port %d is out of range", a.Port)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &prompuppetdb.SDConfig{
		HTTPClientConfig:  hc,
		RefreshInterval:   model.Duration(a.RefreshInterval),
		URL:               a.URL,
		Query:             a.Query,
		IncludeParameters: a.IncludeParameters,
		Port:              a.Port,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.puppetdb component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.puppetdb.
var Registration = component.Registration{
	Name:      "discovery.puppetdb",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
