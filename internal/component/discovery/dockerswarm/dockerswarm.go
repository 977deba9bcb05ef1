// Package dockerswarm is the discovery.dockerswarm component: targets from
// a Docker Swarm manager's services, tasks or nodes, listed every
// refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to the manager
// is prometheus' discovery/moby; running it is the parent discovery
// package.
package dockerswarm

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/moby"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/docker"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.dockerswarm's arguments.
type Arguments struct {
	Host             string                     `alloy:"host,attr"`
	Role             string                     `alloy:"role,attr"`
	Port             int                        `alloy:"port,attr,optional"`
	Filters          []docker.Filter            `alloy:"filter,block,optional"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: port 80 for tasks and services that
// publish none, a one-minute refresh.
var DefaultArguments = Arguments{
	Port:             80,
	RefreshInterval:  time.Minute,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the host, the role, the interval and the client
// settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' dockerswarm_sd config.
func (a *Arguments) SDConfig() (*moby.DockerSwarmSDConfig, error) {
	if err := docker.CheckHost(a.Host); err != nil {
		return nil, err
	}
	switch a.Role {
	case "services", "tasks", "nodes":
	default:
		return nil, fmt.Errorf("invalid role %q, expected tasks, services, or nodes", a.Role)
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
	return &moby.DockerSwarmSDConfig{
		HTTPClientConfig: hc,
		Host:             a.Host,
		Role:             a.Role,
		Port:             a.Port,
		Filters:          docker.ConvertFilters(a.Filters),
		RefreshInterval:  model.Duration(a.RefreshInterval),
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.dockerswarm component (a refresh-loop
// discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.dockerswarm.
var Registration = component.Registration{
	Name:      "discovery.dockerswarm",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
