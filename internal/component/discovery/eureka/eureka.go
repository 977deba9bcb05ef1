// Package eureka is the discovery.eureka component: one target per
// application instance registered with a Netflix Eureka server, listed
// every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to Eureka is
// prometheus' discovery/eureka; running it is the parent discovery
// package.
package eureka

import (
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promeureka "github.com/prometheus/prometheus/discovery/eureka"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.eureka's arguments.
type Arguments struct {
	Server           string                     `alloy:"server,attr"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: a 30-second refresh.
var DefaultArguments = Arguments{
	RefreshInterval:  30 * time.Second,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the server URL, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' eureka_sd config.
func (a *Arguments) SDConfig() (*promeureka.SDConfig, error) {
	u, err := url.Parse(a.Server)
	if err != nil {
		return nil, fmt.Errorf("invalid server %q: %w", a.Server, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid eureka server URL %q: it needs a scheme and a host", a.Server)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promeureka.SDConfig{
		Server:           a.Server,
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.eureka component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.eureka.
var Registration = component.Registration{
	Name:      "discovery.eureka",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
