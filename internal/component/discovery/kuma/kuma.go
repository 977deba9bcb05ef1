// Package kuma is the discovery.kuma component: the monitoring
// assignments of a Kuma service mesh control plane (its MADS xDS API over
// HTTP), one target per dataplane, fetched every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Fetching is
// prometheus' discovery/xds; running it is the parent discovery package.
package kuma

import (
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promxds "github.com/prometheus/prometheus/discovery/xds"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.kuma's arguments.
type Arguments struct {
	Server           string                     `alloy:"server,attr"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	FetchTimeout     time.Duration              `alloy:"fetch_timeout,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: a 30-second refresh, long polls of up to
// two minutes.
var DefaultArguments = Arguments{
	RefreshInterval:  30 * time.Second,
	FetchTimeout:     2 * time.Minute,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the server URL, the durations and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' kuma_sd config.
func (a *Arguments) SDConfig() (*promxds.SDConfig, error) {
	u, err := url.Parse(a.Server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid server %q: it needs a scheme and a host", a.Server)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	if a.FetchTimeout <= 0 {
		return nil, fmt.Errorf("fetch_timeout must be positive, got %s", a.FetchTimeout)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promxds.SDConfig{
		HTTPClientConfig: hc,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		FetchTimeout:     model.Duration(a.FetchTimeout),
		Server:           a.Server,
	}, nil
}

// mechanism: kuma_sd polls in its own loop (no refresh package) and never
// marks the end of a fetch after its groups are sent, so the first result
// counts once it has been quiet a moment, or after a few seconds without
// one (a failed fetch, counted as a failure). It sleeps out its interval
// before it looks at cancellation, so stopping does not wait for it.
var mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_kuma_fetch_failures_total"},
	SettleQuiet:    300 * time.Millisecond,
	SettleTimeout:  5 * time.Second,
	PollInterval:   250 * time.Millisecond,
	StopWait:       time.Second,
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.kuma component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// Registration registers discovery.kuma.
var Registration = component.Registration{
	Name:      "discovery.kuma",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
