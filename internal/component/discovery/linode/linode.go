// Package linode is the discovery.linode component: one target per Linode
// instance with an IPv4 address, listed from the Linode API v4 every
// refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to Linode is
// prometheus' discovery/linode; running it is the parent discovery
// package.
package linode

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promlinode "github.com/prometheus/prometheus/discovery/linode"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.linode's arguments. The API token goes in
// bearer_token (or authorization).
type Arguments struct {
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	Port             int                        `alloy:"port,attr,optional"`
	TagSeparator     string                     `alloy:"tag_separator,attr,optional"`
	Region           string                     `alloy:"region,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: port 80, tags joined with ",", every
// region, a one-minute refresh.
var DefaultArguments = Arguments{
	RefreshInterval:  time.Minute,
	Port:             80,
	TagSeparator:     ",",
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' linode_sd config.
func (a *Arguments) SDConfig() (*promlinode.SDConfig, error) {
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promlinode.SDConfig{
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Port:             a.Port,
		TagSeparator:     a.TagSeparator,
		Region:           a.Region,
	}, nil
}

// mechanism: linode_sd uses prometheus' refresh loop and counts failed
// requests.
var mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_linode_failures_total"},
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.linode component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// Registration registers discovery.linode.
var Registration = component.Registration{
	Name:      "discovery.linode",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
