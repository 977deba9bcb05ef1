// Package aws is the discovery.aws component: targets from one AWS service
// chosen by role (ec2, ecs, elasticache, lightsail, msk or rds), listed
// every refresh_interval. It is Alloy's single component for AWS
// discovery and the only one for ECS; discovery.ec2 and
// discovery.lightsail remain.
//
// It owns the Alloy arguments and their conversion into the role's own
// prometheus config. Talking to AWS is prometheus' discovery/aws; running
// it is the parent discovery package. Without access_key and secret_key it
// uses the AWS SDK's default credential chain; without region it asks the
// instance metadata service at the first refresh, never when the config is
// loaded (Alloy asks while validating).
package aws

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	promaws "github.com/prometheus/prometheus/discovery/aws"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.aws's arguments.
type Arguments struct {
	Role               string                     `alloy:"role,attr"`
	Endpoint           string                     `alloy:"endpoint,attr,optional"`
	Region             string                     `alloy:"region,attr,optional"`
	AccessKey          string                     `alloy:"access_key,attr,optional"`
	SecretKey          types.Secret               `alloy:"secret_key,attr,optional"`
	Profile            string                     `alloy:"profile,attr,optional"`
	RoleARN            string                     `alloy:"role_arn,attr,optional"`
	ExternalID         string                     `alloy:"external_id,attr,optional"`
	RefreshInterval    time.Duration              `alloy:"refresh_interval,attr,optional"`
	Port               int                        `alloy:"port,attr,optional"`
	Filters            []Filter                   `alloy:"filter,block,optional"`
	Clusters           []string                   `alloy:"clusters,attr,optional"`
	RequestConcurrency int                        `alloy:"request_concurrency,attr,optional"`
	HTTPClientConfig   discovery.HTTPClientConfig `alloy:",squash"`
}

// Filter is one filter block (ec2 and rds roles).
type Filter struct {
	Name   string   `alloy:"name,attr"`
	Values []string `alloy:"values,attr"`
}

// DefaultArguments are Alloy's: port 80, a one-minute refresh, and a
// request_concurrency of 0, which means the role's own (20 for ecs, 10 for
// elasticache, msk and rds).
var DefaultArguments = Arguments{
	Port:             80,
	RefreshInterval:  time.Minute,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the role and the arguments that only some roles take,
// as Alloy does.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

var clusterRoles = []promaws.Role{promaws.RoleECS, promaws.RoleElasticache, promaws.RoleMSK, promaws.RoleRDS}

// SDConfig converts the arguments to the prometheus config of the role:
// an EC2SDConfig, ECSSDConfig, ElasticacheSDConfig, LightsailSDConfig,
// MSKSDConfig or RDSSDConfig.
func (a *Arguments) SDConfig() (promdiscovery.Config, error) {
	role := promaws.Role(a.Role)
	switch role {
	case promaws.RoleEC2, promaws.RoleECS, promaws.RoleElasticache, promaws.RoleLightsail, promaws.RoleMSK, promaws.RoleRDS:
	default:
		return nil, fmt.Errorf("unsupported role %q: must be one of ec2, ecs, elasticache, lightsail, msk, rds", a.Role)
	}
	if len(a.Filters) > 0 && role != promaws.RoleEC2 && role != promaws.RoleRDS {
		return nil, fmt.Errorf("filter blocks are only supported with the ec2 and rds roles, not %q", a.Role)
	}
	var filters []*promaws.Filter
	for _, f := range a.Filters {
		if len(f.Values) == 0 {
			return nil, errors.New("AWS SD configuration filter values cannot be empty")
		}
		filters = append(filters, &promaws.Filter{Name: f.Name, Values: slices.Clone(f.Values)})
	}
	clusterRole := slices.Contains(clusterRoles, role)
	if len(a.Clusters) > 0 && !clusterRole {
		return nil, fmt.Errorf("clusters is only supported with the ecs, elasticache, msk, and rds roles, not %q", a.Role)
	}
	if a.RequestConcurrency != 0 && !clusterRole {
		return nil, fmt.Errorf("request_concurrency is only supported with the ecs, elasticache, msk, and rds roles, not %q", a.Role)
	}
	if a.RequestConcurrency < 0 {
		return nil, fmt.Errorf("request_concurrency must not be negative, got %d", a.RequestConcurrency)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	if (a.AccessKey == "") != (a.SecretKey == "") {
		return nil, errors.New("access_key and secret_key must be set together")
	}
	if a.Endpoint != "" {
		if u, err := url.Parse(a.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("invalid endpoint %q: it needs a scheme and a host", a.Endpoint)
		}
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	secret := config.Secret(a.SecretKey)
	interval := model.Duration(a.RefreshInterval)
	concurrency := func(def int) int {
		if a.RequestConcurrency != 0 {
			return a.RequestConcurrency
		}
		return def
	}
	clusters := slices.Clone(a.Clusters)
	switch role {
	case promaws.RoleEC2:
		return &promaws.EC2SDConfig{Endpoint: a.Endpoint, Region: a.Region, AccessKey: a.AccessKey, SecretKey: secret,
			Profile: a.Profile, RoleARN: a.RoleARN, ExternalID: a.ExternalID, RefreshInterval: interval, Port: a.Port,
			Filters: filters, HTTPClientConfig: hc}, nil
	case promaws.RoleLightsail:
		return &promaws.LightsailSDConfig{Endpoint: a.Endpoint, Region: a.Region, AccessKey: a.AccessKey, SecretKey: secret,
			Profile: a.Profile, RoleARN: a.RoleARN, ExternalID: a.ExternalID, RefreshInterval: interval, Port: a.Port,
			HTTPClientConfig: hc}, nil
	case promaws.RoleECS:
		return &promaws.ECSSDConfig{Endpoint: a.Endpoint, Region: a.Region, AccessKey: a.AccessKey, SecretKey: secret,
			Profile: a.Profile, RoleARN: a.RoleARN, ExternalID: a.ExternalID, Clusters: clusters, RefreshInterval: interval,
			Port: a.Port, RequestConcurrency: concurrency(promaws.DefaultECSSDConfig.RequestConcurrency), HTTPClientConfig: hc}, nil
	case promaws.RoleElasticache:
		return &promaws.ElasticacheSDConfig{Endpoint: a.Endpoint, Region: a.Region, AccessKey: a.AccessKey, SecretKey: secret,
			Profile: a.Profile, RoleARN: a.RoleARN, ExternalID: a.ExternalID, Clusters: clusters, RefreshInterval: interval,
			Port: a.Port, RequestConcurrency: concurrency(promaws.DefaultElasticacheSDConfig.RequestConcurrency), HTTPClientConfig: hc}, nil
	case promaws.RoleMSK:
		return &promaws.MSKSDConfig{Endpoint: a.Endpoint, Region: a.Region, AccessKey: a.AccessKey, SecretKey: secret,
			Profile: a.Profile, RoleARN: a.RoleARN, ExternalID: a.ExternalID, Clusters: clusters, RefreshInterval: interval,
			Port: a.Port, RequestConcurrency: concurrency(promaws.DefaultMSKSDConfig.RequestConcurrency), HTTPClientConfig: hc}, nil
	default: // rds
		return &promaws.RDSSDConfig{Endpoint: a.Endpoint, Region: a.Region, AccessKey: a.AccessKey, SecretKey: secret,
			Profile: a.Profile, RoleARN: a.RoleARN, ExternalID: a.ExternalID, Clusters: clusters, RefreshInterval: interval,
			Port: a.Port, Filters: filters, RequestConcurrency: concurrency(promaws.DefaultRDSSDConfig.RequestConcurrency), HTTPClientConfig: hc}, nil
	}
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.aws component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.aws.
var Registration = component.Registration{
	Name:      "discovery.aws",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
