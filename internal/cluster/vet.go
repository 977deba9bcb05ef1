package cluster

import (
	"context"
	"encoding/base64"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// maxSinceAhead is how far ahead of this node's clock, beyond Δ, a
// record's since may be. A record with a later since would make the
// peer's later records look older (a record is newer when its since is
// later) and would keep a terminating peer eligible until then. Clocks
// within Δ/4 are all that participation allows; a minute also leaves room
// for a viewer whose clock is off, which peers must still see to measure
// its offset.
const maxSinceAhead = time.Minute

// encodeLocal encodes this node's record within limit bytes and signs it
// when this node has a credential.
func (n *Node) encodeLocal(r record, limit int) ([]byte, int) {
	if !n.ident.canSign() {
		return r.encode(make([]byte, 0, 128), limit)
	}
	b, dropped := r.encode(make([]byte, 0, 128+sigTrailer), limit-sigTrailer)
	return n.ident.sign(n.name, n.advertise, b), dropped
}

// vetRecord decides whether the record meta, gossiped for node name at
// addr, may be adopted: it must decode, its times must be consistent and
// not too far ahead, and with an identity it must be signed by a key whose
// credential speaks for name. It returns the reason of a refusal, or "".
func (n *Node) vetRecord(name string, addr netip.AddrPort, meta []byte) (record, string) {
	rec, err := decodeRecord(meta)
	if err != nil {
		return rec, refuseMalformed
	}
	if len(meta) > 0 {
		if rec.Joined > rec.Since || rec.Prev > rec.Since {
			return rec, refuseInvalid
		}
		if rec.Since > n.nowMs()+n.delta+maxSinceAhead.Milliseconds() {
			return rec, refuseFuture
		}
	}
	if n.ident != nil {
		if reason := n.ident.verify(name, addr, meta); reason != "" {
			return rec, reason
		}
	}
	return rec, ""
}

type recordRefused string

func (e recordRefused) Error() string { return "record refused: " + string(e) }

func errRecordRefused(reason string) error { return recordRefused(reason) }

// refuseRecord counts a refused record and says so, once a minute per
// node and reason. A record whose credential is not known yet is normal
// right after a node starts: its node is asked for a push/pull, which
// brings the credential in its stream's header and the record again.
func (n *Node) refuseRecord(name string, addr netip.AddrPort, reason string) {
	n.metrics.recordsRefused.WithLabelValues(reason).Inc()
	if reason == refuseUnknownKey {
		if addr.IsValid() && name != n.name {
			select {
			case n.credFetch <- addr.String():
			default:
			}
		}
		n.log.Debug("record refused until its signer's credential arrives", "peer", name, "addr", addr)
		return
	}
	if n.refuseLog.due(name+"\x00"+reason, n.now()) {
		n.log.Warn("refusing a record gossiped for a peer", "peer", name, "addr", addr, "reason", reason)
	}
}

// refuseLog rate-limits the warning of refused records.
type refuseLog struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (l *refuseLog) due(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil || len(l.last) > 1024 {
		l.last = make(map[string]time.Time)
	}
	if t, ok := l.last[key]; ok && now.Sub(t) < time.Minute {
		return false
	}
	l.last[key] = now
	return true
}

// nodeAddrPort is a memberlist node's address.
func nodeAddrPort(node *memberlist.Node) netip.AddrPort {
	ip, ok := netip.AddrFromSlice(node.Addr)
	if !ok {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap(), node.Port)
}

// addCredential takes a peer's credential from a stream header.
func (n *Node) addCredential(b64 string) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		n.log.Debug("a peer's credential is not base64", "err", err)
		return
	}
	if _, reason, err := n.ident.addCredential(raw); err != nil && n.refuseLog.due("cred\x00"+reason, n.now()) {
		n.log.Warn("refusing a peer's credential; its records will be refused", "reason", reason, "err", err)
	}
}

// credLoop runs a push/pull with each node whose record was refused for
// an unknown credential, at most once per credRetry per address: the
// stream brings the node's credential, then its record.
func (n *Node) credLoop(ctx context.Context) {
	if n.ident == nil {
		return
	}
	const credRetry = 2 * time.Second
	last := make(map[string]time.Time)
	for {
		var addr string
		select {
		case <-ctx.Done():
			return
		case addr = <-n.credFetch:
		}
		now := time.Now()
		if t, ok := last[addr]; ok && now.Sub(t) < credRetry {
			continue
		}
		if len(last) > 1024 {
			clear(last)
		}
		last[addr] = now
		if ml := n.memberlistNow(); ml != nil {
			if _, err := ml.Join([]string{addr}); err != nil {
				n.log.Debug("push/pull for a peer's credential failed", "addr", addr, "err", err)
			}
		}
	}
}

// refutationKind recognises memberlist refuting news about this node:
// a suspicion or a death relayed by a peer (neither can be signed by this
// node, so it answers with a new incarnation of its own record, as SWIM
// does), or an alive message of its name carrying another record.
func refutationKind(line string) string {
	switch {
	case strings.Contains(line, "Refuting a suspect message"):
		return "suspect"
	case strings.Contains(line, "Refuting a dead message"):
		return "dead"
	case strings.Contains(line, "Refuting an alive message"):
		return "alive"
	}
	return ""
}
