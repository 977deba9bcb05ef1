package remotewrite

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	engine "github.com/shoal-dev/shoal/internal/remotewrite"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are prometheus.remote_write's arguments, with Alloy's names and
// defaults.
type Arguments struct {
	ExternalLabels map[string]string  `alloy:"external_labels,attr,optional"`
	Endpoints      []*EndpointOptions `alloy:"endpoint,block,optional"`
	WAL            WALOptions         `alloy:"wal,block,optional"`
}

// EndpointOptions is one `endpoint` block.
type EndpointOptions struct {
	Name                 string                  `alloy:"name,attr,optional"`
	URL                  EndpointURL             `alloy:"url,attr"`
	RemoteTimeout        time.Duration           `alloy:"remote_timeout,attr,optional"`
	Headers              map[string]types.Secret `alloy:"headers,attr,optional"`
	SendExemplars        bool                    `alloy:"send_exemplars,attr,optional"`
	SendNativeHistograms bool                    `alloy:"send_native_histograms,attr,optional"`
	// RetryOnHTTP400ByBisection splits a request the receiver rejects
	// with 400 (or 413) and sends the halves again, instead of dropping
	// it (shoal's own; default false). See docs/reference.md.
	RetryOnHTTP400ByBisection bool `alloy:"retry_on_http_400_by_bisection,attr,optional"`
	// ProtobufMessage is "prometheus.WriteRequest" (remote write 1.0,
	// the default) or "io.prometheus.write.v2.Request" (2.0), as in Alloy.
	ProtobufMessage string `alloy:"protobuf_message,attr,optional"`
	// HTTPClientConfig holds basic_auth, authorization, oauth2,
	// bearer_token(_file), tls_config, the proxy settings,
	// follow_redirects and enable_http2.
	HTTPClientConfig    discovery.HTTPClientConfig `alloy:",squash"`
	QueueOptions        QueueOptions               `alloy:"queue_config,block,optional"`
	MetadataOptions     MetadataOptions            `alloy:"metadata_config,block,optional"`
	WriteRelabelConfigs []relabel.Config           `alloy:"write_relabel_config,block,optional"`
	// SigV4, AzureAD and GoogleIAM authenticate with AWS, Azure AD or
	// Google Cloud; at most one authentication per endpoint.
	SigV4     *SigV4Config     `alloy:"sigv4,block,optional"`
	AzureAD   *AzureADConfig   `alloy:"azuread,block,optional"`
	GoogleIAM *GoogleIAMConfig `alloy:"google_iam,block,optional"`
	// RoundRobinDNS spreads new connections across every address the
	// URL's host name resolves to.
	RoundRobinDNS bool `alloy:"round_robin_dns,attr,optional"`
}

// errTooManyAuth is Alloy's message for an endpoint with two
// authentications.
var errTooManyAuth = errors.New("at most one of sigv4, azuread, google_iam, basic_auth, oauth2, bearer_token & bearer_token_file must be configured")

// Validate checks one endpoint block: at most one authentication, as in
// Alloy (authorization counts as one too), and sigv4, azuread or
// google_iam in the default build (not with -tags shoal_lean).
func (e *EndpointOptions) Validate() error {
	if err := e.HTTPClientConfig.Validate(); err != nil {
		return err
	}
	n := 0
	for _, set := range []bool{e.SigV4 != nil, e.AzureAD != nil, e.GoogleIAM != nil, e.httpAuth()} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errTooManyAuth
	}
	if e.SigV4 != nil || e.AzureAD != nil || e.GoogleIAM != nil {
		return engine.ErrCloudAuthLeftOut()
	}
	return nil
}

func (e *EndpointOptions) httpAuth() bool {
	h := &e.HTTPClientConfig
	return h.BasicAuth != nil || h.OAuth2 != nil || h.Authorization != nil || h.BearerToken != "" || h.BearerTokenFile != ""
}

// SigV4Config is the `sigv4` block.
type SigV4Config struct {
	Region             string       `alloy:"region,attr,optional"`
	AccessKey          string       `alloy:"access_key,attr,optional"`
	SecretKey          types.Secret `alloy:"secret_key,attr,optional"`
	Profile            string       `alloy:"profile,attr,optional"`
	RoleARN            string       `alloy:"role_arn,attr,optional"`
	ExternalID         string       `alloy:"external_id,attr,optional"`
	UseFIPSSTSEndpoint bool         `alloy:"use_fips_sts_endpoint,attr,optional"`
	ServiceName        string       `alloy:"service_name,attr,optional"`
}

// Validate checks a sigv4 block as Alloy does.
func (s *SigV4Config) Validate() error {
	if (s.AccessKey == "") != (s.SecretKey == "") {
		return errors.New("must provide an AWS SigV4 access key and secret key if credentials are specified in the SigV4 config")
	}
	if s.ExternalID != "" && s.RoleARN == "" {
		return errors.New("external_id can only be used with role_arn")
	}
	return nil
}

// GoogleIAMConfig is the `google_iam` block.
type GoogleIAMConfig struct {
	CredentialsFile string `alloy:"credentials_file,attr,optional"`
}

// AzureADConfig is the `azuread` block.
type AzureADConfig struct {
	ManagedIdentity  *AzureManagedIdentity  `alloy:"managed_identity,block,optional"`
	WorkloadIdentity *AzureWorkloadIdentity `alloy:"workload_identity,block,optional"`
	OAuth            *AzureOAuth            `alloy:"oauth,block,optional"`
	SDK              *AzureSDK              `alloy:"sdk,block,optional"`
	Cloud            string                 `alloy:"cloud,attr,optional"`
	Scope            string                 `alloy:"scope,attr,optional"`
}

// AzureManagedIdentity is `azuread > managed_identity`.
type AzureManagedIdentity struct {
	ClientID string `alloy:"client_id,attr"`
}

// AzureWorkloadIdentity is `azuread > workload_identity`.
type AzureWorkloadIdentity struct {
	ClientID      string `alloy:"client_id,attr"`
	TenantID      string `alloy:"tenant_id,attr"`
	TokenFilePath string `alloy:"token_file_path,attr,optional"`
}

// AzureOAuth is `azuread > oauth`.
type AzureOAuth struct {
	ClientID     string       `alloy:"client_id,attr"`
	ClientSecret types.Secret `alloy:"client_secret,attr"`
	TenantID     string       `alloy:"tenant_id,attr"`
}

// AzureSDK is `azuread > sdk`.
type AzureSDK struct {
	TenantID string `alloy:"tenant_id,attr,optional"`
}

// Azure clouds.
const (
	AzurePublic     = "AzurePublic"
	AzureChina      = "AzureChina"
	AzureGovernment = "AzureGovernment"
)

// SetToDefault sets cloud to AzurePublic.
func (a *AzureADConfig) SetToDefault() { *a = AzureADConfig{Cloud: AzurePublic} }

var (
	uuidRe   = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)
	tenantRe = regexp.MustCompile(`^[0-9a-zA-Z-.]+$`)
	scopeRe  = regexp.MustCompile(`^[\w\s:/.\-]+$`)
)

// isUUID accepts what github.com/google/uuid's Parse accepts in practice:
// a GUID with or without hyphens, optionally in braces or as a urn.
func isUUID(s string) bool {
	s = strings.TrimPrefix(strings.ToLower(s), "urn:uuid:")
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = s[1 : len(s)-1]
	}
	return uuidRe.MatchString(s) && (len(s) == 32 || len(s) == 36)
}

// Validate checks an azuread block with Alloy's rules and messages.
func (a *AzureADConfig) Validate() error {
	switch a.Cloud {
	case AzurePublic, AzureChina, AzureGovernment:
	default:
		return fmt.Errorf("must provide a cloud in the Azure AD config (AzurePublic, AzureChina or AzureGovernment), got %q", a.Cloud)
	}
	n := 0
	for _, set := range []bool{a.ManagedIdentity != nil, a.WorkloadIdentity != nil, a.OAuth != nil, a.SDK != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return errors.New("must provide an Azure Managed Identity, Azure Workload Identity, Azure OAuth or Azure SDK in the Azure AD config")
	case n > 1:
		return errors.New("cannot provide multiple authentication methods in the Azure AD config")
	}
	if m := a.ManagedIdentity; m != nil && !isUUID(m.ClientID) {
		return errors.New("the provided Azure Managed Identity client_id is invalid")
	}
	if w := a.WorkloadIdentity; w != nil {
		if !isUUID(w.ClientID) {
			return errors.New("the provided Azure Workload Identity client_id is invalid")
		}
		if !isUUID(w.TenantID) {
			return errors.New("the provided Azure Workload Identity tenant_id is invalid")
		}
	}
	if o := a.OAuth; o != nil {
		switch {
		case o.ClientSecret == "":
			return errors.New("must provide an Azure OAuth client_secret in the Azure AD config")
		case !isUUID(o.ClientID):
			return errors.New("the provided Azure OAuth client_id is invalid")
		case !tenantRe.MatchString(o.TenantID):
			return errors.New("the provided Azure OAuth tenant_id is invalid")
		}
	}
	if s := a.SDK; s != nil && s.TenantID != "" && !tenantRe.MatchString(s.TenantID) {
		return errors.New("the provided Azure SDK tenant_id is invalid")
	}
	if a.Scope != "" && !scopeRe.MatchString(a.Scope) {
		return errors.New("the provided scope contains invalid characters")
	}
	return nil
}

// EndpointURL is an endpoint's url. It decodes from a string as given, and
// shows (in the UI, the API and messages) with any password redacted, as
// net/url's Redacted does.
type EndpointURL string

// UnmarshalText keeps the URL as written.
func (u *EndpointURL) UnmarshalText(b []byte) error {
	*u = EndpointURL(b)
	return nil
}

// MarshalText is the URL with its password redacted.
func (u EndpointURL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// String is the URL with its password redacted.
func (u EndpointURL) String() string { return engine.RedactURL(string(u)) }

// QueueOptions is the `queue_config` block.
type QueueOptions struct {
	Capacity          int           `alloy:"capacity,attr,optional"`
	MaxShards         int           `alloy:"max_shards,attr,optional"`
	MinShards         int           `alloy:"min_shards,attr,optional"`
	MaxSamplesPerSend int           `alloy:"max_samples_per_send,attr,optional"`
	BatchSendDeadline time.Duration `alloy:"batch_send_deadline,attr,optional"`
	MinBackoff        time.Duration `alloy:"min_backoff,attr,optional"`
	MaxBackoff        time.Duration `alloy:"max_backoff,attr,optional"`
	RetryOnHTTP429    bool          `alloy:"retry_on_http_429,attr,optional"`
	SampleAgeLimit    time.Duration `alloy:"sample_age_limit,attr,optional"`
}

// MetadataOptions is the `metadata_config` block: whether and how often the
// HELP, TYPE and UNIT of every metric family the scrapes saw are sent in
// remote write 1.0 metadata requests (a 2.0 request carries each series'
// metadata inline, when send is true).
type MetadataOptions struct {
	Send              bool          `alloy:"send,attr,optional"`
	SendInterval      time.Duration `alloy:"send_interval,attr,optional"`
	MaxSamplesPerSend int           `alloy:"max_samples_per_send,attr,optional"`
}

// WALOptions is the `wal` block. Alloy's truncate_frequency and
// min_keepalive_time are accepted and unused (shoal's queue deletes a
// segment as soon as every endpoint has sent it). max_keepalive_time bounds
// the age of queued data, as in Alloy; max_size, shoal's own, bounds its
// size on disk. Past either bound the oldest data is dropped and counted in
// prometheus_remote_storage_samples_dropped_total{reason="queue_full"} or
// {reason="too_old"}.
type WALOptions struct {
	TruncateFrequency time.Duration `alloy:"truncate_frequency,attr,optional"`
	MinKeepaliveTime  time.Duration `alloy:"min_keepalive_time,attr,optional"`
	MaxKeepaliveTime  time.Duration `alloy:"max_keepalive_time,attr,optional"`
	MaxSize           types.Size    `alloy:"max_size,attr,optional"`
}

// Defaults, as in Alloy (shoal's max_size: 1 GiB).
var (
	DefaultQueueOptions = QueueOptions{
		Capacity:          engine.DefaultQueueConfig.Capacity,
		MaxShards:         engine.DefaultQueueConfig.MaxShards,
		MinShards:         engine.DefaultQueueConfig.MinShards,
		MaxSamplesPerSend: engine.DefaultQueueConfig.MaxSamplesPerSend,
		BatchSendDeadline: engine.DefaultQueueConfig.BatchSendDeadline,
		MinBackoff:        engine.DefaultQueueConfig.MinBackoff,
		MaxBackoff:        engine.DefaultQueueConfig.MaxBackoff,
		RetryOnHTTP429:    true,
	}
	DefaultMetadataOptions = MetadataOptions{Send: true, SendInterval: time.Minute, MaxSamplesPerSend: 2000}
	DefaultWALOptions      = WALOptions{
		TruncateFrequency: 2 * time.Hour,
		MinKeepaliveTime:  5 * time.Minute,
		MaxKeepaliveTime:  8 * time.Hour,
		MaxSize:           types.Size(engine.DefaultMaxBytes),
	}
)

// SetToDefault sets the defaults of the component.
func (a *Arguments) SetToDefault() { *a = Arguments{WAL: DefaultWALOptions} }

// SetToDefault sets an endpoint's defaults: remote_timeout 30s,
// send_exemplars true, send_native_histograms false, HTTP/2 off,
// redirects followed.
func (e *EndpointOptions) SetToDefault() {
	*e = EndpointOptions{
		RemoteTimeout:    30 * time.Second,
		SendExemplars:    true,
		HTTPClientConfig: discovery.DefaultHTTPClientConfig,
		QueueOptions:     DefaultQueueOptions,
		MetadataOptions:  DefaultMetadataOptions,
		ProtobufMessage:  engine.ProtoV1,
	}
	e.HTTPClientConfig.EnableHTTP2 = false
}

// SetToDefault sets queue_config's defaults.
func (q *QueueOptions) SetToDefault() { *q = DefaultQueueOptions }

// SetToDefault sets metadata_config's defaults.
func (m *MetadataOptions) SetToDefault() { *m = DefaultMetadataOptions }

// SetToDefault sets wal's defaults.
func (w *WALOptions) SetToDefault() { *w = DefaultWALOptions }

// Validate checks the arguments as a whole.
func (a *Arguments) Validate() error {
	_, err := a.config()
	if err == nil && a.WAL.MaxSize < 0 {
		err = fmt.Errorf("wal: max_size must not be negative")
	}
	return err
}

// Validate checks one queue_config block.
func (q *QueueOptions) Validate() error {
	switch {
	case q.MaxShards < 1:
		return fmt.Errorf("max_shards must be at least 1, got %d", q.MaxShards)
	case q.MinShards < 1:
		return fmt.Errorf("min_shards must be at least 1, got %d", q.MinShards)
	case q.MinShards > q.MaxShards:
		return fmt.Errorf("min_shards (%d) must not exceed max_shards (%d)", q.MinShards, q.MaxShards)
	case q.MaxSamplesPerSend < 1:
		return fmt.Errorf("max_samples_per_send must be at least 1, got %d", q.MaxSamplesPerSend)
	case q.BatchSendDeadline <= 0:
		return fmt.Errorf("batch_send_deadline must be positive")
	case q.MinBackoff <= 0 || q.MaxBackoff < q.MinBackoff:
		return fmt.Errorf("min_backoff must be positive and max_backoff at least min_backoff")
	}
	return nil
}

// config converts the arguments into the engine's config.
func (a *Arguments) config() (engine.Config, error) {
	var cfg engine.Config
	names := make([]string, 0, len(a.ExternalLabels))
	for n := range a.ExternalLabels {
		names = append(names, n)
	}
	sort.Strings(names)
	sb := labels.NewScratchBuilder(len(names))
	for _, n := range names {
		sb.Add(n, a.ExternalLabels[n])
	}
	cfg.ExternalLabels = sb.Labels()
	seen := make(map[string]int)
	for i, e := range a.Endpoints {
		ec, err := e.config()
		if err != nil {
			return cfg, fmt.Errorf("endpoint %d (%s): %w", i+1, e.URL, err)
		}
		id := ec.Name
		if id == "" {
			id = engine.RedactURL(ec.URL)
		}
		if j, dup := seen[id]; dup {
			return cfg, fmt.Errorf("endpoints %d and %d are both named %q; give them distinct names", j+1, i+1, id)
		}
		seen[id] = i
		cfg.Endpoints = append(cfg.Endpoints, ec)
	}
	return cfg, nil
}

func (e *EndpointOptions) config() (engine.EndpointConfig, error) {
	// Like Alloy, accept any URL that parses: documentation examples use
	// placeholders such as "<PROMETHEUS_REMOTE_WRITE_URL>", and a URL that
	// cannot be sent to fails at send time, visibly in health and metrics.
	if _, err := url.Parse(string(e.URL)); err != nil {
		// url.Error quotes the URL: show it redacted instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return engine.EndpointConfig{}, fmt.Errorf("url %q is not a valid URL: %w", e.URL.String(), err)
	}
	if err := e.QueueOptions.Validate(); err != nil {
		return engine.EndpointConfig{}, fmt.Errorf("queue_config: %w", err)
	}
	if e.RemoteTimeout <= 0 {
		return engine.EndpointConfig{}, fmt.Errorf("remote_timeout must be positive")
	}
	switch e.ProtobufMessage {
	case engine.ProtoV1, engine.ProtoV2, "":
	default:
		return engine.EndpointConfig{}, fmt.Errorf("protobuf_message must be %q or %q, got %q", engine.ProtoV1, engine.ProtoV2, e.ProtobufMessage)
	}
	if m := e.MetadataOptions; m.Send && (m.SendInterval <= 0 || m.MaxSamplesPerSend < 1) {
		return engine.EndpointConfig{}, fmt.Errorf("metadata_config: send_interval must be positive and max_samples_per_send at least 1")
	}
	hc, err := e.HTTPClientConfig.Prometheus()
	if err != nil {
		return engine.EndpointConfig{}, err
	}
	rules, err := relabel.Rules(e.WriteRelabelConfigs).Prometheus()
	if err != nil {
		return engine.EndpointConfig{}, fmt.Errorf("write_relabel_config: %w", err)
	}
	var headers map[string]string
	if len(e.Headers) > 0 {
		headers = make(map[string]string, len(e.Headers))
		for k, v := range e.Headers {
			headers[k] = string(v)
		}
	}
	if err := e.Validate(); err != nil {
		return engine.EndpointConfig{}, err
	}
	q := e.QueueOptions
	return engine.EndpointConfig{
		SigV4:                e.SigV4.engine(),
		AzureAD:              e.AzureAD.engine(),
		GoogleIAM:            e.GoogleIAM.engine(),
		RoundRobinDNS:        e.RoundRobinDNS,
		Name:                 e.Name,
		URL:                  string(e.URL),
		BisectOn400:          e.RetryOnHTTP400ByBisection,
		ProtobufMessage:      e.ProtobufMessage,
		MetadataSend:         e.MetadataOptions.Send,
		MetadataInterval:     e.MetadataOptions.SendInterval,
		MetadataMaxPerSend:   e.MetadataOptions.MaxSamplesPerSend,
		RemoteTimeout:        e.RemoteTimeout,
		Headers:              headers,
		SendExemplars:        e.SendExemplars,
		SendNativeHistograms: e.SendNativeHistograms,
		HTTPClient:           hc,
		WriteRelabel:         rules,
		Queue: engine.QueueConfig{
			Capacity:          q.Capacity,
			MaxShards:         q.MaxShards,
			MinShards:         q.MinShards,
			MaxSamplesPerSend: q.MaxSamplesPerSend,
			BatchSendDeadline: q.BatchSendDeadline,
			MinBackoff:        q.MinBackoff,
			MaxBackoff:        q.MaxBackoff,
			RetryOnHTTP429:    q.RetryOnHTTP429,
			SampleAgeLimit:    q.SampleAgeLimit,
		},
	}, nil
}

func (s *SigV4Config) engine() *engine.SigV4Config {
	if s == nil {
		return nil
	}
	return &engine.SigV4Config{
		Region: s.Region, AccessKey: s.AccessKey, SecretKey: string(s.SecretKey), Profile: s.Profile,
		RoleARN: s.RoleARN, ExternalID: s.ExternalID, UseFIPSSTSEndpoint: s.UseFIPSSTSEndpoint, ServiceName: s.ServiceName,
	}
}

func (g *GoogleIAMConfig) engine() *engine.GoogleIAMConfig {
	if g == nil {
		return nil
	}
	return &engine.GoogleIAMConfig{CredentialsFile: g.CredentialsFile}
}

func (a *AzureADConfig) engine() *engine.AzureADConfig {
	if a == nil {
		return nil
	}
	c := &engine.AzureADConfig{Cloud: a.Cloud, Scope: a.Scope}
	if m := a.ManagedIdentity; m != nil {
		c.ManagedIdentity = &engine.AzureManagedIdentity{ClientID: m.ClientID}
	}
	if w := a.WorkloadIdentity; w != nil {
		c.WorkloadIdentity = &engine.AzureWorkloadIdentity{ClientID: w.ClientID, TenantID: w.TenantID, TokenFilePath: w.TokenFilePath}
	}
	if o := a.OAuth; o != nil {
		c.OAuth = &engine.AzureOAuth{ClientID: o.ClientID, ClientSecret: string(o.ClientSecret), TenantID: o.TenantID}
	}
	if s := a.SDK; s != nil {
		c.SDK = &engine.AzureSDK{TenantID: s.TenantID}
	}
	return c
}
