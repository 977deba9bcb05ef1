package cluster

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is the cluster's configuration: the --cluster.* flags of `shoal run`,
// with Alloy's names and defaults where Alloy has the flag. DefaultConfig
// returns the defaults; RegisterFlags binds every field to its flag.
type Config struct {
	// Enabled turns clustering on (--cluster.enabled). When false the node
	// owns every target and Peers lists only itself.
	Enabled bool

	// NodeName names this node in the fleet (--cluster.node-name, default
	// the hostname). It must be unique: a second node with the same name
	// is refused by gossip as a conflict.
	NodeName string

	// AdvertiseAddress is the host:port peers use to reach this node
	// (--cluster.advertise-address). Empty means: the listen address when
	// its host is a specific IP, otherwise the first address of
	// AdvertiseInterfaces, otherwise the first non-loopback address,
	// otherwise 127.0.0.1 with a warning. A host without a port takes the
	// listen port.
	AdvertiseAddress string

	// AdvertiseInterfaces lists the interfaces searched for an advertise
	// address when the listen host is 0.0.0.0 (--cluster.advertise-interfaces,
	// default eth0,en0; "all" searches every interface).
	AdvertiseInterfaces []string

	// JoinAddresses are the peers to join (--cluster.join-addresses): host:port,
	// DNS names resolving to several A/AAAA records, and dns+NAME,
	// dnssrv+NAME and dnssrvnoa+NAME as in Alloy. See docs/clustering.md.
	JoinAddresses []string

	// RejoinInterval is how often the join addresses are contacted again
	// once joined, which heals a split brain (--cluster.rejoin-interval,
	// 60s; 0 disables).
	RejoinInterval time.Duration

	// MaxJoinPeers bounds how many resolved addresses one join contacts,
	// chosen at random (--cluster.max-join-peers, 5; 0 means all).
	MaxJoinPeers int

	// Name isolates fleets: it is memberlist's Label, and nodes with
	// different names never merge (--cluster.name).
	Name string

	// WaitForSize is the number of eligible participants below which the
	// node reports not ready (--cluster.wait-for-size, 0 = no minimum).
	// Unlike Alloy it never stops the node from owning targets: a fleet
	// below its minimum still scrapes everything it can.
	WaitForSize int

	// WaitTimeout is how long the node may stay below WaitForSize before it
	// reports ready anyway (--cluster.wait-timeout, 0 = wait forever).
	WaitTimeout time.Duration

	// EnableTLS makes gossip use HTTPS (--cluster.enable-tls).
	EnableTLS bool
	// TLSCAPath is the CA that verifies peers' certificates, both the
	// servers we dial and, on the gossip routes, the clients that dial us
	// (--cluster.tls-ca-path). With a CA, a peer without a client
	// certificate signed by it cannot join.
	TLSCAPath string
	// TLSCertPath and TLSKeyPath are this node's certificate, presented as
	// a client certificate when dialling peers (--cluster.tls-cert-path,
	// --cluster.tls-key-path).
	TLSCertPath string
	TLSKeyPath  string
	// TLSServerName overrides the name checked in peers' server
	// certificates (--cluster.tls-server-name).
	TLSServerName string

	// GossipKeyFile names a file of gossip encryption keys
	// (--cluster.gossip-key-file, shoal's own flag: Alloy has none). Each
	// line is one base64 key of 16, 24 or 32 bytes (AES-128/192/256); the
	// first encrypts, every one decrypts, so a key can be rotated without
	// a split. Memberlist then drops every packet and stream it cannot
	// decrypt and authenticate: a shared key keeps outsiders out, but it
	// proves membership, not identity (see NodeIdentity and
	// docs/clustering.md).
	GossipKeyFile string

	// ShareDiscovery (--cluster.share-discovery, shoal's own) runs each
	// discovery component on one node of the fleet, chosen by rendezvous
	// hashing of its ID, which serves the list to the others over the
	// cluster's HTTP transport (see discoshare.go and
	// docs/clustering.md). Off: every node runs every discovery, as Alloy.
	ShareDiscovery bool

	// NodeIdentity (--cluster.tls-node-identity) binds each record to
	// its node. With a CA, each node signs its record with a key its
	// certificate vouches for, and peers check that the certificate
	// chains to the CA, which proves membership. Many Alloy fleets share
	// one certificate across their nodes, so that is all that is checked
	// by default. With NodeIdentity, peers also require the certificate to
	// name the node (its subject CN or a DNS name), so that no member can
	// speak for another, and a node whose own certificate does not name
	// it refuses to start.
	NodeIdentity bool

	// HandoffDelay is Δ (--cluster.handoff-delay): a node that becomes a
	// participant at s owns its share from s+Δ, and a terminating node
	// keeps its share until s+Δ. It must cover gossip propagation to the
	// whole fleet plus clock skew; docs/clustering.md records the measured
	// propagation behind the default of 3s.
	HandoffDelay time.Duration

	// BootstrapTimeout is how long a node whose join addresses all fail
	// waits, retrying every 2s, before it forms a cluster of its own
	// (--cluster.bootstrap-timeout, 10s).
	BootstrapTimeout time.Duration

	// ProbeInterval is the period of SWIM's failure-detector probes
	// (--cluster.probe-interval). Together with ProbeTimeout and
	// SuspicionMult it sets how long a crashed node keeps its targets
	// unscraped; the defaults declare a dead node dead in about 1.5s on a
	// LAN (see docs/clustering.md for the measurements).
	ProbeInterval time.Duration

	// ProbeTimeout is how long a direct probe waits for its ack before
	// indirect probes start (--cluster.probe-timeout). It should exceed the
	// 99th percentile round trip under load.
	ProbeTimeout time.Duration

	// SuspicionMult scales how long a suspected node may refute before it
	// is declared dead: SuspicionMult × max(1, log10 N) × ProbeInterval
	// (--cluster.suspicion-mult).
	SuspicionMult int

	// HoldTimeout bounds how long a node that took targets over holds their
	// samples waiting for the previous owner's watermark
	// (--cluster.hold-timeout, default 2 × the default remote_timeout of
	// 30s).
	HoldTimeout time.Duration

	// Placement is what ownership balances (--cluster.placement, shoal's
	// own): "targets" (the default) splits the targets evenly by
	// rendezvous hashing; "series" measures the series of each target and
	// places heavy targets and weights the rest so that the series are
	// balanced (see placement.go and docs/clustering.md). Every node of a
	// fleet must run the same setting.
	Placement string

	// PlanInterval is the least time between two placement plans while
	// the eligible set stays the same (--cluster.placement-interval).
	PlanInterval time.Duration
}

// Defaults of the fields that are not zero.
const (
	DefaultRejoinInterval   = 60 * time.Second
	DefaultMaxJoinPeers     = 5
	DefaultHandoffDelay     = 3 * time.Second
	DefaultBootstrapTimeout = 10 * time.Second
	DefaultProbeInterval    = 400 * time.Millisecond
	DefaultProbeTimeout     = 250 * time.Millisecond
	DefaultSuspicionMult    = 2
	DefaultHoldTimeout      = 60 * time.Second
)

// DefaultConfig returns the defaults of every flag. NodeName is the
// hostname, as in Alloy.
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		NodeName:            host,
		AdvertiseInterfaces: []string{"eth0", "en0"},
		RejoinInterval:      DefaultRejoinInterval,
		MaxJoinPeers:        DefaultMaxJoinPeers,
		HandoffDelay:        DefaultHandoffDelay,
		BootstrapTimeout:    DefaultBootstrapTimeout,
		ProbeInterval:       DefaultProbeInterval,
		ProbeTimeout:        DefaultProbeTimeout,
		SuspicionMult:       DefaultSuspicionMult,
		HoldTimeout:         DefaultHoldTimeout,
		Placement:           PlacementTargets,
		PlanInterval:        DefaultPlanInterval,
	}
}

// RegisterFlags binds the --cluster.* flags to c, with c's current values
// as defaults; call it on a DefaultConfig.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.BoolVar(&c.Enabled, "cluster.enabled", c.Enabled, "Start in clustered mode.")
	fs.StringVar(&c.NodeName, "cluster.node-name", c.NodeName, "The name of this node in the cluster (default: hostname).")
	fs.StringVar(&c.AdvertiseAddress, "cluster.advertise-address", c.AdvertiseAddress, "Address peers use to reach this node (default: from --server.http.listen-addr).")
	fs.Var((*listFlag)(&c.AdvertiseInterfaces), "cluster.advertise-interfaces", "Comma-separated interfaces searched for the advertise address, or \"all\".")
	fs.Var((*listFlag)(&c.JoinAddresses), "cluster.join-addresses", "Comma-separated peers to join: host:port, DNS names, dns+NAME, dnssrv+NAME, dnssrvnoa+NAME.")
	fs.DurationVar(&c.RejoinInterval, "cluster.rejoin-interval", c.RejoinInterval, "How often to rejoin the join addresses to heal a split brain (0 disables).")
	fs.IntVar(&c.MaxJoinPeers, "cluster.max-join-peers", c.MaxJoinPeers, "Number of resolved join addresses contacted per join, at random (0 = all).")
	fs.StringVar(&c.Name, "cluster.name", c.Name, "Name of the cluster; nodes with different names never merge.")
	fs.IntVar(&c.WaitForSize, "cluster.wait-for-size", c.WaitForSize, "Number of participants below which the node reports not ready (0 = none).")
	fs.DurationVar(&c.WaitTimeout, "cluster.wait-timeout", c.WaitTimeout, "How long to wait for --cluster.wait-for-size before reporting ready anyway (0 = forever).")
	fs.BoolVar(&c.EnableTLS, "cluster.enable-tls", c.EnableTLS, "Use TLS for gossip between peers.")
	fs.StringVar(&c.TLSCAPath, "cluster.tls-ca-path", c.TLSCAPath, "CA certificate verifying peers; with it, peers need a client certificate.")
	fs.StringVar(&c.TLSCertPath, "cluster.tls-cert-path", c.TLSCertPath, "This node's TLS certificate.")
	fs.StringVar(&c.TLSKeyPath, "cluster.tls-key-path", c.TLSKeyPath, "This node's TLS key.")
	fs.StringVar(&c.TLSServerName, "cluster.tls-server-name", c.TLSServerName, "Server name checked in peers' certificates.")
	fs.StringVar(&c.GossipKeyFile, "cluster.gossip-key-file", c.GossipKeyFile, "File of gossip encryption keys, one base64 key of 16, 24 or 32 bytes per line; the first encrypts (shoal's own flag).")
	fs.BoolVar(&c.ShareDiscovery, "cluster.share-discovery", c.ShareDiscovery, "Run each discovery component on one node of the cluster, which serves its targets to the others; they run it themselves only while that node cannot serve them (shoal's own flag).")
	fs.BoolVar(&c.NodeIdentity, "cluster.tls-node-identity", c.NodeIdentity, "Each node's certificate names it (subject CN or DNS name = --cluster.node-name): peers refuse a record whose signer's certificate does not name its node. Off: the certificate need only chain to the CA (nodes may share one).")
	fs.DurationVar(&c.HandoffDelay, "cluster.handoff-delay", c.HandoffDelay, "Δ: delay between a state change and the tick at which ownership moves.")
	fs.DurationVar(&c.BootstrapTimeout, "cluster.bootstrap-timeout", c.BootstrapTimeout, "How long to retry unanswered join addresses before forming a cluster alone.")
	fs.DurationVar(&c.ProbeInterval, "cluster.probe-interval", c.ProbeInterval, "Failure-detector probe interval.")
	fs.DurationVar(&c.ProbeTimeout, "cluster.probe-timeout", c.ProbeTimeout, "Failure-detector probe timeout.")
	fs.IntVar(&c.SuspicionMult, "cluster.suspicion-mult", c.SuspicionMult, "Multiplier of the time a suspected node has to refute before it is declared dead.")
	fs.StringVar(&c.Placement, "cluster.placement", c.Placement, "What ownership balances: \"targets\" (rendezvous hashing) or \"series\" (weighted by each target's measured series; shoal's own).")
	fs.DurationVar(&c.PlanInterval, "cluster.placement-interval", c.PlanInterval, "Least time between two placement plans while membership stays the same (--cluster.placement=series).")
	fs.DurationVar(&c.HoldTimeout, "cluster.hold-timeout", c.HoldTimeout, "Longest time samples of a taken-over target wait for the previous owner's deliveries.")
}

// Validate reports settings that cannot work.
func (c *Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.NodeName == "" {
		errs = append(errs, errors.New("--cluster.node-name must not be empty"))
	}
	if c.HandoffDelay <= 0 {
		errs = append(errs, fmt.Errorf("--cluster.handoff-delay must be positive, got %s", c.HandoffDelay))
	}
	if c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.ProbeTimeout > c.ProbeInterval {
		errs = append(errs, fmt.Errorf("--cluster.probe-timeout (%s) must be positive and at most --cluster.probe-interval (%s)", c.ProbeTimeout, c.ProbeInterval))
	}
	if c.SuspicionMult < 1 {
		errs = append(errs, fmt.Errorf("--cluster.suspicion-mult must be at least 1, got %d", c.SuspicionMult))
	}
	if c.MaxJoinPeers < 0 || c.WaitForSize < 0 {
		errs = append(errs, errors.New("--cluster.max-join-peers and --cluster.wait-for-size must not be negative"))
	}
	if c.HoldTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--cluster.hold-timeout must be positive, got %s", c.HoldTimeout))
	}
	switch c.Placement {
	case "", PlacementTargets, PlacementSeries:
	default:
		errs = append(errs, fmt.Errorf("--cluster.placement must be %q or %q, got %q", PlacementTargets, PlacementSeries, c.Placement))
	}
	if c.Placement == PlacementSeries && c.PlanInterval <= 0 {
		errs = append(errs, fmt.Errorf("--cluster.placement-interval must be positive, got %s", c.PlanInterval))
	}
	if c.EnableTLS && (c.TLSCertPath == "") != (c.TLSKeyPath == "") {
		errs = append(errs, errors.New("--cluster.tls-cert-path and --cluster.tls-key-path must be given together"))
	}
	for _, a := range c.JoinAddresses {
		if _, err := parseJoinAddress(a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listFlag is a comma-separated list flag. Setting it replaces the default.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*l = out
	return nil
}
