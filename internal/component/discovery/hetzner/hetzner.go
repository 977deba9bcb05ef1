// Package hetzner is the discovery.hetzner component: targets from the
// Hetzner Cloud API (role "hcloud") or the Hetzner Robot API (role
// "robot"), listed every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to Hetzner is
// prometheus' discovery/hetzner; running it is the parent discovery
// package.
package hetzner

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promhetzner "github.com/prometheus/prometheus/discovery/hetzner"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.hetzner's arguments. The API token goes in the
// HTTP client settings: bearer_token (or authorization) for hcloud,
// basic_auth for robot.
type Arguments struct {
	Role             string                     `alloy:"role,attr"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	Port             int                        `alloy:"port,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: port 80, a one-minute refresh.
var DefaultArguments = Arguments{
	Port:             80,
	RefreshInterval:  time.Minute,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the role, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' hetzner_sd config.
func (a *Arguments) SDConfig() (*promhetzner.SDConfig, error) {
	switch promhetzner.Role(a.Role) {
	case promhetzner.HetznerRoleRobot, promhetzner.HetznerRoleHcloud:
	default:
		return nil, fmt.Errorf("unknown role %q, must be one of robot or hcloud", a.Role)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promhetzner.SDConfig{
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Port:             a.Port,
		Role:             promhetzner.Role(a.Role),
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.hetzner component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.hetzner.
var Registration = component.Registration{
	Name:      "discovery.hetzner",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
