// Package serverset is the discovery.serverset component: one target per
// Finagle/Aurora serverset member registered in ZooKeeper under the given
// paths, watched as they come and go.
//
// It owns the Alloy arguments and their conversion. Watching ZooKeeper is
// prometheus' discovery/zookeeper; running it is the parent discovery
// package.
package serverset

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promzk "github.com/prometheus/prometheus/discovery/zookeeper"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.serverset's arguments.
type Arguments struct {
	Servers []string      `alloy:"servers,attr"`
	Paths   []string      `alloy:"paths,attr"`
	Timeout time.Duration `alloy:"timeout,attr,optional"`
}

// DefaultArguments are Alloy's: a ten-second session timeout.
var DefaultArguments = Arguments{Timeout: 10 * time.Second}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks, as Alloy does, that there is a server and a path and
// that every path is absolute.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' serverset_sd config.
func (a *Arguments) SDConfig() (*promzk.ServersetSDConfig, error) {
	if len(a.Servers) == 0 {
		return nil, errors.New("discovery.serverset config must contain at least one Zookeeper server")
	}
	if len(a.Paths) == 0 {
		return nil, errors.New("discovery.serverset config must contain at least one path")
	}
	for _, p := range a.Paths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("discovery.serverset config paths must begin with '/': %s", p)
		}
	}
	if a.Timeout <= 0 {
		return nil, fmt.Errorf("timeout must be positive, got %s", a.Timeout)
	}
	return &promzk.ServersetSDConfig{
		Servers: slices.Clone(a.Servers),
		Paths:   slices.Clone(a.Paths),
		Timeout: model.Duration(a.Timeout),
	}, nil
}

// Mechanism: the ZooKeeper tree cache streams one update per member and
// never marks the end of its first walk; the first refresh counts as
// complete once the walk has been quiet for a moment, or after a few
// seconds with no member at all. Its failure counter is process-wide
// (prometheus_treecache_zookeeper_failures_total on the default
// registry), so it cannot mark one component unhealthy.
var Mechanism = discovery.Mechanism{
	SettleQuiet:   500 * time.Millisecond,
	SettleTimeout: 5 * time.Second,
	PollInterval:  time.Second,
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.serverset component. The ZooKeeper session is
// opened here and connects in the background.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, Mechanism)
}

// Registration registers discovery.serverset.
var Registration = component.Registration{
	Name:      "discovery.serverset",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
