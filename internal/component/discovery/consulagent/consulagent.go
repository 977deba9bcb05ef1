// Package consulagent is the discovery.consulagent component: one target
// per instance of the services registered with the local Consul agent
// (its /v1/agent API, not the catalog), with the health the agent reports,
// read every refresh_interval.
//
// It owns the Alloy arguments and the discoverer (Alloy's own, from
// Promtail, not Prometheus'; its labels are __meta_consulagent_*). Talking
// to the agent is hashicorp's consul/api client; running it is the parent
// discovery package, through prometheus' refresh loop.
package consulagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	consul "github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/refresh"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/util/strutil"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are discovery.consulagent's arguments.
type Arguments struct {
	Server          string              `alloy:"server,attr,optional"`
	Token           types.Secret        `alloy:"token,attr,optional"`
	Datacenter      string              `alloy:"datacenter,attr,optional"`
	TagSeparator    string              `alloy:"tag_separator,attr,optional"`
	Scheme          string              `alloy:"scheme,attr,optional"`
	Username        string              `alloy:"username,attr,optional"`
	Password        types.Secret        `alloy:"password,attr,optional"`
	RefreshInterval time.Duration       `alloy:"refresh_interval,attr,optional"`
	Services        []string            `alloy:"services,attr,optional"`
	ServiceTags     []string            `alloy:"tags,attr,optional"`
	TLSConfig       discovery.TLSConfig `alloy:"tls_config,block,optional"`
}

// DefaultArguments are Alloy's: the local agent over HTTP, tags joined
// with ",", a 30-second refresh.
var DefaultArguments = Arguments{
	Server:          "localhost:8500",
	TagSeparator:    ",",
	Scheme:          "http",
	RefreshInterval: 30 * time.Second,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the interval, the server and the TLS settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to the discoverer's config.
func (a *Arguments) SDConfig() (*SDConfig, error) {
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be greater than 0")
	}
	if strings.TrimSpace(a.Server) == "" {
		return nil, errors.New("consulagent SD configuration requires a server address")
	}
	tls, err := a.TLSConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &SDConfig{
		Server: a.Server, Token: string(a.Token), Datacenter: a.Datacenter, TagSeparator: a.TagSeparator,
		Scheme: a.Scheme, Username: a.Username, Password: string(a.Password), RefreshInterval: a.RefreshInterval,
		Services: slices.Clone(a.Services), ServiceTags: slices.Clone(a.ServiceTags), TLSConfig: tls,
	}, nil
}

// SDConfig is the discoverer's config, a prometheus discovery config.
type SDConfig struct {
	Server, Token, Datacenter, TagSeparator, Scheme, Username, Password string
	RefreshInterval                                                     time.Duration
	Services, ServiceTags                                               []string
	TLSConfig                                                           config.TLSConfig
}

// Name is the mechanism's name in prometheus' refresh metrics.
func (*SDConfig) Name() string { return "consulagent" }

// NewDiscovererMetrics returns the refresh metrics only.
func (*SDConfig) NewDiscovererMetrics(_ prometheus.Registerer, rmi promdiscovery.RefreshMetricsInstantiator) promdiscovery.DiscovererMetrics {
	return &metrics{refresh: rmi}
}

type metrics struct {
	refresh promdiscovery.RefreshMetricsInstantiator
}

func (*metrics) Register() error { return nil }
func (*metrics) Unregister()     {}

// requestTimeout bounds one refresh's requests.
const requestTimeout = 30 * time.Second

// NewDiscoverer builds the refresh-loop discoverer and its client.
func (c *SDConfig) NewDiscoverer(opts promdiscovery.DiscovererOptions) (promdiscovery.Discoverer, error) {
	m, ok := opts.Metrics.(*metrics)
	if !ok {
		return nil, errors.New("invalid discovery metrics type")
	}
	tls, err := config.NewTLSConfig(&c.TLSConfig)
	if err != nil {
		return nil, err
	}
	cc := &consul.Config{
		Address:    c.Server,
		Scheme:     c.Scheme,
		Datacenter: c.Datacenter,
		Token:      c.Token,
		HttpClient: &http.Client{Transport: &http.Transport{TLSClientConfig: tls, Proxy: http.ProxyFromEnvironment}, Timeout: requestTimeout},
	}
	if c.Username != "" || c.Password != "" {
		cc.HttpAuth = &consul.HttpBasicAuth{Username: c.Username, Password: c.Password}
	}
	client, err := consul.NewClient(cc)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &discoverer{cfg: *c, agent: client.Agent()}
	return refresh.NewDiscovery(refresh.Options{
		Logger:              logger,
		Mech:                "consulagent",
		SetName:             opts.SetName,
		Interval:            c.RefreshInterval,
		RefreshF:            d.refresh,
		MetricsInstantiator: m.refresh,
	}), nil
}

type discoverer struct {
	cfg   SDConfig
	agent *consul.Agent
}

const prefix = model.MetaLabelPrefix + "consulagent_"

// agentInfo is what the agent says of itself.
type agentInfo struct {
	datacenter, node, addr string
	meta                   map[string]string
}

func (d *discoverer) self(ctx context.Context) (agentInfo, error) {
	self, err := d.agent.Self()
	if err != nil {
		return agentInfo{}, fmt.Errorf("reading the agent's own info: %w", err)
	}
	var info agentInfo
	info.datacenter = d.cfg.Datacenter
	if info.datacenter == "" {
		dc, ok := self["Config"]["Datacenter"].(string)
		if !ok {
			return info, fmt.Errorf("invalid value %v for Config.Datacenter", self["Config"]["Datacenter"])
		}
		info.datacenter = dc
	}
	info.node, _ = self["Config"]["NodeName"].(string)
	var member consul.AgentMember
	if b, err := json.Marshal(self["Member"]); err == nil {
		_ = json.Unmarshal(b, &member)
	}
	info.addr = member.Addr
	info.meta = map[string]string{}
	for k, v := range self["Meta"] {
		if s, ok := v.(string); ok {
			info.meta[k] = s
		}
	}
	return info, nil
}

// watched reports whether a service is wanted: by name when services is
// set, and carrying every tag of tags.
func (d *discoverer) watched(name string, tags []string) bool {
	if len(d.cfg.Services) > 0 && !slices.Contains(d.cfg.Services, name) {
		return false
	}
	for _, t := range d.cfg.ServiceTags {
		if !slices.Contains(tags, t) {
			return false
		}
	}
	return true
}

func (d *discoverer) refresh(ctx context.Context) ([]*targetgroup.Group, error) {
	info, err := d.self(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	if len(d.cfg.Services) > 0 && len(d.cfg.ServiceTags) == 0 {
		names = slices.Clone(d.cfg.Services)
	} else {
		srvs, err := d.agent.Services()
		if err != nil {
			return nil, fmt.Errorf("listing the agent's services: %w", err)
		}
		seen := map[string]bool{}
		for _, s := range srvs {
			if !seen[s.Service] && d.watched(s.Service, s.Tags) {
				seen[s.Service] = true
				names = append(names, s.Service)
			}
		}
		slices.Sort(names)
	}
	groups := make([]*targetgroup.Group, 0, len(names))
	for _, name := range names {
		status, checks, err := d.agent.AgentHealthServiceByName(name)
		if err != nil {
			return nil, fmt.Errorf("reading service %q: %w", name, err)
		}
		g := &targetgroup.Group{
			Source: name,
			Labels: model.LabelSet{prefix + "service": model.LabelValue(name), prefix + "dc": model.LabelValue(info.datacenter)},
		}
		for _, sc := range checks {
			s := sc.Service
			if s == nil {
				continue
			}
			host := s.Address
			if host == "" {
				host = info.addr
			}
			sep := d.cfg.TagSeparator
			t := model.LabelSet{
				model.AddressLabel:         model.LabelValue(net.JoinHostPort(host, strconv.Itoa(s.Port))),
				prefix + "address":         model.LabelValue(info.addr),
				prefix + "node":            model.LabelValue(info.node),
				prefix + "tags":            model.LabelValue(sep + strings.Join(s.Tags, sep) + sep),
				prefix + "service_address": model.LabelValue(s.Address),
				prefix + "service_port":    model.LabelValue(strconv.Itoa(s.Port)),
				prefix + "service_id":      model.LabelValue(s.ID),
				prefix + "health":          model.LabelValue(status),
			}
			for k, v := range info.meta {
				t[model.LabelName(prefix+"metadata_"+strutil.SanitizeLabelName(k))] = model.LabelValue(v)
			}
			for k, v := range s.Meta {
				t[model.LabelName(prefix+"service_metadata_"+strutil.SanitizeLabelName(k))] = model.LabelValue(v)
			}
			for k, v := range s.TaggedAddresses {
				t[model.LabelName(prefix+"tagged_address_"+strutil.SanitizeLabelName(k))] = model.LabelValue(net.JoinHostPort(v.Address, strconv.Itoa(v.Port)))
			}
			g.Targets = append(g.Targets, t)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.consulagent component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.consulagent.
var Registration = component.Registration{
	Name:      "discovery.consulagent",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
