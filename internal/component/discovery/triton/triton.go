// Package triton is the discovery.triton component: targets from the
// discovery endpoint of Joyent Triton's Container Monitor (containers, or
// compute nodes for role "cn"), fetched over TLS every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Fetching is
// prometheus' discovery/triton; running it is the parent discovery
// package.
package triton

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promtriton "github.com/prometheus/prometheus/discovery/triton"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.triton's arguments.
type Arguments struct {
	Account         string              `alloy:"account,attr"`
	Role            string              `alloy:"role,attr,optional"`
	DNSSuffix       string              `alloy:"dns_suffix,attr"`
	Endpoint        string              `alloy:"endpoint,attr"`
	Groups          []string            `alloy:"groups,attr,optional"`
	Port            int                 `alloy:"port,attr,optional"`
	RefreshInterval time.Duration       `alloy:"refresh_interval,attr,optional"`
	Version         int                 `alloy:"version,attr,optional"`
	TLSConfig       discovery.TLSConfig `alloy:"tls_config,block,optional"`
}

// DefaultArguments are Alloy's: containers, port 9163 (both the
// endpoint's and the targets'), API version 1, a one-minute refresh.
var DefaultArguments = Arguments{
	Role:            "container",
	Port:            9163,
	RefreshInterval: time.Minute,
	Version:         1,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the arguments as Prometheus does.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' triton_sd config.
func (a *Arguments) SDConfig() (*promtriton.SDConfig, error) {
	switch {
	case a.Role != "container" && a.Role != "cn":
		return nil, fmt.Errorf("invalid role %q, expected container or cn", a.Role)
	case a.Account == "":
		return nil, errors.New("account must be set")
	case a.DNSSuffix == "":
		return nil, errors.New("dns_suffix must be set")
	case a.Endpoint == "":
		return nil, errors.New("endpoint must be set")
	case a.RefreshInterval <= 0:
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	case a.Port <= 0 || a.Port > 65535:
		return nil, fmt.Errorf("port %d is out of range", a.Port)
	}
	tc, err := a.TLSConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promtriton.SDConfig{
		Account:         a.Account,
		Role:            a.Role,
		DNSSuffix:       a.DNSSuffix,
		Endpoint:        a.Endpoint,
		Groups:          slices.Clone(a.Groups),
		Port:            a.Port,
		RefreshInterval: model.Duration(a.RefreshInterval),
		TLSConfig:       tc,
		Version:         a.Version,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.triton component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.triton.
var Registration = component.Registration{
	Name:      "discovery.triton",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
