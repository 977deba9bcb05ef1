// Package docker is the discovery.docker component: one target per
// exposed TCP port (or per network, for a container that exposes none) of
// the containers a Docker daemon runs, listed every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to the daemon
// is prometheus' discovery/moby; running it is the parent discovery
// package. The Filter type is shared with discovery.dockerswarm.
package docker

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/moby"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.docker's arguments.
type Arguments struct {
	Host               string                     `alloy:"host,attr"`
	Port               int                        `alloy:"port,attr,optional"`
	HostNetworkingHost string                     `alloy:"host_networking_host,attr,optional"`
	RefreshInterval    time.Duration              `alloy:"refresh_interval,attr,optional"`
	MatchFirstNetwork  bool                       `alloy:"match_first_network,attr,optional"`
	Filters            []Filter                   `alloy:"filter,block,optional"`
	HTTPClientConfig   discovery.HTTPClientConfig `alloy:",squash"`
}

// Filter is one filter block: a Docker API list filter, passed to the
// daemon, which keeps the objects matching any of the values.
type Filter struct {
	Name   string   `alloy:"name,attr"`
	Values []string `alloy:"values,attr"`
}

// ConvertFilters converts filter blocks to prometheus' form.
func ConvertFilters(fs []Filter) []moby.Filter {
	if len(fs) == 0 {
		return nil
	}
	out := make([]moby.Filter, len(fs))
	for i, f := range fs {
		out[i] = moby.Filter{Name: f.Name, Values: slices.Clone(f.Values)}
	}
	return out
}

// DefaultArguments are Alloy's: port 80 for containers without a
// published port, "localhost" for host-networked ones, a one-minute
// refresh, the first network of a multi-network container only.
var DefaultArguments = Arguments{
	Port:               80,
	HostNetworkingHost: "localhost",
	RefreshInterval:    time.Minute,
	MatchFirstNetwork:  true,
	HTTPClientConfig:   discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the host, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' docker_sd config. The
// HTTP client settings apply to http:// and https:// hosts only; unix://
// and tcp:// hosts use the Docker client's own transport.
func (a *Arguments) SDConfig() (*moby.DockerSDConfig, error) {
	if err := CheckHost(a.Host); err != nil {
		return nil, err
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
	return &moby.DockerSDConfig{
		HTTPClientConfig:   hc,
		Host:               a.Host,
		Port:               a.Port,
		Filters:            ConvertFilters(a.Filters),
		HostNetworkingHost: a.HostNetworkingHost,
		RefreshInterval:    model.Duration(a.RefreshInterval),
		MatchFirstNetwork:  a.MatchFirstNetwork,
	}, nil
}

// CheckHost checks a Docker daemon address: unix://, tcp://, http:// or
// https:// (npipe:// on Windows).
func CheckHost(host string) error {
	if host == "" {
		return errors.New("host must be set")
	}
	u, err := url.Parse(host)
	if err != nil {
		return fmt.Errorf("invalid host %q: %w", host, err)
	}
	switch u.Scheme {
	case "unix", "npipe":
		if u.Path == "" {
			return fmt.Errorf("host %q: the socket path is missing", host)
		}
	case "tcp", "http", "https":
		if u.Host == "" {
			return fmt.Errorf("host %q: the address is missing", host)
		}
	default:
		return fmt.Errorf("host %q: scheme must be unix, tcp, http or https", host)
	}
	return nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.docker component. docker_sd uses prometheus'
// refresh loop, which the discovery package recognises by itself.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.docker.
var Registration = component.Registration{
	Name:      "discovery.docker",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
