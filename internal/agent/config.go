package agent

import (
	"errors"
	"flag"
	"time"

	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Config is what `shoal run` is given on its command line.
type Config struct {
	// ConfigFile is the path of the Alloy-syntax configuration.
	ConfigFile string
	// ListenAddr is --server.http.listen-addr; gossip shares it.
	ListenAddr string
	// UIPathPrefix is --server.http.ui-path-prefix: the UI and
	// /api/v0/web are served below it, as in Alloy.
	UIPathPrefix string
	// StoragePath is --storage.path: the disk queues live below it.
	StoragePath string
	// ShutdownTimeout bounds a graceful stop after SIGTERM: the handoff
	// delay, the last scrapes and the remote-write flush all fit in it.
	ShutdownTimeout time.Duration
	// EnablePprof mounts /debug/pprof (--server.http.enable-pprof).
	EnablePprof bool
	// StabilityLevel is --stability.level: components, blocks and
	// functions below it are refused.
	StabilityLevel stability.Level
	// CommunityComponents is --feature.community-components.enabled.
	CommunityComponents bool
	// DisableReporting is Alloy's --disable-reporting. shoal never reports
	// usage, so it changes nothing; it is accepted so that Alloy command
	// lines work unchanged.
	DisableReporting bool

	Cluster cluster.Config
	Version string
}

// Defaults of `shoal run`.
const (
	DefaultListenAddr      = "127.0.0.1:12345"
	DefaultStoragePath     = "data-shoal/"
	DefaultShutdownTimeout = 30 * time.Second
)

// RegisterFlags binds the run flags that are not --cluster.* to fs, and the
// --cluster.* flags of Alloy that shoal refuses.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ListenAddr, "server.http.listen-addr", DefaultListenAddr, "address to serve the UI, API, metrics and gossip on")
	fs.StringVar(&c.UIPathPrefix, "server.http.ui-path-prefix", "/", "base path of the UI and of /api/v0/web")
	fs.StringVar(&c.StoragePath, "storage.path", DefaultStoragePath, "directory for the remote-write disk queues")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", DefaultShutdownTimeout, "how long a graceful stop (handoff, last scrapes, queue flush) may take after SIGTERM")
	fs.BoolVar(&c.EnablePprof, "server.http.enable-pprof", true, "serve /debug/pprof")
	RegisterFeatureFlags(fs, &c.StabilityLevel, &c.CommunityComponents)
	fs.BoolVar(&c.DisableReporting, "disable-reporting", false, "accepted for compatibility with Alloy; shoal never reports usage, so it changes nothing")
	fs.Var(refusedFlag("shoal does not discover peers through cloud provider APIs (go-discover); "+
		"list them with --cluster.join-addresses, which takes host:port, DNS names (A/AAAA) and dnssrv+NAME"),
		"cluster.discover-peers", "refused: shoal does not discover peers through cloud provider APIs; use --cluster.join-addresses")
	for _, f := range alloyRunFlags {
		fs.Var(f, f.name, f.usage)
	}
}

// alloyFlag is one of Alloy's other run flags: the values shoal already
// honours are accepted, any other is refused with the reason.
type alloyFlag struct {
	name, usage string
	isBool      bool
	accept      func(string) bool
	reason      string
	def         string
}

func (f *alloyFlag) String() string {
	if f == nil {
		return ""
	}
	return f.def
}
func (f *alloyFlag) IsBoolFlag() bool { return f.isBool }
func (f *alloyFlag) Set(v string) error {
	if f.accept != nil && f.accept(v) {
		return nil
	}
	return errors.New(f.reason)
}

func anyValue(string) bool        { return true }
func isFalse(v string) bool       { return v == "false" || v == "0" }
func isAlloySyntax(v string) bool { return v == "alloy" }

// alloyRunFlags are Alloy's `run` flags beyond those shoal implements.
var alloyRunFlags = []*alloyFlag{
	{name: "config.format", usage: `only "alloy": shoal reads the Alloy syntax, and converts nothing`, def: "alloy", accept: isAlloySyntax,
		reason: "shoal reads the Alloy syntax only: convert the file first with `alloy convert`"},
	{name: "config.bypass-conversion-errors", usage: "refused: shoal converts nothing", isBool: true, def: "false", accept: isFalse,
		reason: "shoal converts no other config format, so there are no conversion errors to bypass"},
	{name: "config.extra-args", usage: "refused: shoal converts nothing",
		reason: "shoal converts no other config format, so it takes no converter arguments"},
	{name: "server.http.memory-addr", usage: "refused: shoal has no in-memory HTTP traffic",
		reason: "shoal has no in-memory HTTP listener: its components do not call each other over HTTP"},
	{name: "server.http.disable-support-bundle", usage: "accepted: shoal has no support bundle endpoint", isBool: true, def: "false", accept: anyValue},
	{name: "server.http.enable-graphql", usage: "refused when true: shoal has no GraphQL API", isBool: true, def: "false", accept: isFalse,
		reason: "shoal has no GraphQL API: use the JSON API under /api/v0/web"},
	{name: "server.http.enable-graphql-playground", usage: "refused when true: shoal has no GraphQL API", isBool: true, def: "false", accept: isFalse,
		reason: "shoal has no GraphQL API or playground: use the JSON API under /api/v0/web"},
	{name: "feature.component-shutdown-deadline", usage: "refused: use --shutdown.timeout",
		reason: "shoal bounds the whole graceful stop with --shutdown.timeout instead of a deadline per component"},
	{name: "feature.prometheus.direct-fanout.enabled", usage: "accepted: shoal always forwards samples directly, without a global label store", isBool: true, def: "false", accept: anyValue},
	{name: "feature.prometheus.metric-validation-scheme", usage: "accepted: deprecated in Alloy, where it has no effect; set metric_name_validation_scheme on prometheus.scrape", accept: anyValue},
	{name: "windows.priority", usage: "refused: Windows only",
		reason: "shoal does not set a Windows process priority; set it with the service manager"},
}

// RegisterFeatureFlags binds --stability.level and
// --feature.community-components.enabled, which `shoal validate` takes too.
func RegisterFeatureFlags(fs *flag.FlagSet, level *stability.Level, community *bool) {
	*level = stability.Default
	fs.Var((*levelFlag)(level), "stability.level", "minimum stability level of the components, blocks and functions a config may use: experimental, public-preview or generally-available")
	fs.BoolVar(community, "feature.community-components.enabled", false, "allow Alloy's community components (shoal implements none yet)")
}

// levelFlag is a stability.Level as a flag.Value.
type levelFlag stability.Level

func (l *levelFlag) String() string {
	if l == nil {
		return stability.Default.String()
	}
	return stability.Level(*l).String()
}

func (l *levelFlag) Set(s string) error {
	v, err := stability.Parse(s)
	if err != nil {
		return err
	}
	*l = levelFlag(v)
	return nil
}

// refusedFlag is an Alloy flag shoal cannot honour: setting it is an error
// that says why, rather than a silent no-op.
type refusedFlag string

func (refusedFlag) String() string { return "" }

func (f refusedFlag) Set(string) error { return errors.New(string(f)) }
