// Package kubernetes is the remote.kubernetes.secret and
// remote.kubernetes.configmap components: they poll one Secret or
// ConfigMap from the Kubernetes API and export its data, a Secret's
// values as secrets so that they never show in the UI, the API or logs.
//
// It owns the arguments, the client block and the reading of the object;
// the polling loop and the health are the parent remote package's.
package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/prometheus/common/config"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/remote"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Kind is the kind of object read.
type Kind string

const (
	// KindSecret reads a Secret; its values are exported as secrets.
	KindSecret Kind = "secret"
	// KindConfigMap reads a ConfigMap; its values are exported as strings.
	KindConfigMap Kind = "configmap"
)

// Arguments are the arguments of both components.
type Arguments struct {
	Namespace     string          `alloy:"namespace,attr"`
	Name          string          `alloy:"name,attr"`
	PollFrequency time.Duration   `alloy:"poll_frequency,attr,optional"`
	PollTimeout   time.Duration   `alloy:"poll_timeout,attr,optional"`
	Client        ClientArguments `alloy:"client,block,optional"`
}

// DefaultArguments are Alloy's: every minute with a 15s timeout, in
// cluster.
var DefaultArguments = Arguments{
	PollFrequency: time.Minute,
	PollTimeout:   15 * time.Second,
	Client:        DefaultClientArguments,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the durations and the client block.
func (a *Arguments) Validate() error {
	if a.PollFrequency <= 0 {
		return errors.New("poll_frequency must be greater than 0")
	}
	if a.PollTimeout <= 0 {
		return errors.New("poll_timeout must be greater than 0")
	}
	if err := a.Client.Validate(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// ClientArguments is the client block: how to reach the API server. It
// takes the same settings as discovery.kubernetes: api_server or
// kubeconfig_file (neither means the pod's service account), and the HTTP
// client settings, which need api_server.
type ClientArguments struct {
	APIServer        string                     `alloy:"api_server,attr,optional"`
	KubeConfig       string                     `alloy:"kubeconfig_file,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultClientArguments are the HTTP client's defaults.
var DefaultClientArguments = ClientArguments{HTTPClientConfig: discovery.DefaultHTTPClientConfig}

// SetToDefault sets Alloy's defaults.
func (c *ClientArguments) SetToDefault() { *c = DefaultClientArguments }

// Validate checks the block as Alloy does.
func (c *ClientArguments) Validate() error {
	if c.APIServer != "" {
		u, err := url.Parse(c.APIServer)
		if err != nil {
			return fmt.Errorf("invalid api_server %q: %w", c.APIServer, err)
		}
		if u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("invalid api_server %q: it needs a scheme and a host", c.APIServer)
		}
	}
	switch {
	case c.APIServer != "" && c.KubeConfig != "":
		return errors.New("only one of api_server and kubeconfig_file can be set")
	case c.KubeConfig != "" && !c.HTTPClientConfig.IsDefault():
		return errors.New("custom HTTP client configuration is not allowed when kubeconfig_file is set")
	case c.APIServer == "" && !c.HTTPClientConfig.IsDefault():
		return errors.New("api_server must be set when custom HTTP client configuration is provided")
	}
	// A squashed block is not validated on its own.
	return c.HTTPClientConfig.Validate()
}

// RESTConfig builds the client-go configuration: from the kubeconfig file,
// from api_server and the HTTP client settings, or in cluster.
func (c *ClientArguments) RESTConfig() (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	switch {
	case c.KubeConfig != "":
		if cfg, err = clientcmd.BuildConfigFromFlags("", c.KubeConfig); err != nil {
			return nil, err
		}
	case c.APIServer == "":
		if cfg, err = rest.InClusterConfig(); err != nil {
			return nil, err
		}
	default:
		pc, err := c.HTTPClientConfig.Prometheus()
		if err != nil {
			return nil, err
		}
		rt, err := config.NewRoundTripperFromConfig(pc, "remote.kubernetes")
		if err != nil {
			return nil, err
		}
		cfg = &rest.Config{Host: c.APIServer, Transport: rt}
	}
	cfg.UserAgent = "shoal"
	return cfg, nil
}

// Exports are the exports of both components: the object's data by key.
type Exports struct {
	Data map[string]types.OptionalSecret `alloy:"data,attr"`
}

// Component is a running remote.kubernetes.secret or
// remote.kubernetes.configmap.
type Component struct {
	*remote.Poller
	kind Kind
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// New reads the object once and fails if that fails, so that dependants
// never start without its data.
func New(opts component.Options, args Arguments, kind Kind) (*Component, error) {
	c := &Component{Poller: remote.NewPoller(opts), kind: kind}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	return c, nil
}

// Update applies new arguments and reads the object with them at once; a
// failed read is an error and the previous arguments stay in force.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	cfg, err := a.Client.RESTConfig()
	if err != nil {
		return err
	}
	// Only the core/v1 client: the whole clientset behind an interface
	// would link every API group's client (about 12 MB of binary).
	cs, err := corev1.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating kubernetes client: %w", err)
	}
	kind := c.kind
	return c.Poller.Update(remote.Settings{
		Frequency: a.PollFrequency,
		Timeout:   a.PollTimeout,
		Fetch: func(ctx context.Context) (component.Exports, error) {
			return fetch(ctx, cs, kind, a.Namespace, a.Name)
		},
	})
}

// fetch reads the object. A Secret's data (decoded from base64 by the
// client) is exported as secrets; a ConfigMap's data as plain strings, and
// its binaryData is not exported, as in Alloy.
func fetch(ctx context.Context, cs *corev1.CoreV1Client, kind Kind, ns, name string) (component.Exports, error) {
	data := map[string]types.OptionalSecret{}
	switch kind {
	case KindSecret:
		s, err := cs.Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		for k, v := range s.Data {
			data[k] = types.OptionalSecret{IsSecret: true, Value: string(v)}
		}
	case KindConfigMap:
		cm, err := cs.ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		for k, v := range cm.Data {
			data[k] = types.OptionalSecret{Value: v}
		}
	}
	return Exports{Data: data}, nil
}

func registration(name string, kind Kind) component.Registration {
	return component.Registration{
		Name:      name,
		Stability: stability.GenerallyAvailable,
		Args:      Arguments{},
		Exports:   Exports{},
		Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
			return New(opts, args.(Arguments), kind)
		},
	}
}

var (
	// SecretRegistration registers remote.kubernetes.secret.
	SecretRegistration = registration("remote.kubernetes.secret", KindSecret)
	// ConfigMapRegistration registers remote.kubernetes.configmap.
	ConfigMapRegistration = registration("remote.kubernetes.configmap", KindConfigMap)
)
