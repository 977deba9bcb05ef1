// Package ec2 is the discovery.ec2 component: one target per AWS EC2
// instance with a private IP (or IPv6) address in a region, listed with
// DescribeInstances every refresh_interval.
//
// It owns the Alloy arguments and their conversion. Talking to AWS is
// prometheus' discovery/aws; running it is the parent discovery package.
// Without access_key and secret_key it uses the AWS SDK's default
// credential chain (environment, shared files, and on an EC2 host the
// instance metadata service); without region it asks the instance
// metadata service at the first refresh, not when the config is loaded.
package ec2

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

// Arguments are discovery.ec2's arguments.
type Arguments struct {
	Endpoint         string                     `alloy:"endpoint,attr,optional"`
	Region           string                     `alloy:"region,attr,optional"`
	AccessKey        string                     `alloy:"access_key,attr,optional"`
	SecretKey        types.Secret               `alloy:"secret_key,attr,optional"`
	Profile          string                     `alloy:"profile,attr,optional"`
	RoleARN          string                     `alloy:"role_arn,attr,optional"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	Port             int                        `alloy:"port,attr,optional"`
	Filters          []Filter                   `alloy:"filter,block,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// Filter is one filter block of DescribeInstances.
type Filter struct {
	Name   string   `alloy:"name,attr"`
	Values []string `alloy:"values,attr"`
}

// DefaultArguments are Alloy's: port 80, a one-minute refresh.
var DefaultArguments = Arguments{
	Port:             80,
	RefreshInterval:  time.Minute,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the arguments. Unlike Alloy it never reaches the
// instance metadata service: a missing region is resolved by the
// discoverer when it first runs.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to prometheus' ec2_sd config.
func (a *Arguments) SDConfig() (*promaws.EC2SDConfig, error) {
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
	c := &promaws.EC2SDConfig{
		Endpoint:         a.Endpoint,
		Region:           a.Region,
		AccessKey:        a.AccessKey,
		SecretKey:        config.Secret(a.SecretKey),
		Profile:          a.Profile,
		RoleARN:          a.RoleARN,
		RefreshInterval:  model.Duration(a.RefreshInterval),
		Port:             a.Port,
		HTTPClientConfig: hc,
	}
	for _, f := range a.Filters {
		if len(f.Values) == 0 {
			return nil, fmt.Errorf("filter %q: values cannot be empty", f.Name)
		}
		c.Filters = append(c.Filters, &promaws.Filter{Name: f.Name, Values: slices.Clone(f.Values)})
	}
	return c, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.ec2 component (a refresh-loop discoverer).
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.ec2.
var Registration = component.Registration{
	Name:      "discovery.ec2",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
