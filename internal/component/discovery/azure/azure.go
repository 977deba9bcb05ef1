// Package azure is the discovery.azure component: one target per Azure
// virtual machine (and scale set instance) of a subscription, listed from
// Azure Resource Manager every refresh_interval.
//
// It owns the Alloy arguments (one of the oauth, managed_identity,
// sdk_auth and workload_identity blocks, tls_config, the proxy settings)
// and their conversion. Talking to Azure is prometheus' discovery/azure;
// running it is the parent discovery package. The managed_identity and
// sdk_auth methods ask the instance metadata service for a token at the
// first refresh, never when the config is loaded.
package azure

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promazure "github.com/prometheus/prometheus/discovery/azure"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.azure's arguments.
type Arguments struct {
	Environment      string            `alloy:"environment,attr,optional"`
	Port             int               `alloy:"port,attr,optional"`
	SubscriptionID   string            `alloy:"subscription_id,attr,optional"`
	OAuth            *OAuth            `alloy:"oauth,block,optional"`
	ManagedIdentity  *ManagedIdentity  `alloy:"managed_identity,block,optional"`
	SDK              *SDK              `alloy:"sdk_auth,block,optional"`
	WorkloadIdentity *WorkloadIdentity `alloy:"workload_identity,block,optional"`
	RefreshInterval  time.Duration     `alloy:"refresh_interval,attr,optional"`
	ResourceGroup    string            `alloy:"resource_group,attr,optional"`

	ProxyURL             string                    `alloy:"proxy_url,attr,optional"`
	NoProxy              string                    `alloy:"no_proxy,attr,optional"`
	ProxyFromEnvironment bool                      `alloy:"proxy_from_environment,attr,optional"`
	ProxyConnectHeader   map[string][]types.Secret `alloy:"proxy_connect_header,attr,optional"`
	FollowRedirects      bool                      `alloy:"follow_redirects,attr,optional"`
	EnableHTTP2          bool                      `alloy:"enable_http2,attr,optional"`
	TLSConfig            discovery.TLSConfig       `alloy:"tls_config,block,optional"`
	HTTPHeaders          map[string][]types.Secret `alloy:"http_headers,attr,optional"`
}

// OAuth is the oauth block: a service principal's client secret.
type OAuth struct {
	ClientID     string       `alloy:"client_id,attr"`
	TenantID     string       `alloy:"tenant_id,attr"`
	ClientSecret types.Secret `alloy:"client_secret,attr"`
}

// ManagedIdentity is the managed_identity block.
type ManagedIdentity struct {
	ClientID string `alloy:"client_id,attr"`
}

// SDK is the sdk_auth block: the Azure SDK's default credential chain.
type SDK struct {
	TenantID string `alloy:"tenant_id,attr,optional"`
}

// WorkloadIdentity is the workload_identity block. It takes no arguments:
// the credentials come from the variables the Azure Workload Identity
// webhook injects (AZURE_CLIENT_ID, AZURE_TENANT_ID,
// AZURE_FEDERATED_TOKEN_FILE).
type WorkloadIdentity struct{}

// DefaultArguments are Alloy's: the public cloud, port 80, a five-minute
// refresh, redirects followed, HTTP/2 allowed.
var DefaultArguments = Arguments{
	Environment:     "AzurePublicCloud",
	Port:            80,
	RefreshInterval: 5 * time.Minute,
	FollowRedirects: true,
	EnableHTTP2:     true,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks that exactly one authentication block is given, the
// environment name, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' azure_sd config.
func (a *Arguments) SDConfig() (*promazure.SDConfig, error) {
	c := &promazure.SDConfig{
		Environment:     a.Environment,
		Port:            a.Port,
		SubscriptionID:  a.SubscriptionID,
		RefreshInterval: model.Duration(a.RefreshInterval),
		ResourceGroup:   a.ResourceGroup,
	}
	methods := 0
	if a.OAuth != nil {
		methods++
		c.AuthenticationMethod = "OAuth"
		c.ClientID, c.TenantID, c.ClientSecret = a.OAuth.ClientID, a.OAuth.TenantID, config.Secret(a.OAuth.ClientSecret)
	}
	if a.ManagedIdentity != nil {
		methods++
		c.AuthenticationMethod = "ManagedIdentity"
		c.ClientID = a.ManagedIdentity.ClientID
	}
	if a.SDK != nil {
		methods++
		c.AuthenticationMethod = "SDK"
		c.TenantID = a.SDK.TenantID
	}
	if a.WorkloadIdentity != nil {
		methods++
		c.AuthenticationMethod = "WorkloadIdentity"
	}
	if methods != 1 {
		return nil, errors.New("exactly one of oauth, managed_identity, sdk_auth, or workload_identity must be specified")
	}
	if _, err := promazure.CloudConfigurationFromName(a.Environment); err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	h := discovery.HTTPClientConfig{
		TLSConfig:            a.TLSConfig,
		ProxyURL:             a.ProxyURL,
		NoProxy:              a.NoProxy,
		ProxyFromEnvironment: a.ProxyFromEnvironment,
		ProxyConnectHeader:   a.ProxyConnectHeader,
		FollowRedirects:      a.FollowRedirects,
		EnableHTTP2:          a.EnableHTTP2,
		HTTPHeaders:          a.HTTPHeaders,
	}
	hc, err := h.Prometheus()
	if err != nil {
		return nil, err
	}
	c.HTTPClientConfig = hc
	return c, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.azure component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, mechanism)
}

// mechanism: azure_sd uses prometheus' refresh loop; it also counts
// failed requests.
var mechanism = discovery.Mechanism{
	FailureMetrics: []string{"prometheus_sd_azure_failures_total"},
}

// Registration registers discovery.azure.
var Registration = component.Registration{
	Name:      "discovery.azure",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
