// Package gce is the discovery.gce component: one target per Google
// Compute Engine instance of a project and zone, listed from the Compute
// API every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to Google is
// prometheus' discovery/gce; running it is the parent discovery package.
// Credentials come from Google's Application Default Credentials
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's well-known file, or on GCP the
// metadata server), looked up when the component is built, as in Alloy.
package gce

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promgce "github.com/prometheus/prometheus/discovery/gce"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.gce's arguments.
type Arguments struct {
	Project         string        `alloy:"project,attr"`
	Zone            string        `alloy:"zone,attr"`
	Filter          string        `alloy:"filter,attr,optional"`
	RefreshInterval time.Duration `alloy:"refresh_interval,attr,optional"`
	Port            int           `alloy:"port,attr,optional"`
	TagSeparator    string        `alloy:"tag_separator,attr,optional"`
}

// DefaultArguments are Alloy's: port 80, tags joined with ",", a
// one-minute refresh.
var DefaultArguments = Arguments{
	Port:            80,
	TagSeparator:    ",",
	RefreshInterval: time.Minute,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the project, the zone and the interval.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' gce_sd config.
func (a *Arguments) SDConfig() (*promgce.SDConfig, error) {
	if a.Project == "" {
		return nil, errors.New("project must not be empty")
	}
	if a.Zone == "" {
		return nil, errors.New("zone must not be empty")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	return &promgce.SDConfig{
		Project:         a.Project,
		Zone:            a.Zone,
		Filter:          a.Filter,
		RefreshInterval: model.Duration(a.RefreshInterval),
		Port:            a.Port,
		TagSeparator:    a.TagSeparator,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.gce component (a refresh-loop discoverer); it
// looks up the Application Default Credentials.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.gce.
var Registration = component.Registration{
	Name:      "discovery.gce",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
