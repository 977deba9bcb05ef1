package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Join addresses are resolved the way Alloy resolves them:
//
//	host:port, IP:port   a literal IP is used as is; a name is looked up
//	                     (A/AAAA, then SRV if it has no address records)
//	dns+NAME[:port]      A/AAAA records only
//	dnssrv+NAME[:port]   SRV records, each target then looked up (A/AAAA)
//	dnssrvnoa+NAME[:port] SRV records, targets used as names
//
// The port of an SRV record is ignored, as in Alloy: the entry's explicit
// port, or else this node's own listen port, is used. Alloy's users point
// dnssrv+ at a headless Service whose record ports name the Service port
// rather than the container's, and their fleets must keep joining.

type joinKind uint8

const (
	joinHost   joinKind = iota // literal IP or a name tried as A/AAAA then SRV
	joinDNS                    // dns+
	joinSRV                    // dnssrv+
	joinSRVNoA                 // dnssrvnoa+
)

// joinAddr is one parsed --cluster.join-addresses entry.
type joinAddr struct {
	kind joinKind
	host string
	port uint16 // 0: use the listen port
	ip   netip.Addr
}

var joinPrefixes = []struct {
	prefix string
	kind   joinKind
}{
	{"dnssrvnoa+", joinSRVNoA},
	{"dnssrv+", joinSRV},
	{"dns+", joinDNS},
}

// parseJoinAddress parses one join address.
func parseJoinAddress(s string) (joinAddr, error) {
	in := s
	s = strings.TrimSpace(s)
	var a joinAddr
	for _, p := range joinPrefixes {
		if rest, ok := strings.CutPrefix(s, p.prefix); ok {
			a.kind, s = p.kind, rest
			break
		}
	}
	if s == "" {
		return a, fmt.Errorf("join address %q: empty host", in)
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a.ip, a.host, a.port = ap.Addr().Unmap(), ap.Addr().Unmap().String(), ap.Port()
	} else if ip, err := netip.ParseAddr(s); err == nil {
		a.ip, a.host = ip.Unmap(), ip.Unmap().String()
	} else {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			// No port, or a bracketed IPv6 without one.
			host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), ""
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			a.ip = ip.Unmap()
			host = a.ip.String()
		} else if !validHostname(host) {
			return a, fmt.Errorf("join address %q: %q is neither an IP nor a host name", in, host)
		}
		a.host = host
		if port != "" {
			p, err := strconv.ParseUint(port, 10, 16)
			if err != nil || p == 0 {
				return a, fmt.Errorf("join address %q: bad port %q", in, port)
			}
			a.port = uint16(p)
		}
	}
	if a.ip.IsValid() && a.kind != joinHost {
		return a, fmt.Errorf("join address %q: a DNS lookup needs a name, not an IP", in)
	}
	if a.ip.IsValid() && a.ip.Zone() != "" {
		return a, fmt.Errorf("join address %q: zoned IPv6 addresses are not supported", in)
	}
	return a, nil
}

// validHostname accepts DNS names (letters, digits, '-', '_' and dots),
// the underscore being common in SRV names.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			ok := c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
			if !ok {
				return false
			}
		}
	}
	return true
}

// Resolver is the part of *net.Resolver that join addresses need; tests
// give a fake.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// resolveJoin turns the join addresses into host:port strings for
// memberlist: de-duplicated, without this node's own address, shuffled and
// cut to maxPeers (0 = all). Entries that fail to resolve are reported in
// err but do not stop the others.
func resolveJoin(ctx context.Context, res Resolver, entries []string, self netip.AddrPort, maxPeers int) ([]string, error) {
	var errs []error
	seen := map[string]bool{self.String(): true}
	var out []string
	add := func(hostport string) {
		if ap, err := netip.ParseAddrPort(hostport); err == nil {
			hostport = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
		}
		if !seen[hostport] {
			seen[hostport] = true
			out = append(out, hostport)
		}
	}
	for _, e := range entries {
		a, err := parseJoinAddress(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		port := a.port
		if port == 0 {
			port = self.Port()
		}
		addrs, err := a.resolve(ctx, res, port)
		if err != nil {
			errs = append(errs, fmt.Errorf("resolving join address %q: %w", e, err))
		}
		for _, h := range addrs {
			add(h)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if maxPeers > 0 && len(out) > maxPeers {
		out = out[:maxPeers]
	}
	return out, errors.Join(errs...)
}

func (a joinAddr) resolve(ctx context.Context, res Resolver, port uint16) ([]string, error) {
	hp := func(host string) string { return net.JoinHostPort(host, strconv.Itoa(int(port))) }
	ips := func(name string) ([]string, error) {
		recs, err := res.LookupIPAddr(ctx, name)
		var out []string
		for _, r := range recs {
			if ip, ok := netip.AddrFromSlice(r.IP); ok {
				out = append(out, hp(ip.Unmap().String()))
			}
		}
		return out, err
	}
	srv := func(noA bool) ([]string, error) {
		_, recs, err := res.LookupSRV(ctx, "", "", a.host)
		var out []string
		var errs []error
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range recs {
			target := strings.TrimSuffix(r.Target, ".")
			if noA {
				out = append(out, hp(target))
				continue
			}
			got, err := ips(target)
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, got...)
		}
		return out, errors.Join(errs...)
	}
	switch a.kind {
	case joinDNS:
		return ips(a.host)
	case joinSRV:
		return srv(false)
	case joinSRVNoA:
		return srv(true)
	}
	if a.ip.IsValid() {
		return []string{hp(a.host)}, nil
	}
	out, err := ips(a.host)
	if len(out) > 0 {
		return out, nil
	}
	out, srvErr := srv(false)
	if len(out) > 0 {
		return out, nil
	}
	return nil, errors.Join(err, srvErr)
}

// advertiseAddress computes the address peers reach this node at, from
// --cluster.advertise-address or the HTTP listen address.
func advertiseAddress(ctx context.Context, cfg *Config, listenAddr string, res Resolver, log *slog.Logger) (netip.AddrPort, error) {
	lhost, lportStr, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen address %q: %w", listenAddr, err)
	}
	lport, err := strconv.ParseUint(lportStr, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen address %q: bad port: %w", listenAddr, err)
	}
	lookup := func(host string) (netip.Addr, error) {
		if ip, err := netip.ParseAddr(host); err == nil {
			return ip.Unmap(), nil
		}
		recs, err := res.LookupIPAddr(ctx, host)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("resolving %q: %w", host, err)
		}
		for _, r := range recs {
			if ip, ok := netip.AddrFromSlice(r.IP); ok {
				return ip.Unmap(), nil
			}
		}
		return netip.Addr{}, fmt.Errorf("resolving %q: no addresses", host)
	}
	if adv := cfg.AdvertiseAddress; adv != "" {
		host, port := adv, uint64(lport)
		if h, p, err := net.SplitHostPort(adv); err == nil {
			host = h
			if port, err = strconv.ParseUint(p, 10, 16); err != nil {
				return netip.AddrPort{}, fmt.Errorf("--cluster.advertise-address %q: bad port", adv)
			}
		}
		ip, err := lookup(strings.Trim(host, "[]"))
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("--cluster.advertise-address: %w", err)
		}
		return netip.AddrPortFrom(ip, uint16(port)), nil
	}
	if lhost != "" {
		ip, err := lookup(lhost)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("advertise address from the listen address: %w", err)
		}
		if !ip.IsUnspecified() {
			return netip.AddrPortFrom(ip, uint16(lport)), nil
		}
	}
	if ip, ok := interfaceAddress(cfg.AdvertiseInterfaces); ok {
		return netip.AddrPortFrom(ip, uint16(lport)), nil
	}
	if ip, ok := interfaceAddress([]string{"all"}); ok {
		return netip.AddrPortFrom(ip, uint16(lport)), nil
	}
	log.Warn("no usable network interface for the advertise address; advertising 127.0.0.1, which only peers on this host can reach",
		"interfaces", strings.Join(cfg.AdvertiseInterfaces, ","))
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(lport)), nil
}

// interfaceAddress returns the first usable address of the named
// interfaces ("all" = every one): IPv4 before IPv6, never loopback or
// link-local.
func interfaceAddress(names []string) (netip.Addr, bool) {
	var ifs []net.Interface
	for _, n := range names {
		if n == "all" {
			all, err := net.Interfaces()
			if err == nil {
				ifs = append(ifs, all...)
			}
			continue
		}
		if i, err := net.InterfaceByName(n); err == nil {
			ifs = append(ifs, *i)
		}
	}
	var v6 netip.Addr
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr().Unmap()
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
				continue
			}
			if ip.Is4() {
				return ip, true
			}
			if !v6.IsValid() {
				v6 = ip
			}
		}
	}
	return v6, v6.IsValid()
}

// Join timing: while no join address answers, a node retries every
// bootstrapRetry; after bootstrap it contacts them again every
// RejoinInterval, which merges the two sides of a healed partition. A node
// alone or in a minority of its remembered fleet retries sooner: every
// bootstrapRetry at first, doubling up to minorityMaxWait.
const (
	bootstrapRetry  = 2 * time.Second
	minorityMaxWait = DefaultRejoinInterval
	joinCheck       = time.Second // how often the loop looks at the fleet's size
)

// joinLoop joins the fleet and keeps rejoining.
//
// Bootstrap: a node with neither join addresses nor remembered peers
// starts the cluster at once. Otherwise it contacts them (every
// bootstrapRetry) and may become a participant only once a join succeeded
// or BootstrapTimeout passed without any answer, so that nodes started
// together, or a restarted seed whose fleet is alive, do not form a
// cluster of one and scrape everything.
//
// Afterwards it rejoins every RejoinInterval (healing a split brain),
// sooner while a stale incarnation of this node blocks its name, and
// sooner while it is alone or in a minority of the fleet it remembers.
func (n *Node) joinLoop(ctx context.Context) {
	start := time.Now()
	remembered := n.memory.list()
	switch {
	case len(n.cfg.JoinAddresses) == 0 && len(remembered) == 0:
		n.setBootstrapped("no join addresses and no remembered peers: this node starts the cluster")
	case len(remembered) > 0:
		n.log.Info("looking for the fleet before participating", "join_addresses", strings.Join(n.cfg.JoinAddresses, ","),
			"remembered_peers", len(remembered), "bootstrap_timeout", n.cfg.BootstrapTimeout)
	}
	var (
		lastRejoin   = time.Now()
		minorityWait = bootstrapRetry
		nextMinority time.Time
		wasMinority  bool
		first        = true
	)
	for {
		wait := joinCheck
		if !n.isBootstrapped() {
			if n.joinOnce(ctx, first) {
				n.setBootstrapped("joined")
				lastRejoin = time.Now()
			} else if time.Since(start) >= n.cfg.BootstrapTimeout {
				n.log.Warn("neither a join address nor a remembered peer answered within the bootstrap timeout; forming a cluster alone and retrying",
					"join_addresses", strings.Join(n.cfg.JoinAddresses, ","), "remembered_peers", len(remembered), "bootstrap_timeout", n.cfg.BootstrapTimeout)
				n.setBootstrapped("bootstrap timeout")
				lastRejoin = time.Now()
			} else {
				wait = bootstrapRetry
			}
			first = false
		} else {
			now := time.Now()
			alive, fleet := n.fleetCounts()
			minority := fleet > 1 && 2*alive <= fleet
			n.mu.Lock()
			conflict := time.Since(n.selfConflictAt) < 10*time.Second
			n.mu.Unlock()
			switch {
			case minority && !now.Before(nextMinority):
				if !wasMinority {
					n.log.Warn("this node sees only part of the fleet it remembers; rejoining its remembered peers and join addresses",
						"alive", alive, "remembered_fleet", fleet)
				}
				if n.joinOnce(ctx, false) {
					lastRejoin = now
				}
				nextMinority = now.Add(minorityWait)
				minorityWait = min(2*minorityWait, minorityMaxWait)
			case conflict && now.Sub(lastRejoin) >= bootstrapRetry,
				n.cfg.RejoinInterval > 0 && now.Sub(lastRejoin) >= n.cfg.RejoinInterval:
				n.joinOnce(ctx, false)
				lastRejoin = now
			}
			if !minority {
				if wasMinority {
					n.log.Info("this node sees a majority of its remembered fleet again", "alive", alive, "remembered_fleet", fleet)
				}
				minorityWait, nextMinority = bootstrapRetry, time.Time{}
			}
			wasMinority = minority
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// fleetCounts returns the live nodes (this one included, peers whose
// address refused us excluded) and the size of the remembered fleet.
func (n *Node) fleetCounts() (alive, fleet int) {
	alive = 1
	n.mu.Lock()
	for _, p := range n.peers {
		if p.alive && !p.refused {
			alive++
		}
	}
	n.mu.Unlock()
	return alive, max(n.memory.fleetSize(n.now()), 1)
}

// rememberedTargets lists the remembered peers' addresses that are worth
// contacting: not this node, not a peer alive now. More than
// MaxJoinPeers (when set) are cut at random.
func (n *Node) rememberedTargets() []string {
	n.mu.Lock()
	alive := map[string]bool{}
	for _, p := range n.peers {
		if p.alive && !p.refused {
			alive[p.name] = true
		}
	}
	n.mu.Unlock()
	var out []string
	for _, p := range n.memory.list() {
		if !alive[p.Name] && p.Addr != n.advertise.String() {
			out = append(out, p.Addr)
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if k := n.cfg.MaxJoinPeers; k > 0 && len(out) > k {
		out = out[:k]
	}
	return out
}

// joinOnce resolves the join addresses and contacts them, together with
// the remembered peers not alive now; it reports whether any answered.
func (n *Node) joinOnce(ctx context.Context, first bool) bool {
	var addrs []string
	var err error
	if len(n.cfg.JoinAddresses) > 0 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		addrs, err = resolveJoin(rctx, n.res, n.cfg.JoinAddresses, n.advertise, n.cfg.MaxJoinPeers)
		cancel()
	}
	switch {
	case err != nil && err.Error() != n.lastResolveErr:
		// A name that does not resolve is a config or DNS problem the
		// user must see; the same error again every retry is noise.
		n.lastResolveErr = err.Error()
		n.log.Warn("cannot resolve some join addresses", "addresses", strings.Join(n.cfg.JoinAddresses, ","), "err", err)
	case err != nil:
		n.log.Debug("cannot resolve some join addresses", "err", err)
	default:
		n.lastResolveErr = ""
	}
	for _, a := range n.rememberedTargets() {
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return false
	}
	ml := n.memberlistNow()
	if ml == nil {
		return false
	}
	count, err := ml.Join(addrs)
	if count == 0 {
		level := slog.LevelDebug
		if first {
			level = slog.LevelInfo
		}
		n.log.Log(ctx, level, "no join address or remembered peer answered", "addresses", strings.Join(addrs, ","), "err", err)
		return false
	}
	n.log.Debug("joined", "contacted", count, "addresses", strings.Join(addrs, ","))
	return true
}

func (n *Node) setBootstrapped(why string) {
	n.mu.Lock()
	was := n.bootstrapped
	n.bootstrapped = true
	n.mu.Unlock()
	if !was {
		n.log.Info("bootstrap complete", "reason", why)
		signal(n.wake)
	}
}

func (n *Node) isBootstrapped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bootstrapped
}
