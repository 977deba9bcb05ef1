package scrape

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

// Protocol is a scrape protocol named as Prometheus and Alloy name them in
// scrape_protocols.
type Protocol string

// The protocols a target may be asked for.
const (
	PrometheusProto      Protocol = "PrometheusProto"
	PrometheusText0_0_4  Protocol = "PrometheusText0.0.4"
	PrometheusText1_0_0  Protocol = "PrometheusText1.0.0"
	OpenMetricsText0_0_1 Protocol = "OpenMetricsText0.0.1"
	OpenMetricsText1_0_0 Protocol = "OpenMetricsText1.0.0"
)

// protocolHeaders are the Accept values of each protocol, as Prometheus
// sends them.
var protocolHeaders = map[Protocol]string{
	PrometheusProto:      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	PrometheusText0_0_4:  "text/plain;version=0.0.4",
	PrometheusText1_0_0:  "text/plain;version=1.0.0",
	OpenMetricsText0_0_1: "application/openmetrics-text;version=0.0.1",
	OpenMetricsText1_0_0: "application/openmetrics-text;version=1.0.0",
}

// acceptWeightStart is the q-weight of the most preferred protocol. Prometheus
// v0.316.0 starts at one more than the number of protocols it knows (six,
// counting OpenMetricsText2.0.0), and targets compare these weights, so shoal
// starts at the same 0.7.
const acceptWeightStart = 7

// DefaultProtocols is Alloy's default scrape_protocols.
var DefaultProtocols = []Protocol{OpenMetricsText1_0_0, OpenMetricsText0_0_1, PrometheusText0_0_4}

// ProtoFirstProtocols is the list used when native histograms are wanted and
// the user kept the default list: protobuf is the only exposition format
// that carries them.
var ProtoFirstProtocols = []Protocol{PrometheusProto, OpenMetricsText1_0_0, OpenMetricsText0_0_1, PrometheusText0_0_4}

// Validate reports an unknown protocol.
func (p Protocol) Validate() error {
	if _, ok := protocolHeaders[p]; !ok {
		return fmt.Errorf("unknown scrape protocol %q, supported: %s", string(p),
			strings.Join([]string{string(OpenMetricsText0_0_1), string(OpenMetricsText1_0_0), string(PrometheusProto), string(PrometheusText0_0_4), string(PrometheusText1_0_0)}, ", "))
	}
	return nil
}

// mediaType is the bare media type of p, as textparse wants a fallback.
func (p Protocol) mediaType() string {
	h := protocolHeaders[p]
	if i := strings.IndexByte(h, ';'); i >= 0 {
		return h[:i]
	}
	return h
}

// acceptHeader builds the Accept header for the protocols in order of
// preference, with Prometheus' values and q-weights, ending with */*.
func acceptHeader(ps []Protocol, escaping model.EscapingScheme) string {
	var b strings.Builder
	w := acceptWeightStart
	for _, p := range ps {
		b.WriteString(protocolHeaders[p])
		// The escaping parameter only exists in the newer text formats.
		if p == PrometheusText1_0_0 || p == OpenMetricsText1_0_0 {
			b.WriteString(";" + model.EscapingKey + "=" + escaping.String())
		}
		fmt.Fprintf(&b, ";q=0.%d,", w)
		w--
	}
	fmt.Fprintf(&b, "*/*;q=0.%d", w)
	return b.String()
}

// Config is everything about how one scrape component scrapes, shared by
// all its targets. The zero value is not usable; start from DefaultConfig.
type Config struct {
	// JobName is the job label of targets that have none.
	JobName string
	// Interval and Timeout apply to targets without __scrape_interval__ and
	// __scrape_timeout__ labels. A timeout above the interval is clamped.
	Interval time.Duration
	Timeout  time.Duration
	// MetricsPath, Scheme and Params fill __metrics_path__, __scheme__ and
	// __param_* where the target does not set them.
	MetricsPath string
	Scheme      string
	Params      url.Values

	HonorLabels              bool
	HonorTimestamps          bool
	TrackTimestampsStaleness bool

	// Protocols are offered in order of preference. FallbackProtocol parses
	// a body whose Content-Type is missing or unknown; empty fails it.
	Protocols        []Protocol
	FallbackProtocol Protocol

	// ScrapeNativeHistograms keeps native histograms; otherwise the parser
	// ignores their native parts. AlwaysScrapeClassicHistograms keeps the
	// classic series of a histogram that also has a native form.
	// ConvertClassicHistogramsToNHCB turns classic histograms into native
	// histograms with custom buckets.
	ScrapeNativeHistograms         bool
	AlwaysScrapeClassicHistograms  bool
	ConvertClassicHistogramsToNHCB bool

	EnableCompression bool
	// BodySizeLimit bounds the uncompressed body; 0 means no limit.
	BodySizeLimit int64

	// Limits fail a scrape when exceeded, as Prometheus does; 0 means none.
	SampleLimit                    int
	LabelLimit                     int
	LabelNameLengthLimit           int
	LabelValueLengthLimit          int
	NativeHistogramBucketLimit     int
	NativeHistogramMinBucketFactor float64
	// TargetLimit fails every target of the component while there are more
	// targets than this.
	TargetLimit int

	// ExtraMetrics adds scrape_timeout_seconds, scrape_sample_limit and
	// scrape_body_size_bytes to the report.
	ExtraMetrics bool

	// ValidationScheme decides which metric and label names are valid;
	// EscapingScheme is asked of targets in the Accept header.
	ValidationScheme model.ValidationScheme
	EscapingScheme   model.EscapingScheme

	// HTTPClient configures authentication, TLS, proxies and redirects.
	HTTPClient commoncfg.HTTPClientConfig
	// UserAgent is sent with every scrape.
	UserAgent string

	// MetricRelabel is applied to every scraped series after target labels.
	MetricRelabel []*relabel.Config

	// Clustered makes ownership come from the engine's Cluster; otherwise
	// the engine owns every target. ExcludedLabels are left out of the key.
	Clustered      bool
	ExcludedLabels []string

	// Replicas is the number of nodes that scrape each clustered target:
	// 1 (or 0), its owner; 2, its owner and a hot standby (standby.go).
	Replicas int
}

// DefaultConfig returns Alloy's defaults for prometheus.scrape.
func DefaultConfig() Config {
	return Config{
		Interval:          time.Minute,
		Timeout:           10 * time.Second,
		MetricsPath:       "/metrics",
		Scheme:            "http",
		HonorTimestamps:   true,
		Protocols:         append([]Protocol(nil), DefaultProtocols...),
		FallbackProtocol:  PrometheusText0_0_4,
		EnableCompression: true,
		ValidationScheme:  model.LegacyValidation,
		EscapingScheme:    model.UnderscoreEscaping,
		HTTPClient:        commoncfg.DefaultHTTPClientConfig,
		UserAgent:         "shoal",
	}
}

// Validate checks c before any target uses it.
func (c *Config) Validate() error {
	var errs []error
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("scrape_interval must be positive, got %s", c.Interval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("scrape_timeout must be positive, got %s", c.Timeout))
	}
	if len(c.Protocols) == 0 {
		errs = append(errs, errors.New("scrape_protocols cannot be empty"))
	}
	seen := map[Protocol]bool{}
	for _, p := range c.Protocols {
		if err := p.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("scrape_protocols: %w", err))
		}
		if seen[p] {
			errs = append(errs, fmt.Errorf("scrape_protocols: %q listed twice", string(p)))
		}
		seen[p] = true
	}
	if c.FallbackProtocol != "" {
		if err := c.FallbackProtocol.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("scrape_fallback_protocol: %w", err))
		}
	}
	if c.Scheme != "http" && c.Scheme != "https" {
		errs = append(errs, fmt.Errorf("scheme must be http or https, got %q", c.Scheme))
	}
	if c.BodySizeLimit < 0 || c.SampleLimit < 0 || c.LabelLimit < 0 || c.LabelNameLengthLimit < 0 ||
		c.LabelValueLengthLimit < 0 || c.NativeHistogramBucketLimit < 0 || c.TargetLimit < 0 {
		errs = append(errs, errors.New("limits cannot be negative"))
	}
	if c.Replicas < 0 || c.Replicas > 2 {
		errs = append(errs, fmt.Errorf("clustering replicas must be 1 or 2, got %d", c.Replicas))
	}
	if err := c.HTTPClient.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, rc := range c.MetricRelabel {
		if err := rc.Validate(c.ValidationScheme); err != nil {
			errs = append(errs, fmt.Errorf("metric relabel rule %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
