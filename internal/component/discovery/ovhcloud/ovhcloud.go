// Package ovhcloud is the discovery.ovhcloud component: one target per
// OVHcloud VPS or dedicated server of an account, listed from the OVHcloud
// API every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to OVHcloud is
// prometheus' discovery/ovhcloud; running it is the parent discovery
// package.
package ovhcloud

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promovh "github.com/prometheus/prometheus/discovery/ovhcloud"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.ovhcloud's arguments.
type Arguments struct {
	Endpoint          string        `alloy:"endpoint,attr,optional"`
	ApplicationKey    string        `alloy:"application_key,attr"`
	ApplicationSecret types.Secret  `alloy:"application_secret,attr"`
	ConsumerKey       types.Secret  `alloy:"consumer_key,attr"`
	RefreshInterval   time.Duration `alloy:"refresh_interval,attr,optional"`
	Service           string        `alloy:"service,attr"`
}

// DefaultArguments are Alloy's: the ovh-eu endpoint, a one-minute refresh.
var DefaultArguments = Arguments{
	Endpoint:        "ovh-eu",
	RefreshInterval: time.Minute,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the endpoint, the keys and the service.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' ovhcloud_sd config. The
// endpoint is a name (ovh-eu, ovh-ca, ovh-us, ...) or an API URL.
func (a *Arguments) SDConfig() (*promovh.SDConfig, error) {
	switch {
	case a.Endpoint == "":
		return nil, errors.New("endpoint cannot be empty")
	case a.ApplicationKey == "":
		return nil, errors.New("application_key cannot be empty")
	case a.ApplicationSecret == "":
		return nil, errors.New("application_secret cannot be empty")
	case a.ConsumerKey == "":
		return nil, errors.New("consumer_key cannot be empty")
	case a.Service != "dedicated_server" && a.Service != "vps":
		return nil, fmt.Errorf("unknown service %q, expected dedicated_server or vps", a.Service)
	case a.RefreshInterval <= 0:
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	return &promovh.SDConfig{
		Endpoint:          a.Endpoint,
		ApplicationKey:    a.ApplicationKey,
		ApplicationSecret: config.Secret(a.ApplicationSecret),
		ConsumerKey:       config.Secret(a.ConsumerKey),
		RefreshInterval:   model.Duration(a.RefreshInterval),
		Service:           a.Service,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.ovhcloud component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.ovhcloud.
var Registration = component.Registration{
	Name:      "discovery.ovhcloud",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
