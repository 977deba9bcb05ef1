package scrape

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/sample"
	engine "github.com/shoal-dev/shoal/internal/scrape"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are prometheus.scrape's arguments, with Alloy's names and
// defaults.
type Arguments struct {
	Targets   []discovery.Target `alloy:"targets,attr"`
	ForwardTo []sample.Receiver  `alloy:"forward_to,attr"`

	// JobName defaults to the component's ID, e.g.
	// "prometheus.scrape.default".
	JobName      string `alloy:"job_name,attr,optional"`
	ExtraMetrics bool   `alloy:"extra_metrics,attr,optional"`
	// EnableProtobufNegotiation is deprecated: it puts PrometheusProto
	// first in scrape_protocols.
	EnableProtobufNegotiation bool                `alloy:"enable_protobuf_negotiation,attr,optional"`
	HonorLabels               bool                `alloy:"honor_labels,attr,optional"`
	HonorTimestamps           bool                `alloy:"honor_timestamps,attr,optional"`
	TrackTimestampsStaleness  bool                `alloy:"track_timestamps_staleness,attr,optional"`
	Params                    map[string][]string `alloy:"params,attr,optional"`
	// ScrapeClassicHistograms keeps the classic series of histograms that
	// also have a native form.
	ScrapeClassicHistograms bool `alloy:"scrape_classic_histograms,attr,optional"`
	// ScrapeNativeHistograms keeps native histograms. They are also kept
	// whenever PrometheusProto is negotiated, as older Alloy releases did.
	ScrapeNativeHistograms         bool          `alloy:"scrape_native_histograms,attr,optional"`
	ConvertClassicHistogramsToNHCB bool          `alloy:"convert_classic_histograms_to_nhcb,attr,optional"`
	ScrapeInterval                 time.Duration `alloy:"scrape_interval,attr,optional"`
	ScrapeTimeout                  time.Duration `alloy:"scrape_timeout,attr,optional"`
	ScrapeProtocols                []string      `alloy:"scrape_protocols,attr,optional"`
	ScrapeFallbackProtocol         string        `alloy:"scrape_fallback_protocol,attr,optional"`
	MetricsPath                    string        `alloy:"metrics_path,attr,optional"`
	Scheme                         string        `alloy:"scheme,attr,optional"`
	BodySizeLimit                  types.Size    `alloy:"body_size_limit,attr,optional"`
	SampleLimit                    uint          `alloy:"sample_limit,attr,optional"`
	TargetLimit                    uint          `alloy:"target_limit,attr,optional"`
	LabelLimit                     uint          `alloy:"label_limit,attr,optional"`
	LabelNameLengthLimit           uint          `alloy:"label_name_length_limit,attr,optional"`
	LabelValueLengthLimit          uint          `alloy:"label_value_length_limit,attr,optional"`
	NativeHistogramBucketLimit     uint          `alloy:"native_histogram_bucket_limit,attr,optional"`
	NativeHistogramMinBucketFactor float64       `alloy:"native_histogram_min_bucket_factor,attr,optional"`
	EnableCompression              bool          `alloy:"enable_compression,attr,optional"`
	MetricNameValidationScheme     string        `alloy:"metric_name_validation_scheme,attr,optional"`
	MetricNameEscapingScheme       string        `alloy:"metric_name_escaping_scheme,attr,optional"`

	// HTTPClientConfig holds basic_auth, authorization, oauth2, tls_config,
	// bearer_token(_file), proxy_url, follow_redirects and enable_http2.
	HTTPClientConfig discovery.HTTPClientConfig `alloy:",squash"`

	Clustering Clustering `alloy:"clustering,block,optional"`
}

// Clustering is the clustering block.
type Clustering struct {
	// Enabled splits the targets between the nodes of the cluster.
	Enabled bool `alloy:"enabled,attr"`
	// ExcludedLabels are left out of the target key, for labels that
	// differ between nodes (such as a node's own hostname).
	ExcludedLabels []string `alloy:"excluded_labels,attr,optional"`
	// Replicas is shoal's own: 2 gives every target a hot standby that
	// scrapes it too and sends what a crashed owner could not (see
	// docs/clustering.md). 1, the default, is Alloy's behaviour.
	Replicas int `alloy:"replicas,attr,optional"`
}

// DefaultArguments are Alloy's defaults.
var DefaultArguments = Arguments{
	HonorTimestamps:            true,
	ScrapeInterval:             time.Minute,
	ScrapeTimeout:              10 * time.Second,
	ScrapeProtocols:            []string{"OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText0.0.4"},
	ScrapeFallbackProtocol:     "PrometheusText0.0.4",
	MetricsPath:                "/metrics",
	Scheme:                     "http",
	EnableCompression:          true,
	MetricNameValidationScheme: "legacy",
	MetricNameEscapingScheme:   "underscores",
	HTTPClientConfig:           discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() {
	*a = DefaultArguments
	a.ScrapeProtocols = slices.Clone(DefaultArguments.ScrapeProtocols)
}

// Validate checks the arguments on their own; the job name and the
// ownership are only known to the component.
func (a *Arguments) Validate() error {
	_, err := a.Config("prometheus.scrape.validate")
	return err
}

// Config converts the arguments to the engine's configuration. id is the
// component's ID, the default job name.
func (a *Arguments) Config(id string) (engine.Config, error) {
	cfg := engine.DefaultConfig()
	cfg.JobName = a.JobName
	if cfg.JobName == "" {
		cfg.JobName = id
	}
	cfg.Interval, cfg.Timeout = a.ScrapeInterval, a.ScrapeTimeout
	cfg.MetricsPath, cfg.Scheme = a.MetricsPath, a.Scheme
	cfg.Params = a.Params
	cfg.HonorLabels, cfg.HonorTimestamps, cfg.TrackTimestampsStaleness = a.HonorLabels, a.HonorTimestamps, a.TrackTimestampsStaleness
	cfg.AlwaysScrapeClassicHistograms = a.ScrapeClassicHistograms
	cfg.ConvertClassicHistogramsToNHCB = a.ConvertClassicHistogramsToNHCB
	cfg.EnableCompression = a.EnableCompression
	cfg.BodySizeLimit = a.BodySizeLimit.Bytes()
	cfg.SampleLimit = int(a.SampleLimit)
	cfg.TargetLimit = int(a.TargetLimit)
	cfg.LabelLimit = int(a.LabelLimit)
	cfg.LabelNameLengthLimit = int(a.LabelNameLengthLimit)
	cfg.LabelValueLengthLimit = int(a.LabelValueLengthLimit)
	cfg.NativeHistogramBucketLimit = int(a.NativeHistogramBucketLimit)
	cfg.NativeHistogramMinBucketFactor = a.NativeHistogramMinBucketFactor
	cfg.ExtraMetrics = a.ExtraMetrics
	cfg.Clustered = a.Clustering.Enabled
	cfg.ExcludedLabels = a.Clustering.ExcludedLabels
	cfg.Replicas = a.Clustering.Replicas

	var errs []error
	cfg.Protocols = cfg.Protocols[:0]
	for _, p := range a.ScrapeProtocols {
		cfg.Protocols = append(cfg.Protocols, engine.Protocol(p))
	}
	defaultList := slices.Equal(a.ScrapeProtocols, DefaultArguments.ScrapeProtocols)
	if a.EnableProtobufNegotiation || (a.ScrapeNativeHistograms && defaultList) {
		cfg.Protocols = slices.Clone(engine.ProtoFirstProtocols)
	}
	cfg.ScrapeNativeHistograms = a.ScrapeNativeHistograms || slices.Contains(cfg.Protocols, engine.PrometheusProto)
	cfg.FallbackProtocol = engine.Protocol(a.ScrapeFallbackProtocol)

	switch a.MetricNameValidationScheme {
	case "legacy":
		cfg.ValidationScheme = model.LegacyValidation
	case "utf8":
		cfg.ValidationScheme = model.UTF8Validation
	default:
		errs = append(errs, fmt.Errorf("metric_name_validation_scheme must be \"legacy\" or \"utf8\", got %q", a.MetricNameValidationScheme))
	}
	esc, err := model.ToEscapingScheme(a.MetricNameEscapingScheme)
	if err != nil {
		errs = append(errs, fmt.Errorf("metric_name_escaping_scheme: %w", err))
	} else {
		cfg.EscapingScheme = esc
		if cfg.ValidationScheme == model.LegacyValidation && esc == model.NoEscaping {
			errs = append(errs, errors.New(`metric_name_escaping_scheme "allow-utf-8" needs metric_name_validation_scheme "utf8"`))
		}
	}
	if cfg.HTTPClient, err = a.HTTPClientConfig.Prometheus(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		if err := cfg.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return cfg, errors.Join(errs...)
}
