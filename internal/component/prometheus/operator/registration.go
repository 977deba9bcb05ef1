package operator

import (
	"net/url"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/stability"
)

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }

var (
	// ServiceMonitorsRegistration registers prometheus.operator.servicemonitors.
	ServiceMonitorsRegistration = component.Registration{
		Name:      "prometheus.operator.servicemonitors",
		Stability: stability.GenerallyAvailable,
		Args:      ServiceMonitorArguments{},
		Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
			a := args.(ServiceMonitorArguments)
			return New(opts, KindServiceMonitor, a.Arguments, a.AllowArbitraryFileAccess)
		},
	}
	// PodMonitorsRegistration registers prometheus.operator.podmonitors.
	PodMonitorsRegistration = component.Registration{
		Name:      "prometheus.operator.podmonitors",
		Stability: stability.GenerallyAvailable,
		Args:      Arguments{},
		Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
			return New(opts, KindPodMonitor, args.(Arguments), false)
		},
	}
	// ProbesRegistration registers prometheus.operator.probes.
	ProbesRegistration = component.Registration{
		Name:      "prometheus.operator.probes",
		Stability: stability.GenerallyAvailable,
		Args:      Arguments{},
		Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
			return New(opts, KindProbe, args.(Arguments), false)
		},
	}
	// ScrapeConfigsRegistration registers prometheus.operator.scrapeconfigs,
	// experimental as in Alloy.
	ScrapeConfigsRegistration = component.Registration{
		Name:      "prometheus.operator.scrapeconfigs",
		Stability: stability.Experimental,
		Args:      Arguments{},
		Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
			return New(opts, KindScrapeConfig, args.(Arguments), false)
		},
	}
)
