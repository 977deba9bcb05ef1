// Package openstack is the discovery.openstack component: targets from
// OpenStack Nova, one per instance port (role "instance") or per
// hypervisor (role "hypervisor"), listed every refresh_interval after a
// Keystone v3 authentication.
//
// It owns the Alloy arguments and their conversion. Talking to OpenStack
// is prometheus' discovery/openstack (gophercloud); running it is the
// parent discovery package. Without identity_endpoint the credentials come
// from the OS_* environment variables, as with the openstack CLI.
package openstack

import (
	"fmt"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promopenstack "github.com/prometheus/prometheus/discovery/openstack"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.openstack's arguments.
type Arguments struct {
	IdentityEndpoint            string              `alloy:"identity_endpoint,attr,optional"`
	Username                    string              `alloy:"username,attr,optional"`
	UserID                      string              `alloy:"userid,attr,optional"`
	Password                    types.Secret        `alloy:"password,attr,optional"`
	ProjectName                 string              `alloy:"project_name,attr,optional"`
	ProjectID                   string              `alloy:"project_id,attr,optional"`
	DomainName                  string              `alloy:"domain_name,attr,optional"`
	DomainID                    string              `alloy:"domain_id,attr,optional"`
	ApplicationCredentialName   string              `alloy:"application_credential_name,attr,optional"`
	ApplicationCredentialID     string              `alloy:"application_credential_id,attr,optional"`
	ApplicationCredentialSecret types.Secret        `alloy:"application_credential_secret,attr,optional"`
	Role                        string              `alloy:"role,attr"`
	Region                      string              `alloy:"region,attr"`
	RefreshInterval             time.Duration       `alloy:"refresh_interval,attr,optional"`
	Port                        int                 `alloy:"port,attr,optional"`
	AllTenants                  bool                `alloy:"all_tenants,attr,optional"`
	TLSConfig                   discovery.TLSConfig `alloy:"tls_config,block,optional"`
	Availability                string              `alloy:"availability,attr,optional"`
}

// DefaultArguments are Alloy's: port 80, public endpoints, a one-minute
// refresh.
var DefaultArguments = Arguments{
	Port:            80,
	RefreshInterval: time.Minute,
	Availability:    "public",
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the role, the availability, the interval and the TLS
// settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' openstack_sd config.
func (a *Arguments) SDConfig() (*promopenstack.SDConfig, error) {
	switch a.Availability {
	case "public", "internal", "admin":
	default:
		return nil, fmt.Errorf("unknown availability %q, must be one of admin, internal or public", a.Availability)
	}
	switch a.Role {
	case "instance", "hypervisor":
	default:
		return nil, fmt.Errorf("unknown role %q, must be one of instance or hypervisor", a.Role)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	tc, err := a.TLSConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &promopenstack.SDConfig{
		IdentityEndpoint:            a.IdentityEndpoint,
		Username:                    a.Username,
		UserID:                      a.UserID,
		Password:                    config.Secret(a.Password),
		ProjectName:                 a.ProjectName,
		ProjectID:                   a.ProjectID,
		DomainName:                  a.DomainName,
		DomainID:                    a.DomainID,
		ApplicationCredentialName:   a.ApplicationCredentialName,
		ApplicationCredentialID:     a.ApplicationCredentialID,
		ApplicationCredentialSecret: config.Secret(a.ApplicationCredentialSecret),
		Role:                        promopenstack.Role(a.Role),
		Region:                      a.Region,
		RefreshInterval:             model.Duration(a.RefreshInterval),
		Port:                        a.Port,
		AllTenants:                  a.AllTenants,
		TLSConfig:                   tc,
		Availability:                a.Availability,
	}, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.openstack component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.openstack.
var Registration = component.Registration{
	Name:      "discovery.openstack",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
