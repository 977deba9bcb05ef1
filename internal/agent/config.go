package agent

import (
	"flag"
	"time"

	"github.com/shoal-dev/shoal/internal/cluster"
)

// Config is what `shoal run` is given on its command line.
type Config struct {
	// ConfigFile is the path of the Alloy-syntax configuration.
	ConfigFile string
	// ListenAddr is --server.http.listen-addr; gossip shares it.
	ListenAddr string
	// StoragePath is --storage.path: the disk queues live below it.
	StoragePath string
	// ShutdownTimeout bounds a graceful stop after SIGTERM: the handoff
	// delay, the last scrapes and the remote-write flush all fit in it.
	ShutdownTimeout time.Duration
	// EnablePprof mounts /debug/pprof (--server.http.enable-pprof).
	EnablePprof bool
	// StabilityLevel and DisableReporting are Alloy's flags, accepted so
	// that Alloy command lines work unchanged; shoal has one stability
	// level and reports nothing.
	StabilityLevel   string
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

// RegisterFlags binds the run flags that are not --cluster.* to fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ListenAddr, "server.http.listen-addr", DefaultListenAddr, "address to serve the UI, API, metrics and gossip on")
	fs.StringVar(&c.StoragePath, "storage.path", DefaultStoragePath, "directory for the remote-write disk queues")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown.timeout", DefaultShutdownTimeout, "how long a graceful stop (handoff, last scrapes, queue flush) may take after SIGTERM")
	fs.BoolVar(&c.EnablePprof, "server.http.enable-pprof", true, "serve /debug/pprof")
	fs.StringVar(&c.StabilityLevel, "stability.level", "generally-available", "accepted for compatibility with Alloy; shoal has one stability level")
	fs.BoolVar(&c.DisableReporting, "disable-reporting", false, "accepted for compatibility with Alloy; shoal never reports usage")
}
