// Package nomad is the discovery.nomad component: one target per
// instance of the services registered in Nomad's native service
// discovery, listed every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to Nomad is
// prometheus' discovery/nomad; running it is the parent discovery
// package.
package nomad

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promnomad "github.com/prometheus/prometheus/discovery/nomad"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.nomad's arguments.
type Arguments struct {
	AllowStale       bool                       `alloy:"allow_stale,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
	Namespace        string                     `alloy:"namespace,attr,optional"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	Region           string                     `alloy:"region,attr,optional"`
	Server           string                     `alloy:"server,attr,optional"`
	TagSeparator     string                     `alloy:"tag_separator,attr,optional"`
}

// DefaultArguments are Alloy's: the local agent, namespace "default",
// region "global", stale reads allowed, a one-minute refresh.
var DefaultArguments = Arguments{
	AllowStale:       true,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
	Namespace:        "default",
	RefreshInterval:  time.Minute,
	Region:           "global",
	Server:           "http://localhost:4646",
	TagSeparator:     ",",
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the server, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' nomad_sd config.
func (a *Arguments) SDConfig() (*promnomad.SDConfig, error) {
	if strings.TrimSpace(a.Server) == "" {
		return nil, errors.New("server must be set")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promnomad.SDConfig{
		AllowStale:       a.AllowStale,
		HTTPClientConfig: hc,
		Namespace:        a.Namespace,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Region:           a.Region,
		Server:           a.Server,
		TagSeparator:     a.TagSeparator,
	}, nil
}

// mechanism: nomad_sd uses prometheus' refresh loop; it also counts
// failed requests.
var mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_nomad_failures_total"},
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.nomad component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// Registration registers discovery.nomad.
var Registration = component.Registration{
	Name:      "discovery.nomad",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
