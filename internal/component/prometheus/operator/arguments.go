// Package operator is the prometheus.operator.servicemonitors,
// prometheus.operator.podmonitors, prometheus.operator.probes and
// prometheus.operator.scrapeconfigs components: they watch the Prometheus
// Operator's custom resources through the Kubernetes API and scrape what
// each one describes, as the Prometheus Operator would configure a
// Prometheus server for it.
//
// It owns the Alloy arguments, the translation of each resource into scrape
// jobs (gen.go: service discovery, relabeling, scrape settings and the
// credentials read from Secrets), and the running of those jobs
// (component.go): one shared Kubernetes discoverer per distinct discovery
// config, target relabeling, and one scrape engine per job. Scraping and
// clustered ownership are internal/scrape's, exactly as for
// prometheus.scrape: with the clustering block each target is split across
// the fleet on the tick grid with the same handoff.
package operator

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	promscrape "github.com/shoal-dev/shoal/internal/component/prometheus/scrape"
	remotek8s "github.com/shoal-dev/shoal/internal/component/remote/kubernetes"
	"github.com/shoal-dev/shoal/internal/sample"
)

// Arguments are the arguments every prometheus.operator.* component takes.
type Arguments struct {
	// Client says how to reach the API server.
	Client    remotek8s.ClientArguments `alloy:"client,block,optional"`
	ForwardTo []sample.Receiver         `alloy:"forward_to,attr"`
	// Namespaces to watch for resources; empty means all.
	Namespaces []string `alloy:"namespaces,attr,optional"`
	// KubernetesRole is the discovery role of ServiceMonitors: endpoints
	// or endpointslice.
	KubernetesRole string `alloy:"kubernetes_role,attr,optional"`
	// Selector filters the resources by their labels.
	Selector   *LabelSelector        `alloy:"selector,block,optional"`
	Clustering promscrape.Clustering `alloy:"clustering,block,optional"`
	// Rules are relabeling rules applied to every target before those of
	// the resource.
	Rules               []relabel.Config `alloy:"rule,block,optional"`
	Scrape              ScrapeOptions    `alloy:"scrape,block,optional"`
	InformerSyncTimeout time.Duration    `alloy:"informer_sync_timeout,attr,optional"`
}

// ScrapeOptions is the scrape block: the defaults of every job.
type ScrapeOptions struct {
	DefaultScrapeInterval          time.Duration `alloy:"default_scrape_interval,attr,optional"`
	DefaultScrapeTimeout           time.Duration `alloy:"default_scrape_timeout,attr,optional"`
	DefaultSampleLimit             uint          `alloy:"default_sample_limit,attr,optional"`
	ScrapeNativeHistograms         bool          `alloy:"scrape_native_histograms,attr,optional"`
	ScrapeClassicHistograms        bool          `alloy:"scrape_classic_histograms,attr,optional"`
	ConvertClassicHistogramsToNHCB bool          `alloy:"convert_classic_histograms_to_nhcb,attr,optional"`
	NativeHistogramBucketLimit     uint          `alloy:"native_histogram_bucket_limit,attr,optional"`
	NativeHistogramMinBucketFactor float64       `alloy:"native_histogram_min_bucket_factor,attr,optional"`
	// HonorMetadata, EnableTypeAndUnitLabels and
	// StartTimestampZeroIngestion are accepted for compatibility; shoal
	// always forwards metadata and does neither of the other two.
	HonorMetadata               bool `alloy:"honor_metadata,attr,optional"`
	EnableTypeAndUnitLabels     bool `alloy:"enable_type_and_unit_labels,attr,optional"`
	StartTimestampZeroIngestion bool `alloy:"start_timestamp_zero_ingestion,attr,optional"`
}

// LabelSelector is the selector block, a Kubernetes label selector.
type LabelSelector struct {
	MatchLabels      map[string]string          `alloy:"match_labels,attr,optional"`
	MatchExpressions []LabelSelectorRequirement `alloy:"match_expression,block,optional"`
}

// LabelSelectorRequirement is one match_expression block.
type LabelSelectorRequirement struct {
	Key      string   `alloy:"key,attr"`
	Operator string   `alloy:"operator,attr"`
	Values   []string `alloy:"values,attr,optional"`
}

// Selector builds the Kubernetes selector; nil selects everything.
func (s *LabelSelector) Selector() (labels.Selector, error) {
	if s == nil {
		return labels.Everything(), nil
	}
	ls := &metav1.LabelSelector{MatchLabels: s.MatchLabels}
	for _, e := range s.MatchExpressions {
		ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: e.Key, Operator: metav1.LabelSelectorOperator(e.Operator), Values: e.Values,
		})
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	return sel, nil
}

// Roles of ServiceMonitor discovery.
const (
	RoleEndpoints     = "endpoints"
	RoleEndpointSlice = "endpointslice"
)

// DefaultArguments are Alloy's defaults.
var DefaultArguments = Arguments{
	Client:              remotek8s.DefaultClientArguments,
	KubernetesRole:      RoleEndpoints,
	InformerSyncTimeout: time.Minute,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the arguments as Alloy does.
func (a *Arguments) Validate() error {
	if a.KubernetesRole != RoleEndpoints && a.KubernetesRole != RoleEndpointSlice {
		return errors.New("only endpoints and endpointslice are supported")
	}
	if err := a.Client.Validate(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if _, err := a.Selector.Selector(); err != nil {
		return err
	}
	if _, err := relabel.Rules(a.Rules).Prometheus(); err != nil {
		return err
	}
	if a.InformerSyncTimeout <= 0 {
		return errors.New("informer_sync_timeout must be greater than 0")
	}
	return nil
}

// ServiceMonitorArguments are prometheus.operator.servicemonitors's
// arguments.
type ServiceMonitorArguments struct {
	Arguments `alloy:",squash"`
	// AllowArbitraryFileAccess lets endpoints name files on the node
	// (bearerTokenFile, tlsConfig.caFile, certFile and keyFile).
	AllowArbitraryFileAccess bool `alloy:"allow_arbitrary_file_access,attr,optional"`
}

// SetToDefault sets Alloy's defaults.
func (a *ServiceMonitorArguments) SetToDefault() {
	*a = ServiceMonitorArguments{Arguments: DefaultArguments}
}

// Validate checks the arguments as Alloy does.
func (a *ServiceMonitorArguments) Validate() error { return a.Arguments.Validate() }
