package discovery

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	"gopkg.in/yaml.v3"

	"github.com/shoal-dev/shoal/internal/component"
)

// Discovery done once per fleet (--cluster.share-discovery): when the
// node's Cluster is a component.DiscoveryShare with sharing on, the
// component asks it, every shareCheck, which node runs its discoverer.
//
//   - No node is eligible yet (start-up, before the node joined), or this
//     node is the one: run the discoverer here and serve the list.
//   - Another node: stop nothing yet, fetch its list (the first request
//     answers at once, later ones long-poll by version), export it, and
//     only then stop the local discoverer if one runs. Every list fetched
//     is served on too, so that a node that becomes the server has a list
//     to serve at once.
//   - The fetch fails (the node went away, or its list was made from a
//     config whose hash differs from ours): start the local discoverer at
//     once, and try the server again after shareRetry (shareRetryRefused
//     when its config differs from ours).
//
// The exports only ever change to a complete list (a fetched one, or the
// local discoverer's first full refresh), never to an empty placeholder,
// so switching between the two sources cannot make the downstream
// scrapes see their targets vanish.
const (
	shareCheck        = 250 * time.Millisecond
	shareRetry        = time.Second
	shareRetryRefused = 10 * time.Second
	// shareRetryGap is the pause before the one immediate retry of a
	// fetch that failed on the transport (a dropped idle connection).
	shareRetryGap = 200 * time.Millisecond
)

// configHash identifies a discoverer's config: peers use a list only when
// it was made from the same. Secrets are redacted by the marshalling, so
// they never travel; two nodes that differ only in a secret share. "" when
// the config does not marshal: such a component is never shared.
func configHash(cfg promdiscovery.Config) string {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return ""
	}
	s := sha256.New()
	s.Write([]byte(cfg.Name()))
	s.Write([]byte{0})
	s.Write(b)
	return base64.RawURLEncoding.EncodeToString(s.Sum(nil)[:12])
}

// encodeTargets is the payload of a shared list: a JSON array of label
// objects, in the sorted order of the exports.
func encodeTargets(ts []Target) []byte {
	if ts == nil {
		ts = []Target{}
	}
	b, err := json.Marshal(ts)
	if err != nil {
		// A map of strings always marshals.
		panic(err)
	}
	return b
}

// decodeTargets reads a shared list's payload. Label names must be valid
// and targets are sorted and deduplicated as the local exports are.
func decodeTargets(b []byte) ([]Target, error) {
	var ts []Target
	if err := json.Unmarshal(b, &ts); err != nil {
		return nil, fmt.Errorf("decoding shared targets: %w", err)
	}
	for i, t := range ts {
		if t == nil {
			return nil, fmt.Errorf("shared target %d is null", i)
		}
		for k := range t {
			if !validLabelName(k) {
				return nil, fmt.Errorf("shared target %d has an invalid label name %q", i, k)
			}
		}
	}
	if ts == nil {
		ts = []Target{}
	}
	return SortTargets(ts), nil
}

// validLabelName accepts what prometheus accepts as a label name in the
// legacy scheme: [a-zA-Z_][a-zA-Z0-9_]*.
func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// shareMetrics are the component's own metrics of sharing.
type shareMetrics struct {
	local     prometheus.Gauge
	server    prometheus.Gauge
	version   prometheus.Gauge
	fetched   prometheus.Counter
	fallbacks prometheus.Counter
}

func newShareMetrics(reg prometheus.Registerer) *shareMetrics {
	m := &shareMetrics{
		local: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_discovery_share_local",
			Help: "1 while this node runs the discoverer itself (as the server, alone, or as a fallback), 0 while it uses a peer's list.",
		}),
		server: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_discovery_share_server",
			Help: "1 while this node is the one chosen to run the discoverer and serve its list to the fleet.",
		}),
		version: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shoal_discovery_share_version",
			Help: "Version of the exported target list, equal on every node that has the same list from the same server.",
		}),
		fetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_discovery_share_lists_fetched_total",
			Help: "Target lists received from the serving peer.",
		}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_discovery_share_fallbacks_total",
			Help: "Times the serving peer could not be used and this node ran the discoverer itself.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.local, m.server, m.version, m.fetched, m.fallbacks} {
			_ = reg.Register(c)
		}
	}
	return m
}

// follower is one fetch loop against one serving node.
type follower struct {
	node   string
	cancel context.CancelFunc
}

// fetchResult is what a follower reports to Run: a new list, or the error
// that ended it.
type fetchResult struct {
	f   *follower
	l   *component.SharedList
	ts  []Target
	err error
}

// follow fetches the node's list until ctx ends or a fetch fails; the
// first request asks for any version, so that it answers at once.
func (c *Component) follow(ctx context.Context, f *follower, hash string, out chan<- fetchResult) {
	var version uint64
	var digest string
	retried := false
	send := func(r fetchResult) bool {
		select {
		case out <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		l, err := c.share.FetchDiscovery(ctx, f.node, c.opts.ID, hash, version, digest)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			refused := errors.Is(err, component.ErrShareConfigDiffers) || errors.Is(err, component.ErrShareUnavailable)
			if !refused && !retried {
				retried = true
				select {
				case <-time.After(shareRetryGap):
					continue
				case <-ctx.Done():
					return
				}
			}
			send(fetchResult{f: f, err: err})
			return
		}
		retried = false
		if l == nil {
			continue // unchanged
		}
		ts, err := decodeTargets(l.Payload)
		if err != nil {
			send(fetchResult{f: f, err: err})
			return
		}
		version, digest = l.Version, l.Digest
		if !send(fetchResult{f: f, l: l, ts: ts}) {
			return
		}
	}
}

// shareLocalLocked serves the exports made by the local discoverer, with the
// next version. Called with c.mu held, after published changed.
func (c *Component) shareLocalLocked() {
	if c.share == nil {
		return
	}
	c.version++
	p := encodeTargets(c.published)
	l := &component.SharedList{Version: c.version, Digest: component.ShareDigest(p), Hash: c.hash, Payload: p}
	c.sharedHash = c.hash
	c.share.PublishDiscovery(c.opts.ID, l)
	c.shareM.version.Set(float64(c.version))
}

// adopt exports a fetched list and serves it on.
func (c *Component) adopt(l *component.SharedList, ts []Target) {
	c.mu.Lock()
	changed := !c.everSent || !sameTargets(ts, c.published)
	if changed {
		c.published, c.everSent = ts, true
	}
	c.version = l.Version
	c.sharedHash = l.Hash
	c.mu.Unlock()
	c.share.PublishDiscovery(c.opts.ID, l)
	c.shareM.version.Set(float64(l.Version))
	c.shareM.fetched.Inc()
	if changed {
		c.opts.LiveDebug.PublishTargets(len(ts), func(i int) string { return ts[i].Labels().String() })
		if c.opts.OnStateChange != nil {
			c.opts.OnStateChange(Exports{Targets: ts})
		}
	}
	c.setHealth(component.HealthHealthy, "")
	if !c.ready.Load() {
		c.ready.Store(true)
		c.opts.Logger.Debug("discovery ready from a peer's list", "peer", l.Source, "version", l.Version, "targets", len(ts))
	}
}
