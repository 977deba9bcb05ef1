// Package kubelet is the discovery.kubelet component: one target per
// container port (or per container without ports) of the pods a kubelet
// runs, read from the kubelet's /pods endpoint every refresh_interval.
// Unlike discovery.kubernetes it needs no API server: a DaemonSet asks its
// own node's kubelet.
//
// It owns the Alloy arguments, the discoverer (Alloy has its own, not
// Prometheus') and the pod labels, which are discovery.kubernetes' pod
// role labels. Running it is the parent discovery package.
package kubelet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/refresh"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/util/strutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are discovery.kubelet's arguments.
type Arguments struct {
	URL              string                     `alloy:"url,attr,optional"`
	RefreshInterval  time.Duration              `alloy:"refresh_interval,attr,optional"`
	Namespaces       []string                   `alloy:"namespaces,attr,optional"`
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`
}

// DefaultArguments are Alloy's: the local kubelet's HTTPS port, polled
// every five seconds.
var DefaultArguments = Arguments{
	URL:              "https://localhost:10250",
	RefreshInterval:  5 * time.Second,
	HTTPClientConfig: discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the URL, the interval and the client settings.
func (a *Arguments) Validate() error {
	_, err := a.SDConfig()
	return err
}

// SDConfig converts the arguments to a prometheus discovery config.
func (a *Arguments) SDConfig() (*SDConfig, error) {
	u, err := url.Parse(a.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("invalid url %q: it needs a scheme and a host", a.URL)
	}
	if a.RefreshInterval <= 0 {
		return nil, fmt.Errorf("refresh_interval must be positive, got %s", a.RefreshInterval)
	}
	hc, err := a.HTTPClientConfig.Prometheus()
	if err != nil {
		return nil, err
	}
	return &SDConfig{
		PodsURL:          strings.TrimSuffix(a.URL, "/") + "/pods",
		RefreshInterval:  a.RefreshInterval,
		Namespaces:       slices.Clone(a.Namespaces),
		HTTPClientConfig: hc,
	}, nil
}

// SDConfig is the discoverer's configuration, a prometheus discovery
// config.
type SDConfig struct {
	PodsURL          string
	RefreshInterval  time.Duration
	Namespaces       []string
	HTTPClientConfig config.HTTPClientConfig
}

// Name is the mechanism's name in prometheus' refresh metrics.
func (*SDConfig) Name() string { return "kubelet" }

// NewDiscovererMetrics returns the refresh metrics only: the discoverer
// has none of its own.
func (*SDConfig) NewDiscovererMetrics(_ prometheus.Registerer, rmi promdiscovery.RefreshMetricsInstantiator) promdiscovery.DiscovererMetrics {
	return &metrics{refresh: rmi}
}

type metrics struct {
	refresh promdiscovery.RefreshMetricsInstantiator
}

func (*metrics) Register() error { return nil }
func (*metrics) Unregister()     {}

// NewDiscoverer builds the refresh-loop discoverer.
func (c *SDConfig) NewDiscoverer(opts promdiscovery.DiscovererOptions) (promdiscovery.Discoverer, error) {
	m, ok := opts.Metrics.(*metrics)
	if !ok {
		return nil, errors.New("invalid discovery metrics type")
	}
	rt, err := config.NewRoundTripperFromConfig(c.HTTPClientConfig, "kubelet_sd")
	if err != nil {
		return nil, err
	}
	d := &discoverer{
		client:     &http.Client{Transport: rt, Timeout: 30 * time.Second},
		url:        c.PodsURL,
		namespaces: c.Namespaces,
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return refresh.NewDiscovery(refresh.Options{
		Logger:              logger,
		Mech:                "kubelet",
		SetName:             opts.SetName,
		Interval:            c.RefreshInterval,
		RefreshF:            d.refresh,
		MetricsInstantiator: m.refresh,
	}), nil
}

// discoverer lists the kubelet's pods.
type discoverer struct {
	client     *http.Client
	url        string
	namespaces []string
	last       map[string]bool // sources of the previous refresh
}

// maxPodsBody bounds the /pods answer read into memory.
const maxPodsBody = 256 << 20

func (d *discoverer) refresh(ctx context.Context) ([]*targetgroup.Group, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("listing the kubelet's pods: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("listing the kubelet's pods: %s", resp.Status)
	}
	var pods corev1.PodList
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPodsBody)).Decode(&pods); err != nil {
		return nil, fmt.Errorf("decoding the kubelet's pods: %w", err)
	}
	return d.groups(pods), nil
}

// groups turns a pod list into one group per pod, and an empty group for
// each pod of the previous list that is gone.
func (d *discoverer) groups(pods corev1.PodList) []*targetgroup.Group {
	seen := make(map[string]bool, len(pods.Items))
	var out []*targetgroup.Group
	for i := range pods.Items {
		pod := &pods.Items[i]
		if len(d.namespaces) > 0 && !slices.Contains(d.namespaces, pod.Namespace) {
			continue
		}
		g := podGroup(pod)
		seen[g.Source] = true
		out = append(out, g)
	}
	for src := range d.last {
		if !seen[src] {
			out = append(out, &targetgroup.Group{Source: src})
		}
	}
	d.last = seen
	return out
}

const prefix = model.MetaLabelPrefix + "kubernetes_"

// podGroup is the group of one pod: no targets while it has no IP.
func podGroup(pod *corev1.Pod) *targetgroup.Group {
	g := &targetgroup.Group{Source: "pod/" + pod.Namespace + "/" + pod.Name}
	if pod.Status.PodIP == "" {
		return g
	}
	g.Labels = podLabels(pod)
	all := append(slices.Clone(pod.Spec.Containers), pod.Spec.InitContainers...)
	for i, c := range all {
		init := i >= len(pod.Spec.Containers)
		statuses := pod.Status.ContainerStatuses
		if init {
			statuses = pod.Status.InitContainerStatuses
		}
		id := ""
		for _, s := range statuses {
			if s.Name == c.Name {
				id = s.ContainerID
				break
			}
		}
		base := model.LabelSet{
			prefix + "pod_container_name":  model.LabelValue(c.Name),
			prefix + "pod_container_id":    model.LabelValue(id),
			prefix + "pod_container_image": model.LabelValue(c.Image),
			prefix + "pod_container_init":  model.LabelValue(strconv.FormatBool(init)),
		}
		if len(c.Ports) == 0 {
			t := base.Clone()
			t[model.AddressLabel] = model.LabelValue(pod.Status.PodIP)
			g.Targets = append(g.Targets, t)
			continue
		}
		for _, p := range c.Ports {
			port := strconv.FormatUint(uint64(p.ContainerPort), 10)
			t := base.Clone()
			t[model.AddressLabel] = model.LabelValue(net.JoinHostPort(pod.Status.PodIP, port))
			t[prefix+"pod_container_port_number"] = model.LabelValue(port)
			t[prefix+"pod_container_port_name"] = model.LabelValue(p.Name)
			t[prefix+"pod_container_port_protocol"] = model.LabelValue(p.Protocol)
			g.Targets = append(g.Targets, t)
		}
	}
	return g
}

func podLabels(pod *corev1.Pod) model.LabelSet {
	ready := "unknown"
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			ready = strings.ToLower(string(c.Status))
		}
	}
	ls := model.LabelSet{
		prefix + "namespace":     model.LabelValue(pod.Namespace),
		prefix + "pod_name":      model.LabelValue(pod.Name),
		prefix + "pod_ip":        model.LabelValue(pod.Status.PodIP),
		prefix + "pod_ready":     model.LabelValue(ready),
		prefix + "pod_phase":     model.LabelValue(pod.Status.Phase),
		prefix + "pod_node_name": model.LabelValue(pod.Spec.NodeName),
		prefix + "pod_host_ip":   model.LabelValue(pod.Status.HostIP),
		prefix + "pod_uid":       model.LabelValue(pod.UID),
	}
	if owner := metav1.GetControllerOf(pod); owner != nil {
		if owner.Kind != "" {
			ls[prefix+"pod_controller_kind"] = model.LabelValue(owner.Kind)
		}
		if owner.Name != "" {
			ls[prefix+"pod_controller_name"] = model.LabelValue(owner.Name)
		}
	}
	for k, v := range pod.Labels {
		n := strutil.SanitizeLabelName(k)
		ls[model.LabelName(prefix+"pod_label_"+n)] = model.LabelValue(v)
		ls[model.LabelName(prefix+"pod_labelpresent_"+n)] = "true"
	}
	for k, v := range pod.Annotations {
		n := strutil.SanitizeLabelName(k)
		ls[model.LabelName(prefix+"pod_annotation_"+n)] = model.LabelValue(v)
		ls[model.LabelName(prefix+"pod_annotationpresent_"+n)] = "true"
	}
	return ls
}

func convert(args component.Arguments) (promdiscovery.Config, error) {
	a := args.(Arguments)
	return a.SDConfig()
}

// New builds a discovery.kubelet component.
func New(opts component.Options, args Arguments) (*discovery.Component, error) {
	return discovery.New(opts, args, convert, discovery.Mechanism{})
}

// Registration registers discovery.kubelet.
var Registration = component.Registration{
	Name:      "discovery.kubelet",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
