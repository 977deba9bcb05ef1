package operator

import (
	"context"
	"errors"

	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promk8s "github.com/prometheus/prometheus/discovery/kubernetes"
	promrelabel "github.com/prometheus/prometheus/model/relabel"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	promscrape "github.com/shoal-dev/shoal/internal/component/prometheus/scrape"
	engine "github.com/shoal-dev/shoal/internal/scrape"
)

// Job is one scrape job generated from one endpoint of a resource, as the
// Prometheus Operator would write it into a Prometheus server's
// scrape_configs: a Kubernetes discovery, the relabeling of discovered
// targets, and the scrape settings (metric relabeling and HTTP client
// included).
type Job struct {
	// Name is the job_name, e.g. "serviceMonitor/ns/name/0".
	Name string
	// SD is the kubernetes_sd_configs entry; nil for a job of static
	// targets.
	SD *promk8s.SDConfig
	// Static are the static_configs targets of a Probe.
	Static []discovery.Target
	// Relabel are the relabel_configs, the component's rule blocks first.
	Relabel []*promrelabel.Config
	// Scrape holds everything else; Scrape.JobName is Name.
	Scrape engine.Config
	// KeepDroppedTargets is accepted and not used: shoal keeps no dropped
	// targets.
	KeepDroppedTargets uint64
}

// SecretGetter reads the Secrets and ConfigMaps a resource refers to, in the
// resource's namespace.
type SecretGetter interface {
	Secret(ctx context.Context, namespace string, sel corev1.SecretKeySelector) (string, error)
	ConfigMap(ctx context.Context, namespace string, sel corev1.ConfigMapKeySelector) (string, error)
}

// Generator turns resources into jobs with a component's settings.
type Generator struct {
	Client  SDClient
	Secrets SecretGetter
	// Rules come from the component's rule blocks.
	Rules []*promrelabel.Config
	// Scrape are the defaults of the scrape block.
	Scrape ScrapeOptions
	// Role is the discovery role of ServiceMonitors.
	Role string
	// AllowArbitraryFileAccess lets ServiceMonitor endpoints name files.
	AllowArbitraryFileAccess bool
	// Clustering is the clustering block.
	Clustering promscrape.Clustering
}

// SDClient is how the discoveries reach the API server: the client block.
type SDClient struct {
	KubeConfig string
	APIServer  *url.URL
	HTTP       commoncfg.HTTPClientConfig
}

var invalidLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func sanitize(name string) string { return invalidLabelChar.ReplaceAllString(name, "_") }

// rule builds one relabel rule with Prometheus' defaults for the fields
// left empty, as the operator's YAML leaves them to Prometheus.
type rule struct {
	action      string
	source      []string
	separator   *string
	regex       string
	target      string
	replacement *string
	modulus     uint64
}

func str(s string) *string { return &s }

func (r rule) build() (*promrelabel.Config, error) {
	var c relabel.Config
	c.SetToDefault()
	c.SourceLabels = r.source
	if r.separator != nil {
		c.Separator = *r.separator
	}
	if r.regex != "" {
		c.Regex = r.regex
	}
	c.TargetLabel = r.target
	if r.replacement != nil {
		c.Replacement = *r.replacement
	}
	c.Modulus = r.modulus
	if r.action != "" {
		c.Action = relabel.Action(strings.ToLower(r.action))
	}
	pc, err := c.Prometheus()
	if err != nil {
		return nil, err
	}
	// The operator's rules are checked as a Prometheus server with
	// default settings checks them: legacy label names.
	pc.NameValidationScheme = model.LegacyValidation
	return pc, nil
}

type rules struct {
	out []*promrelabel.Config
	err error
}

func (rs *rules) add(r rule) {
	if rs.err != nil {
		return
	}
	c, err := r.build()
	if err != nil {
		rs.err = err
		return
	}
	rs.out = append(rs.out, c)
}

func (rs *rules) addCRD(what string, in []monitoringv1.RelabelConfig) {
	for i, c := range in {
		var src []string // nil when empty: some actions refuse any source_labels
		for _, l := range c.SourceLabels {
			src = append(src, string(l))
		}
		before := rs.err
		rs.add(rule{action: c.Action, source: src, separator: c.Separator, regex: c.Regex,
			target: c.TargetLabel, replacement: c.Replacement, modulus: uint64(c.Modulus)})
		if before == nil && rs.err != nil {
			rs.err = fmt.Errorf("%s[%d]: %w", what, i, rs.err)
		}
	}
}

// initRules are the component's rules, then the operator's first rule,
// which keeps the job name in __tmp_prometheus_job_name.
func (g *Generator) initRules() *rules {
	rs := &rules{}
	for _, r := range g.Rules {
		c := *r
		rs.out = append(rs.out, &c)
	}
	rs.add(rule{source: []string{"job"}, target: "__tmp_prometheus_job_name"})
	return rs
}

// selectorRules turn a label selector into keep and drop rules on the
// labels of the discovered object (kind is "service" or "pod").
func selectorRules(rs *rules, kind string, sel metav1.LabelSelector) {
	label := "__meta_kubernetes_" + kind + "_label_"
	present := "__meta_kubernetes_" + kind + "_labelpresent_"
	keys := make([]string, 0, len(sel.MatchLabels))
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		rs.add(rule{action: "keep", source: []string{label + sanitize(k), present + sanitize(k)},
			regex: fmt.Sprintf("(%s);true", sel.MatchLabels[k])})
	}
	for _, e := range sel.MatchExpressions {
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			rs.add(rule{action: "keep", source: []string{label + sanitize(e.Key), present + sanitize(e.Key)},
				regex: fmt.Sprintf("(%s);true", strings.Join(e.Values, "|"))})
		case metav1.LabelSelectorOpNotIn:
			rs.add(rule{action: "drop", source: []string{label + sanitize(e.Key), present + sanitize(e.Key)},
				regex: fmt.Sprintf("(%s);true", strings.Join(e.Values, "|"))})
		case metav1.LabelSelectorOpExists:
			rs.add(rule{action: "keep", source: []string{present + sanitize(e.Key)}, regex: "true"})
		case metav1.LabelSelectorOpDoesNotExist:
			rs.add(rule{action: "drop", source: []string{present + sanitize(e.Key)}, regex: "true"})
		}
	}
}

// sdConfig is the kubernetes_sd_configs entry of a resource.
func (g *Generator) sdConfig(role promk8s.Role, ns string, nsSel monitoringv1.NamespaceSelector, attach *monitoringv1.AttachMetadata, mech *monitoringv1.SelectorMechanism, sel metav1.LabelSelector, selRoles []promk8s.Role) (*promk8s.SDConfig, error) {
	c := &promk8s.SDConfig{Role: role, HTTPClientConfig: commoncfg.DefaultHTTPClientConfig}
	switch {
	case nsSel.Any:
	case len(nsSel.MatchNames) == 0:
		c.NamespaceDiscovery.Names = []string{ns}
	default:
		c.NamespaceDiscovery.Names = slices.Clone(nsSel.MatchNames)
	}
	c.KubeConfig = g.Client.KubeConfig
	if g.Client.APIServer != nil {
		c.APIServer = commoncfg.URL{URL: g.Client.APIServer}
		c.HTTPClientConfig = g.Client.HTTP
	}
	if attach != nil && attach.Node != nil {
		c.AttachMetadata.Node = *attach.Node
	}
	if mech != nil && *mech == monitoringv1.SelectorMechanismRole {
		s, err := metav1.LabelSelectorAsSelector(&sel)
		if err != nil {
			return nil, fmt.Errorf("selector: %w", err)
		}
		for _, r := range selRoles {
			c.Selectors = append(c.Selectors, promk8s.SelectorConfig{Role: r, Label: s.String()})
		}
	}
	return c, nil
}

// baseConfig is the scrape configuration before the resource's settings:
// Alloy's defaults for a job generated from a resource, with the scrape
// block's defaults.
func (g *Generator) baseConfig(name string) (engine.Config, error) {
	var a promscrape.Arguments
	a.SetToDefault()
	a.JobName = name
	// A generated job falls back to the text format as Prometheus 2 did.
	a.ScrapeFallbackProtocol = string(engine.PrometheusText0_0_4)
	a.ScrapeNativeHistograms = g.Scrape.ScrapeNativeHistograms
	a.ScrapeClassicHistograms = g.Scrape.ScrapeClassicHistograms
	a.ConvertClassicHistogramsToNHCB = g.Scrape.ConvertClassicHistogramsToNHCB
	a.NativeHistogramBucketLimit = g.Scrape.NativeHistogramBucketLimit
	a.NativeHistogramMinBucketFactor = g.Scrape.NativeHistogramMinBucketFactor
	if g.Scrape.DefaultScrapeInterval > 0 {
		a.ScrapeInterval = g.Scrape.DefaultScrapeInterval
	}
	if g.Scrape.DefaultScrapeTimeout > 0 {
		a.ScrapeTimeout = g.Scrape.DefaultScrapeTimeout
	}
	a.SampleLimit = g.Scrape.DefaultSampleLimit
	a.Clustering = g.Clustering
	return a.Config(name)
}

// endpointSettings are the settings ServiceMonitor and PodMonitor
// endpoints share.
type endpointSettings struct {
	interval, timeout monitoringv1.Duration
	path              string
	scheme            *monitoringv1.Scheme
	params            map[string][]string
	honorLabels       bool
	honorTimestamps   *bool
	trackStaleness    *bool
	http              monitoringv1.HTTPConfigWithoutTLS
	safeTLS           *monitoringv1.SafeTLSConfig
	tls               *monitoringv1.TLSConfig
	proxy             monitoringv1.ProxyConfig
	bearerTokenFile   string
}

// limits are the limits and histogram settings of a resource's spec.
type limits struct {
	sampleLimit, targetLimit, labelLimit, labelNameLengthLimit, labelValueLengthLimit, keepDroppedTargets *int64
	nh                                                                                                    monitoringv1.NativeHistogramConfig
	protocols                                                                                             []monitoringv1.ScrapeProtocol
	fallback                                                                                              *monitoringv1.ScrapeProtocol
	bodySizeLimit                                                                                         *monitoringv1.ByteSize
	extraMetrics                                                                                          *bool
}

func (g *Generator) apply(ctx context.Context, ns string, cfg *engine.Config, ep endpointSettings, l limits) (uint64, error) {
	var err error
	if ep.interval != "" {
		d, err := model.ParseDuration(string(ep.interval))
		if err != nil {
			return 0, fmt.Errorf("interval: %w", err)
		}
		cfg.Interval = time.Duration(d)
	}
	if ep.timeout != "" {
		d, err := model.ParseDuration(string(ep.timeout))
		if err != nil {
			return 0, fmt.Errorf("scrapeTimeout: %w", err)
		}
		cfg.Timeout = time.Duration(d)
	}
	if ep.path != "" {
		cfg.MetricsPath = ep.path
	}
	if ep.params != nil {
		cfg.Params = ep.params
	}
	if ep.scheme != nil && *ep.scheme != "" {
		cfg.Scheme = strings.ToLower(string(*ep.scheme))
	}
	cfg.HonorLabels = ep.honorLabels
	if ep.honorTimestamps != nil {
		cfg.HonorTimestamps = *ep.honorTimestamps
	}
	if ep.trackStaleness != nil {
		cfg.TrackTimestampsStaleness = *ep.trackStaleness
	}
	hc := &cfg.HTTPClient
	if ep.http.FollowRedirects != nil {
		hc.FollowRedirects = *ep.http.FollowRedirects
	}
	if ep.http.EnableHTTP2 != nil {
		hc.EnableHTTP2 = *ep.http.EnableHTTP2
	}
	if err := g.proxy(ctx, ns, hc, ep.proxy); err != nil {
		return 0, err
	}
	if ep.http.OAuth2 != nil {
		if hc.OAuth2, err = g.oauth2(ctx, ns, *ep.http.OAuth2); err != nil {
			return 0, fmt.Errorf("oauth2: %w", err)
		}
	}
	switch {
	case ep.tls != nil:
		if hc.TLSConfig, err = g.tlsConfig(ctx, ns, ep.tls.SafeTLSConfig); err != nil {
			return 0, fmt.Errorf("tlsConfig: %w", err)
		}
		hc.TLSConfig.CAFile, hc.TLSConfig.CertFile, hc.TLSConfig.KeyFile = ep.tls.CAFile, ep.tls.CertFile, ep.tls.KeyFile
	case ep.safeTLS != nil:
		if hc.TLSConfig, err = g.tlsConfig(ctx, ns, *ep.safeTLS); err != nil {
			return 0, fmt.Errorf("tlsConfig: %w", err)
		}
	}
	if ep.bearerTokenFile != "" {
		hc.BearerTokenFile = ep.bearerTokenFile
	}
	if s := ep.http.BearerTokenSecret; s != nil && s.Name != "" {
		v, err := g.Secrets.Secret(ctx, ns, *s)
		if err != nil {
			return 0, fmt.Errorf("bearerTokenSecret: %w", err)
		}
		hc.BearerToken = commoncfg.Secret(v)
	}
	if b := ep.http.BasicAuth; b != nil {
		u, err := g.Secrets.Secret(ctx, ns, b.Username)
		if err != nil {
			return 0, fmt.Errorf("basicAuth username: %w", err)
		}
		p, err := g.Secrets.Secret(ctx, ns, b.Password)
		if err != nil {
			return 0, fmt.Errorf("basicAuth password: %w", err)
		}
		hc.BasicAuth = &commoncfg.BasicAuth{Username: u, Password: commoncfg.Secret(p)}
	}
	if a := ep.http.Authorization; a != nil {
		auth := &commoncfg.Authorization{Type: a.Type}
		if auth.Type == "" {
			auth.Type = "Bearer"
		}
		if a.Credentials != nil {
			v, err := g.Secrets.Secret(ctx, ns, *a.Credentials)
			if err != nil {
				return 0, fmt.Errorf("authorization: %w", err)
			}
			auth.Credentials = commoncfg.Secret(v)
		}
		hc.Authorization = auth
	}

	if l.sampleLimit != nil {
		cfg.SampleLimit = int(*l.sampleLimit)
	}
	set := func(dst *int, v *int64) {
		if v != nil {
			*dst = int(*v)
		}
	}
	set(&cfg.TargetLimit, l.targetLimit)
	set(&cfg.LabelLimit, l.labelLimit)
	set(&cfg.LabelNameLengthLimit, l.labelNameLengthLimit)
	set(&cfg.LabelValueLengthLimit, l.labelValueLengthLimit)
	if l.nh.ScrapeNativeHistograms != nil {
		cfg.ScrapeNativeHistograms = *l.nh.ScrapeNativeHistograms
	}
	if l.nh.ScrapeClassicHistograms != nil {
		cfg.AlwaysScrapeClassicHistograms = *l.nh.ScrapeClassicHistograms
	}
	if l.nh.ConvertClassicHistogramsToNHCB != nil {
		cfg.ConvertClassicHistogramsToNHCB = *l.nh.ConvertClassicHistogramsToNHCB
	}
	set(&cfg.NativeHistogramBucketLimit, l.nh.NativeHistogramBucketLimit)
	if q := l.nh.NativeHistogramMinBucketFactor; q != nil {
		cfg.NativeHistogramMinBucketFactor = q.AsApproximateFloat64()
	}
	if len(l.protocols) > 0 {
		cfg.Protocols = cfg.Protocols[:0]
		for _, p := range l.protocols {
			cfg.Protocols = append(cfg.Protocols, engine.Protocol(p))
		}
		if slices.Contains(cfg.Protocols, engine.PrometheusProto) {
			cfg.ScrapeNativeHistograms = true
		}
	}
	if l.fallback != nil {
		cfg.FallbackProtocol = engine.Protocol(*l.fallback)
	}
	if l.extraMetrics != nil {
		cfg.ExtraMetrics = *l.extraMetrics
	}
	if b := l.bodySizeLimit; b != nil && *b != "" {
		n, err := units.ParseBase2Bytes(string(*b))
		if err != nil {
			return 0, fmt.Errorf("bodySizeLimit: %w", err)
		}
		cfg.BodySizeLimit = int64(n)
	}
	var keep uint64
	if l.keepDroppedTargets != nil {
		keep = uint64(*l.keepDroppedTargets)
	}
	return keep, nil
}

func (g *Generator) proxy(ctx context.Context, ns string, hc *commoncfg.HTTPClientConfig, p monitoringv1.ProxyConfig) error {
	if p.ProxyURL != nil && *p.ProxyURL != "" {
		u, err := url.Parse(*p.ProxyURL)
		if err != nil {
			return fmt.Errorf("proxyUrl: %w", err)
		}
		hc.ProxyURL = commoncfg.URL{URL: u}
	}
	if p.NoProxy != nil {
		hc.NoProxy = *p.NoProxy
	}
	if p.ProxyFromEnvironment != nil {
		hc.ProxyFromEnvironment = *p.ProxyFromEnvironment
	}
	if len(p.ProxyConnectHeader) > 0 {
		hc.ProxyConnectHeader = commoncfg.ProxyHeader{}
		for k, sels := range p.ProxyConnectHeader {
			for _, s := range sels {
				v, err := g.Secrets.Secret(ctx, ns, s)
				if err != nil {
					return fmt.Errorf("proxyConnectHeader %s: %w", k, err)
				}
				hc.ProxyConnectHeader[k] = append(hc.ProxyConnectHeader[k], commoncfg.Secret(v))
			}
		}
	}
	return nil
}

func (g *Generator) secretOrConfigMap(ctx context.Context, ns string, s monitoringv1.SecretOrConfigMap) (string, error) {
	switch {
	case s.Secret != nil:
		return g.Secrets.Secret(ctx, ns, *s.Secret)
	case s.ConfigMap != nil:
		return g.Secrets.ConfigMap(ctx, ns, *s.ConfigMap)
	}
	return "", nil
}

func (g *Generator) tlsConfig(ctx context.Context, ns string, t monitoringv1.SafeTLSConfig) (commoncfg.TLSConfig, error) {
	var tc commoncfg.TLSConfig
	var err error
	if t.InsecureSkipVerify != nil {
		tc.InsecureSkipVerify = *t.InsecureSkipVerify
	}
	if tc.CA, err = g.secretOrConfigMap(ctx, ns, t.CA); err != nil {
		return tc, fmt.Errorf("ca: %w", err)
	}
	if tc.Cert, err = g.secretOrConfigMap(ctx, ns, t.Cert); err != nil {
		return tc, fmt.Errorf("cert: %w", err)
	}
	if t.KeySecret != nil {
		v, err := g.Secrets.Secret(ctx, ns, *t.KeySecret)
		if err != nil {
			return tc, fmt.Errorf("keySecret: %w", err)
		}
		tc.Key = commoncfg.Secret(v)
	}
	if t.ServerName != nil {
		tc.ServerName = *t.ServerName
	}
	if t.MinVersion != nil {
		if err := tc.MinVersion.UnmarshalYAML(func(v any) error { *(v.(*string)) = string(*t.MinVersion); return nil }); err != nil {
			return tc, fmt.Errorf("minVersion: %w", err)
		}
	}
	if t.MaxVersion != nil {
		if err := tc.MaxVersion.UnmarshalYAML(func(v any) error { *(v.(*string)) = string(*t.MaxVersion); return nil }); err != nil {
			return tc, fmt.Errorf("maxVersion: %w", err)
		}
	}
	return tc, nil
}

func (g *Generator) oauth2(ctx context.Context, ns string, o monitoringv1.OAuth2) (*commoncfg.OAuth2, error) {
	id, err := g.secretOrConfigMap(ctx, ns, o.ClientID)
	if err != nil {
		return nil, err
	}
	secret, err := g.Secrets.Secret(ctx, ns, o.ClientSecret)
	if err != nil {
		return nil, err
	}
	c := &commoncfg.OAuth2{ClientID: id, ClientSecret: commoncfg.Secret(secret), TokenURL: string(o.TokenURL),
		Scopes: o.Scopes, EndpointParams: o.EndpointParams}
	if o.TLSConfig != nil {
		if c.TLSConfig, err = g.tlsConfig(ctx, ns, *o.TLSConfig); err != nil {
			return nil, err
		}
	}
	var hc commoncfg.HTTPClientConfig
	if err := g.proxy(ctx, ns, &hc, o.ProxyConfig); err != nil {
		return nil, err
	}
	c.ProxyConfig = hc.ProxyConfig
	return c, nil
}

// metricRules converts a resource's metricRelabelings.
func metricRules(in []monitoringv1.RelabelConfig) ([]*promrelabel.Config, error) {
	rs := &rules{}
	rs.addCRD("metricRelabelings", in)
	return rs.out, rs.err
}

// arbitraryFileField names the first field of a ServiceMonitor endpoint
// that reads a file of the node, or "".
func arbitraryFileField(ep monitoringv1.Endpoint) string {
	switch {
	case ep.BearerTokenFile != "":
		return "bearerTokenFile"
	case ep.TLSConfig == nil:
		return ""
	case ep.TLSConfig.CAFile != "":
		return "tlsConfig.caFile"
	case ep.TLSConfig.CertFile != "":
		return "tlsConfig.certFile"
	case ep.TLSConfig.KeyFile != "":
		return "tlsConfig.keyFile"
	}
	return ""
}

// ServiceMonitor generates the jobs of a ServiceMonitor, one per endpoint.
func (g *Generator) ServiceMonitor(ctx context.Context, m *monitoringv1.ServiceMonitor) ([]Job, error) {
	role := promk8s.RoleEndpoint
	portLabel := "__meta_kubernetes_endpoint_port_name"
	targetKind := []string{"__meta_kubernetes_endpoint_address_target_kind", "__meta_kubernetes_endpoint_address_target_name"}
	r := g.Role
	if m.Spec.ServiceDiscoveryRole != nil {
		r = strings.ToLower(string(*m.Spec.ServiceDiscoveryRole))
	}
	if r == RoleEndpointSlice {
		role = promk8s.RoleEndpointSlice
		portLabel = "__meta_kubernetes_endpointslice_port_name"
		targetKind = []string{"__meta_kubernetes_endpointslice_address_target_kind", "__meta_kubernetes_endpointslice_address_target_name"}
	}
	var jobs []Job
	for i, ep := range m.Spec.Endpoints {
		name := fmt.Sprintf("serviceMonitor/%s/%s/%d", m.Namespace, m.Name, i)
		if !g.AllowArbitraryFileAccess {
			if f := arbitraryFileField(ep); f != "" {
				return nil, fmt.Errorf("%s: endpoint %d uses %s, which is refused because allow_arbitrary_file_access is false", name, i, f)
			}
		}
		job, err := g.serviceMonitorJob(ctx, m, ep, name, role, portLabel, targetKind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

func (g *Generator) serviceMonitorJob(ctx context.Context, m *monitoringv1.ServiceMonitor, ep monitoringv1.Endpoint, name string, role promk8s.Role, portLabel string, targetKind []string) (Job, error) {
	job := Job{Name: name}
	var err error
	if job.SD, err = g.sdConfig(role, m.Namespace, m.Spec.NamespaceSelector, m.Spec.AttachMetadata, m.Spec.SelectorMechanism, m.Spec.Selector, []promk8s.Role{role, promk8s.RoleService}); err != nil {
		return job, err
	}
	if job.Scrape, err = g.baseConfig(name); err != nil {
		return job, err
	}
	s := m.Spec
	job.KeepDroppedTargets, err = g.apply(ctx, m.Namespace, &job.Scrape, endpointSettings{
		interval: ep.Interval, timeout: ep.ScrapeTimeout, path: ep.Path, scheme: ep.Scheme, params: ep.Params,
		honorLabels: ep.HonorLabels, honorTimestamps: ep.HonorTimestamps, trackStaleness: ep.TrackTimestampsStaleness,
		http: ep.HTTPConfigWithoutTLS, tls: ep.TLSConfig, proxy: ep.ProxyConfig, bearerTokenFile: ep.BearerTokenFile,
	}, limits{
		sampleLimit: s.SampleLimit, targetLimit: s.TargetLimit, labelLimit: s.LabelLimit,
		labelNameLengthLimit: s.LabelNameLengthLimit, labelValueLengthLimit: s.LabelValueLengthLimit,
		keepDroppedTargets: s.KeepDroppedTargets, nh: s.NativeHistogramConfig, protocols: s.ScrapeProtocols,
		fallback: s.FallbackScrapeProtocol, bodySizeLimit: s.BodySizeLimit, extraMetrics: s.ExtraScrapeMetrics,
	})
	if err != nil {
		return job, err
	}

	rs := g.initRules()
	if s.SelectorMechanism == nil || *s.SelectorMechanism == monitoringv1.SelectorMechanismRelabel {
		selectorRules(rs, "service", s.Selector)
	}
	switch {
	case ep.Port != "":
		rs.add(rule{action: "keep", source: []string{portLabel}, regex: ep.Port})
	case ep.TargetPort != nil && ep.TargetPort.StrVal != "":
		rs.add(rule{action: "keep", source: []string{"__meta_kubernetes_pod_container_port_name"}, regex: ep.TargetPort.String()})
	case ep.TargetPort != nil && ep.TargetPort.IntVal != 0:
		rs.add(rule{action: "keep", source: []string{"__meta_kubernetes_pod_container_port_number"}, regex: strconv.Itoa(ep.TargetPort.IntValue())})
	}
	rs.add(rule{source: targetKind, separator: str(";"), regex: "Node;(.*)", replacement: str("${1}"), target: "node"})
	rs.add(rule{source: targetKind, separator: str(";"), regex: "Pod;(.*)", replacement: str("${1}"), target: "pod"})
	rs.add(rule{source: []string{"__meta_kubernetes_namespace"}, target: "namespace"})
	rs.add(rule{source: []string{"__meta_kubernetes_service_name"}, target: "service"})
	rs.add(rule{source: []string{"__meta_kubernetes_pod_name"}, target: "pod"})
	rs.add(rule{source: []string{"__meta_kubernetes_pod_container_name"}, target: "container"})
	if ep.FilterRunning == nil || *ep.FilterRunning {
		rs.add(rule{action: "drop", source: []string{"__meta_kubernetes_pod_phase"}, regex: "(Failed|Succeeded)"})
	}
	for _, l := range s.TargetLabels {
		rs.add(rule{source: []string{"__meta_kubernetes_service_label_" + sanitize(l)}, target: sanitize(l), regex: "(.+)", replacement: str("${1}")})
	}
	for _, l := range s.PodTargetLabels {
		rs.add(rule{source: []string{"__meta_kubernetes_pod_label_" + sanitize(l)}, target: sanitize(l), regex: "(.+)", replacement: str("${1}")})
	}
	rs.add(rule{source: []string{"__meta_kubernetes_service_name"}, target: "job", replacement: str("${1}")})
	if s.JobLabel != "" {
		rs.add(rule{source: []string{"__meta_kubernetes_service_label_" + sanitize(s.JobLabel)}, target: "job", regex: "(.+)", replacement: str("${1}")})
	}
	switch {
	case ep.Port != "":
		rs.add(rule{target: "endpoint", replacement: str(ep.Port)})
	case ep.TargetPort != nil && ep.TargetPort.String() != "":
		rs.add(rule{target: "endpoint", replacement: str(ep.TargetPort.String())})
	}
	rs.addCRD("relabelings", ep.RelabelConfigs)
	if rs.err != nil {
		return job, rs.err
	}
	job.Relabel = rs.out
	if job.Scrape.MetricRelabel, err = metricRules(ep.MetricRelabelConfigs); err != nil {
		return job, err
	}
	return job, job.Scrape.Validate()
}

// PodMonitor generates the jobs of a PodMonitor, one per endpoint.
func (g *Generator) PodMonitor(ctx context.Context, m *monitoringv1.PodMonitor) ([]Job, error) {
	var jobs []Job
	for i, ep := range m.Spec.PodMetricsEndpoints {
		name := fmt.Sprintf("podMonitor/%s/%s/%d", m.Namespace, m.Name, i)
		job, err := g.podMonitorJob(ctx, m, ep, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

func (g *Generator) podMonitorJob(ctx context.Context, m *monitoringv1.PodMonitor, ep monitoringv1.PodMetricsEndpoint, name string) (Job, error) {
	job := Job{Name: name}
	var err error
	s := m.Spec
	if job.SD, err = g.sdConfig(promk8s.RolePod, m.Namespace, s.NamespaceSelector, s.AttachMetadata, s.SelectorMechanism, s.Selector, []promk8s.Role{promk8s.RolePod}); err != nil {
		return job, err
	}
	if job.Scrape, err = g.baseConfig(name); err != nil {
		return job, err
	}
	job.KeepDroppedTargets, err = g.apply(ctx, m.Namespace, &job.Scrape, endpointSettings{
		interval: ep.Interval, timeout: ep.ScrapeTimeout, path: ep.Path, scheme: ep.Scheme, params: ep.Params,
		honorLabels: ep.HonorLabels, honorTimestamps: ep.HonorTimestamps, trackStaleness: ep.TrackTimestampsStaleness,
		http: ep.HTTPConfigWithoutTLS, safeTLS: ep.TLSConfig, proxy: ep.ProxyConfig,
	}, limits{
		sampleLimit: s.SampleLimit, targetLimit: s.TargetLimit, labelLimit: s.LabelLimit,
		labelNameLengthLimit: s.LabelNameLengthLimit, labelValueLengthLimit: s.LabelValueLengthLimit,
		keepDroppedTargets: s.KeepDroppedTargets, nh: s.NativeHistogramConfig, protocols: s.ScrapeProtocols,
		fallback: s.FallbackScrapeProtocol, bodySizeLimit: s.BodySizeLimit, extraMetrics: s.ExtraScrapeMetrics,
	})
	if err != nil {
		return job, err
	}
	rs := g.initRules()
	if ep.FilterRunning == nil || *ep.FilterRunning {
		rs.add(rule{action: "drop", source: []string{"__meta_kubernetes_pod_phase"}, regex: "(Failed|Succeeded)"})
	}
	if s.SelectorMechanism == nil || *s.SelectorMechanism == monitoringv1.SelectorMechanismRelabel {
		selectorRules(rs, "pod", s.Selector)
	}
	switch {
	case ep.Port != nil && *ep.Port != "":
		rs.add(rule{action: "keep", source: []string{"__meta_kubernetes_pod_container_port_name"}, regex: *ep.Port})
	case ep.PortNumber != nil && *ep.PortNumber != 0:
		rs.add(rule{action: "keep", source: []string{"__meta_kubernetes_pod_container_port_number"}, regex: strconv.Itoa(int(*ep.PortNumber))})
	case ep.TargetPort != nil && ep.TargetPort.StrVal != "":
		rs.add(rule{action: "keep", source: []string{"__meta_kubernetes_pod_container_port_name"}, regex: ep.TargetPort.String()})
	case ep.TargetPort != nil && ep.TargetPort.IntVal != 0:
		rs.add(rule{action: "keep", source: []string{"__meta_kubernetes_pod_container_port_number"}, regex: strconv.Itoa(ep.TargetPort.IntValue())})
	}
	rs.add(rule{source: []string{"__meta_kubernetes_namespace"}, target: "namespace"})
	rs.add(rule{source: []string{"__meta_kubernetes_pod_container_name"}, target: "container"})
	rs.add(rule{source: []string{"__meta_kubernetes_pod_name"}, target: "pod"})
	for _, l := range s.PodTargetLabels {
		rs.add(rule{source: []string{"__meta_kubernetes_pod_label_" + sanitize(l)}, target: sanitize(l), regex: "(.+)", replacement: str("${1}")})
	}
	rs.add(rule{target: "job", replacement: str(m.Namespace + "/" + m.Name)})
	if s.JobLabel != "" {
		rs.add(rule{source: []string{"__meta_kubernetes_pod_label_" + sanitize(s.JobLabel)}, target: "job", regex: "(.+)", replacement: str("${1}")})
	}
	switch {
	case ep.Port != nil && *ep.Port != "":
		rs.add(rule{target: "endpoint", replacement: str(*ep.Port)})
	case ep.TargetPort != nil && ep.TargetPort.String() != "":
		rs.add(rule{target: "endpoint", replacement: str(ep.TargetPort.String())})
	}
	rs.addCRD("relabelings", ep.RelabelConfigs)
	if rs.err != nil {
		return job, rs.err
	}
	job.Relabel = rs.out
	if job.Scrape.MetricRelabel, err = metricRules(ep.MetricRelabelConfigs); err != nil {
		return job, err
	}
	return job, job.Scrape.Validate()
}

// Probe generates the job of a Probe: static targets, or the Ingresses
// its selector picks, probed through the prober.
func (g *Generator) Probe(ctx context.Context, m *monitoringv1.Probe) ([]Job, error) {
	name := fmt.Sprintf("probe/%s/%s", m.Namespace, m.Name)
	job, err := g.probeJob(ctx, m, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return []Job{job}, nil
}

func (g *Generator) probeJob(ctx context.Context, m *monitoringv1.Probe, name string) (Job, error) {
	job := Job{Name: name}
	var err error
	s := m.Spec
	if job.Scrape, err = g.baseConfig(name); err != nil {
		return job, err
	}
	path := s.ProberSpec.Path
	if path == "" {
		path = "/probe"
	}
	params := map[string][]string{}
	if s.Module != "" {
		params["module"] = []string{s.Module}
	}
	for _, p := range s.Params {
		if s.Module != "" && p.Name == "module" {
			continue
		}
		params[p.Name] = p.Values
	}
	if len(params) == 0 {
		params = nil
	}
	job.KeepDroppedTargets, err = g.apply(ctx, m.Namespace, &job.Scrape, endpointSettings{
		interval: s.Interval, timeout: s.ScrapeTimeout, path: path, scheme: s.ProberSpec.Scheme, params: params,
		honorTimestamps: ptrTo(true), http: s.HTTPConfigWithoutTLS, safeTLS: s.TLSConfig, proxy: s.ProberSpec.ProxyConfig,
	}, limits{
		sampleLimit: s.SampleLimit, targetLimit: s.TargetLimit, labelLimit: s.LabelLimit,
		labelNameLengthLimit: s.LabelNameLengthLimit, labelValueLengthLimit: s.LabelValueLengthLimit,
		keepDroppedTargets: s.KeepDroppedTargets, nh: s.NativeHistogramConfig, protocols: s.ScrapeProtocols,
		fallback: s.FallbackScrapeProtocol, extraMetrics: s.ExtraScrapeMetrics,
	})
	if err != nil {
		return job, err
	}
	rs := g.initRules()
	if s.JobName != "" {
		rs.add(rule{target: "job", replacement: str(s.JobName)})
	}
	switch {
	case s.Targets.StaticConfig != nil:
		sc := s.Targets.StaticConfig
		lbls := map[string]string{}
		for k, v := range sc.Labels {
			lbls[k] = v
		}
		if _, ok := lbls["namespace"]; !ok {
			lbls["namespace"] = m.Namespace
		}
		for _, t := range sc.Targets {
			tl := discovery.Target{model.AddressLabel: t}
			for k, v := range lbls {
				tl[k] = v
			}
			job.Static = append(job.Static, tl)
		}
		rs.add(rule{source: []string{"__address__"}, target: "__param_target"})
		rs.add(rule{source: []string{"__param_target"}, target: "instance"})
		rs.add(rule{target: "__address__", replacement: str(s.ProberSpec.URL)})
		rs.addCRD("relabelingConfigs", sc.RelabelConfigs)
	case s.Targets.Ingress != nil:
		in := s.Targets.Ingress
		selectorRules(rs, "ingress", in.Selector)
		if job.SD, err = g.sdConfig(promk8s.RoleIngress, m.Namespace, in.NamespaceSelector, nil, nil, in.Selector, nil); err != nil {
			return job, err
		}
		rs.add(rule{action: "replace", source: []string{"__meta_kubernetes_ingress_scheme", "__address__", "__meta_kubernetes_ingress_path"},
			separator: str(";"), regex: "(.+);(.+);(.+)", target: "__param_target", replacement: str("${1}://${2}${3}")})
		rs.add(rule{source: []string{"__meta_kubernetes_namespace"}, target: "namespace"})
		rs.add(rule{source: []string{"__meta_kubernetes_ingress_name"}, target: "ingress"})
		rs.add(rule{action: "replace", source: []string{"__address__"}, separator: str(";"), regex: "(.*)", target: "__tmp_ingress_address", replacement: str("$1")})
		rs.add(rule{source: []string{"__param_target"}, target: "instance"})
		rs.add(rule{target: "__address__", replacement: str(s.ProberSpec.URL)})
		rs.addCRD("relabelingConfigs", in.RelabelConfigs)
	default:
		return job, errors.New("the probe has neither static nor ingress targets")
	}
	if rs.err != nil {
		return job, rs.err
	}
	job.Relabel = rs.out
	if job.Scrape.MetricRelabel, err = metricRules(s.MetricRelabelConfigs); err != nil {
		return job, err
	}
	return job, job.Scrape.Validate()
}

func ptrTo[T any](v T) *T { return &v }

// ScrapeConfig generates the job of a ScrapeConfig (monitoring.coreos.com
// v1alpha1). Of its discoveries, static configs are supported; Alloy
// implements static and HTTP discovery, and shoal does not implement HTTP
// discovery here yet: a resource that uses it is refused with an error in
// the debug info.
func (g *Generator) ScrapeConfig(ctx context.Context, m *monitoringv1alpha1.ScrapeConfig) ([]Job, error) {
	name := fmt.Sprintf("scrapeConfig/%s/%s", m.Namespace, m.Name)
	job, err := g.scrapeConfigJob(ctx, m, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return []Job{job}, nil
}

func (g *Generator) scrapeConfigJob(ctx context.Context, m *monitoringv1alpha1.ScrapeConfig, name string) (Job, error) {
	job := Job{Name: name}
	s := m.Spec
	if len(s.HTTPSDConfigs) > 0 {
		return job, errors.New("httpSDConfigs are not supported by shoal yet; only staticConfigs are")
	}
	if n := len(s.FileSDConfigs) + len(s.KubernetesSDConfigs) + len(s.ConsulSDConfigs) + len(s.DNSSDConfigs) +
		len(s.EC2SDConfigs) + len(s.AzureSDConfigs) + len(s.GCESDConfigs) + len(s.OpenStackSDConfigs) +
		len(s.DigitalOceanSDConfigs) + len(s.KumaSDConfigs) + len(s.EurekaSDConfigs) + len(s.DockerSDConfigs) +
		len(s.LinodeSDConfigs) + len(s.HetznerSDConfigs) + len(s.NomadSDConfigs) + len(s.DockerSwarmSDConfigs) +
		len(s.PuppetDBSDConfigs) + len(s.LightSailSDConfigs) + len(s.OVHCloudSDConfigs) + len(s.ScalewaySDConfigs) +
		len(s.IonosSDConfigs); n > 0 {
		return job, errors.New("only staticConfigs are supported (as in Alloy, which supports static and HTTP discovery)")
	}
	var err error
	if job.Scrape, err = g.baseConfig(name); err != nil {
		return job, err
	}
	ep := endpointSettings{
		params: s.Params, scheme: s.Scheme, honorTimestamps: s.HonorTimestamps, trackStaleness: s.TrackTimestampsStaleness,
		safeTLS: s.TLSConfig, proxy: s.ProxyConfig,
		http: monitoringv1.HTTPConfigWithoutTLS{Authorization: s.Authorization, BasicAuth: s.BasicAuth, OAuth2: s.OAuth2, EnableHTTP2: s.EnableHTTP2},
	}
	if s.ScrapeInterval != nil {
		ep.interval = *s.ScrapeInterval
	}
	if s.ScrapeTimeout != nil {
		ep.timeout = *s.ScrapeTimeout
	}
	if s.MetricsPath != nil {
		ep.path = *s.MetricsPath
	}
	if s.HonorLabels != nil {
		ep.honorLabels = *s.HonorLabels
	}
	job.KeepDroppedTargets, err = g.apply(ctx, m.Namespace, &job.Scrape, ep, limits{
		sampleLimit: s.SampleLimit, targetLimit: s.TargetLimit, labelLimit: s.LabelLimit,
		labelNameLengthLimit: s.LabelNameLengthLimit, labelValueLengthLimit: s.LabelValueLengthLimit,
		keepDroppedTargets: s.KeepDroppedTargets, nh: s.NativeHistogramConfig, protocols: s.ScrapeProtocols,
		fallback: s.FallbackScrapeProtocol, bodySizeLimit: s.BodySizeLimit, extraMetrics: s.ExtraScrapeMetrics,
	})
	if err != nil {
		return job, err
	}
	if s.EnableCompression != nil {
		job.Scrape.EnableCompression = *s.EnableCompression
	}
	for _, sc := range s.StaticConfigs {
		for _, t := range sc.Targets {
			tl := discovery.Target{model.AddressLabel: string(t)}
			for k, v := range sc.Labels {
				tl[k] = v
			}
			job.Static = append(job.Static, tl)
		}
	}
	rs := g.initRules()
	if s.JobName != nil && *s.JobName != "" {
		rs.add(rule{target: "job", replacement: str(*s.JobName)})
	}
	rs.addCRD("relabelings", s.RelabelConfigs)
	if rs.err != nil {
		return job, rs.err
	}
	job.Relabel = rs.out
	if job.Scrape.MetricRelabel, err = metricRules(s.MetricRelabelConfigs); err != nil {
		return job, err
	}
	return job, job.Scrape.Validate()
}
