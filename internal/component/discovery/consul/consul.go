// Package consul is the discovery.consul component: one target per
// instance of the services registered in a Consul catalog, kept current
// with Consul's blocking queries.
//
// It owns the Alloy arguments and their conversion. Talking to Consul is
// prometheus' discovery/consul; running it is the parent discovery
// package.
package consul

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promconsul "github.com/prometheus/prometheus/discovery/consul"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.consul's arguments.
type Arguments struct {
	Server           string                     `alloy:"server,attr,optional"`
	Token            types.Secret               `alloy:"token,attr,optional"`
	Datacenter       string                     `alloy:"datacenter,attr,optional"`
	Namespace        string                     `alloy:"namespace,attr,optional"`
	Partition        string                     `alloy:"partition,attr,optional"`
	TagSeparator     string                     `alloy:"tag_separator,attr,optional"`
	Scheme           string                     `alloy:"scheme,attr,optional"`
	Username         string                     `alloy:"username,attr,optional"`
	Password         types.Secret               `alloy:"password,attr,optional"`
	AllowStale       bool                       `alloy:"allow_stale,attr,optional"`
	Services         []string                   `alloy:"services,attr,optional"`
	ServiceTags      []string                   `alloy:"tags,attr,optional"`
	NodeMeta         map[string]string          `alloy:"node_meta,attr,optional"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: the local agent over http, tags joined
// with ",", stale reads allowed, the catalog re-read every 30 seconds.
var DefaultArguments = Arguments{
	Server:           "localhost:8500",
	TagSeparator:     ",",
	Scheme:           "http",
	AllowStale:       true,
	RefreshInterval:  30 * time.Second,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the server, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' consul_sd config. The
// deprecated username and password become basic authentication, as in
// Prometheus' own configuration.
func (a *Arguments) SDConfig() (*promconsul.SDConfig, error) {
	if strings.TrimSpace(a.Server) == "" {
		return nil, errors.New("server must be set")
	}
	if a.Scheme != "http" && a.Scheme != "https" {
		return nil, fmt.Errorf("scheme must be http or https, got %q", a.Scheme)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	if a.Username != "" || a.Password != "" {
		if hc.BasicAuth != nil {
			return nil, errors.New("at most one of username and password, and basic_auth can be configured")
		}
		hc.BasicAuth = &config.BasicAuth{Username: a.Username, Password: config.Secret(a.Password)}
		if err := hc.Validate(); err != nil {
			return nil, err
		}
	}
	if a.Token != "" && (hc.Authorization != nil || hc.OAuth2 != nil) {
		return nil, errors.New("at most one of token, authorization, or oauth2 can be configured")
	}
	return &promconsul.SDConfig{
		Server:           a.Server,
		Token:            config.Secret(a.Token),
		Datacenter:       a.Datacenter,
		Namespace:        a.Namespace,
		Partition:        a.Partition,
		TagSeparator:     a.TagSeparator,
		Scheme:           a.Scheme,
		AllowStale:       a.AllowStale,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Services:         slices.Clone(a.Services),
		ServiceTags:      slices.Clone(a.ServiceTags),
		NodeMeta:         maps.Clone(a.NodeMeta),
		HTTPClientConfig: hc,
	}, nil
}

// Mechanism: consul_sd watches each service with its own blocking query
// and never marks the end of a full list. The first refresh counts as
// complete once the first answers have been quiet for a moment, or after
// a few seconds with none (an empty catalog, or Consul unreachable: then
// the counted RPC failures keep the component unhealthy). consul_sd sleeps
// out its refresh interval before it looks at cancellation, so stopping
// does not wait for it.
var Mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_consul_rpc_failures_total"},
	SettleQuiet:    500 * time.Millisecond,
	SettleTimeout:  5 * time.Second,
	PollInterval:   time.Second,
	StopWait:       time.Second,
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.consul component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, Mechanism)
}

// Registration registers discovery.consul.
var Registration = component.Registration{
	Name:      "discovery.consul",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
