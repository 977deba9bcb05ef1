// Package kubernetes is the discovery.kubernetes component: targets from
// the Kubernetes API (nodes, pods, services, endpoints, endpoint slices or
// ingresses), kept current by watching it.
//
// It owns the Alloy arguments, their validation and their conversion.
// Talking to the API server is prometheus' discovery/kubernetes (client-go
// informers); running it is the parent discovery package.
package kubernetes

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promk8s "github.com/prometheus/prometheus/discovery/kubernetes"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.kubernetes's arguments.
type Arguments struct {
	APIServer          string                     `alloy:"api_server,attr,optional"`
	Role               string                     `alloy:"role,attr"`
	KubeConfig         string                     `alloy:"kubeconfig_file,attr,optional"`
	HTTPClientConfig   discovery.HTTPClientConfig `alloy:",squash"`
	NamespaceDiscovery NamespaceDiscovery         `alloy:"namespaces,block,optional"`
	Selectors          []SelectorConfig           `alloy:"selectors,block,optional"`
	AttachMetadata     AttachMetadataConfig       `alloy:"attach_metadata,block,optional"`
}

// NamespaceDiscovery is the namespaces block: which namespaces to watch.
// With neither set, all of them.
type NamespaceDiscovery struct {
	IncludeOwnNamespace bool     `alloy:"own_namespace,attr,optional"`
	Names               []string `alloy:"names,attr,optional"`
}

// SelectorConfig is one selectors block: label and field selectors applied
// server-side to the objects of one role.
type SelectorConfig struct {
	Role  string `alloy:"role,attr"`
	Label string `alloy:"label,attr,optional"`
	Field string `alloy:"field,attr,optional"`
}

// AttachMetadataConfig is the attach_metadata block.
type AttachMetadataConfig struct {
	Node      bool `alloy:"node,attr,optional"`
	Namespace bool `alloy:"namespace,attr,optional"`
}

// SetToDefault sets Alloy's defaults (those of the HTTP client).
func (a *Arguments) SetToDefault() {
	*a = Arguments{HTTPClientConfig: discovery.DefaultHTTPClientConfig}
}

// roles lists the valid roles and the selector roles each allows.
var roles = map[string][]string{
	"pod":           {"pod", "node"},
	"service":       {"service"},
	"endpointslice": {"pod", "service", "endpointslice"},
	"endpoints":     {"pod", "service", "endpoints"},
	"node":          {"node"},
	"ingress":       {"ingress"},
}

// Validate checks the arguments as Alloy and Prometheus do.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' kubernetes_sd config,
// validated.
func (a *Arguments) SDConfig() (*promk8s.SDConfig, error) {
	allowed, ok := roles[a.Role]
	if !ok {
		return nil, fmt.Errorf("invalid role %q, expected one of: pod, service, endpoints, endpointslice, node, ingress", a.Role)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	c := &promk8s.SDConfig{
		Role:             promk8s.Role(a.Role),
		KubeConfig:       a.KubeConfig,
		HTTPClientConfig: hc,
		NamespaceDiscovery: promk8s.NamespaceDiscovery{
			IncludeOwnNamespace: a.NamespaceDiscovery.IncludeOwnNamespace,
			Names:               slices.Clone(a.NamespaceDiscovery.Names),
		},
		AttachMetadata: promk8s.AttachMetadataConfig{
			Node:      a.AttachMetadata.Node,
			Namespace: a.AttachMetadata.Namespace,
		},
	}
	if a.APIServer != "" {
		u, err := url.Parse(a.APIServer)
		if err != nil {
			return nil, fmt.Errorf("invalid api_server %q: %w", a.APIServer, err)
		}
		if u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("invalid api_server %q: it needs a scheme and a host", a.APIServer)
		}
		c.APIServer = config.URL{URL: u}
	}

	switch {
	case a.APIServer != "" && a.KubeConfig != "":
		return nil, errors.New("api_server and kubeconfig_file cannot be used together")
	case a.KubeConfig != "" && !a.HTTPClientConfig.IsDefault():
		return nil, errors.New("custom HTTP client settings cannot be used together with kubeconfig_file")
	case a.APIServer == "" && !a.HTTPClientConfig.IsDefault():
		return nil, errors.New("custom HTTP client settings need api_server to be set explicitly")
	case a.APIServer != "" && a.NamespaceDiscovery.IncludeOwnNamespace:
		return nil, errors.New("api_server and namespaces.own_namespace cannot be used together")
	case a.KubeConfig != "" && a.NamespaceDiscovery.IncludeOwnNamespace:
		return nil, errors.New("kubeconfig_file and namespaces.own_namespace cannot be used together")
	}

	seen := map[string]bool{}
	for _, s := range a.Selectors {
		if seen[s.Role] {
			return nil, fmt.Errorf("duplicated selector role: %s", s.Role)
		}
		seen[s.Role] = true
		if !slices.Contains(allowed, s.Role) {
			return nil, fmt.Errorf("%s role supports only %s selectors", a.Role, strings.Join(allowed, ", "))
		}
		if _, err := fields.ParseSelector(s.Field); err != nil {
			return nil, fmt.Errorf("selector field %q: %w", s.Field, err)
		}
		if _, err := labels.Parse(s.Label); err != nil {
			return nil, fmt.Errorf("selector label %q: %w", s.Label, err)
		}
		c.Selectors = append(c.Selectors, promk8s.SelectorConfig{
			Role:  promk8s.Role(s.Role),
			Label: s.Label,
			Field: s.Field,
		})
	}
	return c, nil
}

// mechanism: informers stream one update per object and never mark the
// end of the initial list. The first refresh counts as complete once the
// initial burst has been quiet for a moment, or after a few seconds with
// nothing at all (nothing matches). Failed LIST/WATCH requests are counted.
var mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_kubernetes_failures_total"},
	SettleQuiet:    500 * time.Millisecond,
	SettleTimeout:  5 * time.Second,
	PollInterval:   time.Second,
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.kubernetes component. Without api_server and
// kubeconfig_file it uses the pod's service account, and fails outside a
// cluster.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// Registration registers discovery.kubernetes.
var Registration = component.Registration{
	Name:      "discovery.kubernetes",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
