// Package nerve is the discovery.nerve component: one target per AirBnB
// Nerve service instance registered in ZooKeeper under the given paths,
// watched as they come and go.
//
// It owns the Alloy arguments and their conversion. Watching ZooKeeper is
// prometheus' discovery/zookeeper; running it is the parent discovery
// package, with discovery.serverset's mechanism.
package nerve

import (
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promzk "github.com/prometheus/prometheus/discovery/zookeeper"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/serverset"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.nerve's arguments.
type Arguments struct {
	Servers []string      `alloy:"servers,attr"`
	Paths   []string      `alloy:"paths,attr"`
	Timeout time.Duration `alloy:"timeout,attr,optional"`
}

// DefaultArguments are Alloy's: a ten-second session timeout.
var DefaultArguments = Arguments{Timeout: 10 * time.Second}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the timeout, as Alloy does, and that there is a server
// to connect to.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' nerve_sd config.
func (a *Arguments) SDConfig() (*promzk.NerveSDConfig, error) {
	if a.Timeout <= 0 {
		return nil, fmt.Errorf("timeout must be greater than 0")
	}
	if len(a.Servers) == 0 {
		return nil, fmt.Errorf("discovery.nerve config must contain at least one Zookeeper server")
	}
	return &promzk.NerveSDConfig{
		Servers: slices.Clone(a.Servers),
		Paths:   slices.Clone(a.Paths),
		Timeout: model.Duration(a.Timeout),
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.nerve component. The ZooKeeper session is opened
// here and connects in the background.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, serverset.Mechanism)
}

// Registration registers discovery.nerve.
var Registration = component.Registration{
	Name:      "discovery.nerve",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
