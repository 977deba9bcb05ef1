// Package dns is the discovery.dns component: targets from DNS SRV, A,
// AAAA, MX or NS records of the given names, looked up every
// refresh_interval through the system resolver configuration.
//
// It owns the Alloy arguments and their conversion. Lookups are
// prometheus' discovery/dns; running it is the parent discovery package.
package dns

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promdns "github.com/prometheus/prometheus/discovery/dns"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.dns's arguments.
type Arguments struct {
	Names           []string      `alloy:"names,attr"`
	RefreshInterval time.Duration `alloy:"refresh_interval,attr,optional"`
	Type            string        `alloy:"type,attr,optional"`
	Port            int           `alloy:"port,attr,optional"`
}

// DefaultArguments look up SRV records every 30 seconds.
var DefaultArguments = Arguments{
	RefreshInterval: 30 * time.Second,
	Type:            "SRV",
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the names, the record type, and that a port is given for
// every type but SRV (whose records carry one).
func (a *Arguments) Validate() error {
	if len(a.Names) == 0 {
		return errors.New("names must contain at least one name")
	}
	if a.RefreshInterval <= 0 {
		return fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	switch strings.ToUpper(a.Type) {
	case "SRV":
	case "A", "AAAA", "MX", "NS":
		if a.Port == 0 {
			return errors.New("a port is required in DNS-SD configs for all record types except SRV")
		}
	default:
		return fmt.Errorf("invalid DNS-SD records type %q, expected SRV, A, AAAA, MX or NS", a.Type)
	}
	if a.Port < 0 || a.Port > 65535 {
		return fmt.Errorf("port %d is out of range", a.Port)
	}
	return nil
}

// SDConfig converts the arguments to prometheus' dns_sd config.
func (a Arguments) SDConfig() *promdns.SDConfig {
	return &promdns.SDConfig{
		Names:           append([]string(nil), a.Names...),
		RefreshInterval: model.Duration(a.RefreshInterval),
		Type:            strings.ToUpper(a.Type),
		Port:            a.Port,
	}
}

// mechanism: dns_sd uses prometheus' refresh loop but never fails a
// refresh; a name that cannot be resolved only counts a lookup failure (and
// keeps its previous targets).
var mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_dns_lookup_failures_total"},
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a.SDConfig(), nil
}

// New builds a discovery.dns component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// Registration registers discovery.dns.
var Registration = component.Registration{
	Name:      "discovery.dns",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
