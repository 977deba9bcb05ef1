// Package marathon is the discovery.marathon component: one target per
// port of every task of the applications a Marathon (Mesos) cluster runs,
// listed every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to Marathon is
// prometheus' discovery/marathon; running it is the parent discovery
// package.
package marathon

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	prommarathon "github.com/prometheus/prometheus/discovery/marathon"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.marathon's arguments.
type Arguments struct {
	Servers          []string                   `alloy:"servers,attr"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	AuthToken        types.Secret               `alloy:"auth_token,attr,optional"`
	AuthTokenFile    string                     `alloy:"auth_token_file,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: a 30-second refresh.
var DefaultArguments = Arguments{
	RefreshInterval:  30 * time.Second,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks that servers are given, the interval and that one kind
// of authentication at most is given. Like Alloy, it does not check the
// servers' form (Alloy's own example gives one without a scheme).
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' marathon_sd config.
func (a *Arguments) SDConfig() (*prommarathon.SDConfig, error) {
	if len(a.Servers) == 0 {
		return nil, errors.New("at least one Marathon server must be specified")
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	if a.AuthToken != "" && a.AuthTokenFile != "" {
		return nil, errors.New("at most one of auth_token and auth_token_file must be configured")
	}
	if a.AuthToken != "" || a.AuthTokenFile != "" {
		h := a.HTTPClientConfig
		switch {
		case h.BasicAuth != nil:
			return nil, errors.New("at most one of basic_auth, auth_token & auth_token_file must be configured")
		case h.BearerToken != "" || h.BearerTokenFile != "":
			return nil, errors.New("at most one of bearer_token, bearer_token_file, auth_token & auth_token_file must be configured")
		case h.Authorization != nil:
			return nil, errors.New("at most one of auth_token, auth_token_file & authorization must be configured")
		}
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &prommarathon.SDConfig{
		Servers:          slices.Clone(a.Servers),
		RefreshInterval:  model.Duration(a.RefreshInterval),
		AuthToken:        config.Secret(a.AuthToken),
		AuthTokenFile:    a.AuthTokenFile,
		HTTPClientConfig: hc,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.marathon component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.marathon.
var Registration = component.Registration{
	Name:      "discovery.marathon",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
