// Package ionos is the discovery.ionos component: one target per server
// with an IP address in an IONOS Cloud data center, listed from the IONOS
// Cloud API every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to IONOS is
// prometheus' discovery/ionos; running it is the parent discovery
// package.
package ionos

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promionos "github.com/prometheus/prometheus/discovery/ionos"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.ionos's arguments. Credentials go in the HTTP
// client settings (basic_auth, or a bearer token).
type Arguments struct {
	DatacenterID     string                     `alloy:"datacenter_id,attr"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	Port             int                        `alloy:"port,attr,optional"`
}

// DefaultArguments are Alloy's: port 80, a one-minute refresh.
var DefaultArguments = Arguments{
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
	RefreshInterval:  time.Minute,
	Port:             80,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the data center, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' ionos_sd config.
func (a *Arguments) SDConfig() (*promionos.SDConfig, error) {
	if a.DatacenterID == "" {
		return nil, errors.New("datacenter_id can't be empty")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promionos.SDConfig{
		HTTPClientConfig: hc,
		DatacenterID:     a.DatacenterID,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Port:             a.Port,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.ionos component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.ionos.
var Registration = component.Registration{
	Name:      "discovery.ionos",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
