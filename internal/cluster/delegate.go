package cluster

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate is this node's side of memberlist's callbacks. They run under
// memberlist's locks, so each one only updates the node's own state and
// signals the main loop; none calls back into memberlist.
type delegate struct{ n *Node }

var (
	_ memberlist.Delegate         = (*delegate)(nil)
	_ memberlist.EventDelegate    = (*delegate)(nil)
	_ memberlist.ConflictDelegate = (*delegate)(nil)
	_ memberlist.PingDelegate     = (*delegate)(nil)
	_ memberlist.AliveDelegate    = (*delegate)(nil)
)

// NodeMeta is this node's record, signed when it has a credential.
func (d *delegate) NodeMeta(limit int) []byte {
	n := d.n
	n.mu.Lock()
	r := n.local
	n.mu.Unlock()
	b, dropped := n.encodeLocal(r, min(limit, maxMetaSize))
	if dropped > 0 {
		n.metrics.metaTruncated.Inc()
		n.log.Warn("too many clustered components for the node record; some target digests are not gossiped", "dropped", dropped)
	}
	return b
}

// NotifyAlive vets a record before memberlist adopts it, whether it came
// in an alive message, a push/pull (memberlist's mergeState turns each
// live node of the remote state into an alive message) or from this node
// itself. A refused record leaves memberlist as it was.
//
// News of this node itself always passes: it is either its own record or
// one that memberlist refutes with a new incarnation of the real one.
func (d *delegate) NotifyAlive(node *memberlist.Node) error {
	n := d.n
	if node.Name == n.name {
		return nil
	}
	_, reason := n.vetRecord(node.Name, nodeAddrPort(node), node.Meta)
	if reason == "" {
		return nil
	}
	n.refuseRecord(node.Name, nodeAddrPort(node), reason)
	return errRecordRefused(reason)
}

// NotifyMsg receives direct messages: announcements, death notices and
// clock probes (clock.go).
func (d *delegate) NotifyMsg(b []byte) {
	if d.n.receivePlacement(b) {
		return
	}
	if d.n.handleClockMessage(b) {
		return
	}
	if name, raw, ok := parseAnnouncement(b); ok {
		n := d.n
		n.mu.Lock()
		var addr netip.AddrPort
		if p := n.peers[name]; p != nil {
			addr, _ = netip.ParseAddrPort(p.addr)
		}
		n.mu.Unlock()
		rec, reason := n.vetRecord(name, addr, raw)
		if reason != "" {
			n.refuseRecord(name, addr, reason)
			return
		}
		n.applyAnnouncement(name, rec)
		return
	}
	since, ok := parseDeathNotice(b)
	if !ok {
		return
	}
	n := d.n
	n.mu.Lock()
	match := n.local.State == Participant && n.local.Since == since
	n.mu.Unlock()
	if match {
		n.log.Debug("a peer reports it had declared this node dead")
		signal(n.refuted)
	}
}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return d.n.placementLocalState() }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     { d.n.placementMergeState(buf) }

func (d *delegate) NotifyJoin(node *memberlist.Node) {
	d.n.metrics.gossipEvents.WithLabelValues("node_join").Inc()
	d.n.onAlive(node)
}

func (d *delegate) NotifyUpdate(node *memberlist.Node) {
	d.n.metrics.gossipEvents.WithLabelValues("node_update").Inc()
	d.n.onAlive(node)
}

func (d *delegate) NotifyLeave(node *memberlist.Node) {
	d.n.metrics.gossipEvents.WithLabelValues("node_leave").Inc()
	d.n.onGone(node)
}

// NotifyConflict is called when two nodes claim one name. When the name is
// ours, a previous incarnation of this node (at another address) is still
// alive in the peers' eyes; the join loop then retries quickly so that the
// peers accept this incarnation as soon as they declare the old one dead.
func (d *delegate) NotifyConflict(existing, other *memberlist.Node) {
	n := d.n
	n.metrics.gossipEvents.WithLabelValues("node_conflict").Inc()
	n.log.Warn("two nodes claim one name", "peer", existing.Name, "known_addr", existing.Address(), "other_addr", other.Address())
	if existing.Name == n.name {
		n.mu.Lock()
		n.selfConflictAt = time.Now()
		n.mu.Unlock()
	}
}

// AckPayload carries our wall clock in every ack, in Unix ns.
func (d *delegate) AckPayload() []byte {
	return binary.LittleEndian.AppendUint64(nil, uint64(d.n.now().UnixNano()))
}

// NotifyPingComplete estimates the peer's clock offset from the time in
// its ack: it was read about rtt/2 before the ack arrived.
func (d *delegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	if len(payload) != 8 {
		return
	}
	remote := time.Unix(0, int64(binary.LittleEndian.Uint64(payload)))
	mid := d.n.now().Add(-rtt / 2)
	d.n.observeClock(other.Name, remote.Sub(mid), rtt)
}

// onAlive records a live node's (possibly new) record.
func (n *Node) onAlive(node *memberlist.Node) {
	if node.Name == n.name {
		return
	}
	rec, err := decodeRecord(node.Meta)
	now := n.now()
	n.mu.Lock()
	p := n.peers[node.Name]
	fresh := p == nil || !p.alive
	if p == nil {
		p = &peer{name: node.Name, fpMatch: true, targetsMatch: true, extMatch: true, deltaMatch: true}
		n.peers[node.Name] = p
	} else if !p.alive && (err != nil || rec.Since == p.rec.Since) {
		// Back from dead or left in the life it had: until it publishes
		// a new since, or 2Δ pass, it does not count as eligible (see
		// peer.suppressed). It may not know it was declared dead: tell
		// it. A node back in a new life (a restart) already carries a
		// new since and joins like any other.
		p.revived, p.revivedSince, p.revivedAt = true, rec.Since, now
		p.noticePending = err == nil && rec.State == Participant
	}
	p.node = memberlist.Node{Name: node.Name, Addr: node.Addr, Port: node.Port}
	p.alive = true
	p.addr = node.Address()
	if err != nil {
		if p.metaErr == "" {
			n.log.Warn("cannot read a peer's record; treating it as a viewer", "peer", node.Name, "err", err)
		}
		p.metaErr = err.Error()
		rec = record{State: Viewer}
	} else {
		p.metaErr = ""
	}
	if p.revived && rec.Since != p.revivedSince {
		p.revived = false
	}
	if p.refused && err == nil && rec.Since != p.refusedSince {
		// A new life at the address that refused us: it is eligible
		// from its new since + Δ, like any joining node.
		p.refused = false
	}
	if fresh || rec.Since >= p.rec.Since || p.revived {
		// Otherwise a direct announcement already brought a newer record.
		p.rec = rec
	}
	n.evaluateDriftLocked(p)
	n.releaseHoldsLocked(p.name, rec.Watermark, false)
	revived := p.revived
	n.mu.Unlock()
	if fresh {
		n.log.Info("peer alive", "peer", node.Name, "addr", node.Address(), "state", rec.State.String(),
			"since", time.UnixMilli(rec.Since).UTC(), "revived", revived)
	}
	signal(n.recompute)
}

// onGone records a node declared dead or departed: it drops out of every
// computation at once, and holds waiting for it are released.
func (n *Node) onGone(node *memberlist.Node) {
	if node.Name == n.name {
		return
	}
	n.mu.Lock()
	if p := n.peers[node.Name]; p != nil {
		p.alive = false
		p.revived = false
		p.refused = false
		p.leftAt = n.now()
		p.left = node.State == memberlist.StateLeft
		n.log.Info("peer gone", "peer", node.Name, "left", p.left)
		n.releaseHoldsLocked(p.name, 0, true)
		n.updateDriftGaugesLocked()
		n.forgetReportLocked(p.name)
	}
	n.mu.Unlock()
	n.metrics.clockOffset.DeleteLabelValues(node.Name)
	signal(n.recompute)
}

// An announcement is a node's record sent directly to every peer when its
// state changes, so that a transition reaches the whole fleet in one hop
// instead of several gossip rounds; gossip still carries the same record.
// A record is newer than another when its since is later: a node's since
// only moves forward, and a restarted node starts with a later one.
const announceMagic = 0xd2

func announcement(name string, rec []byte) []byte {
	b := binary.AppendUvarint([]byte{announceMagic}, uint64(len(name)))
	b = append(b, name...)
	return append(b, rec...)
}

// parseAnnouncement splits an announcement into the node's name and its
// record, still encoded (and signed): the receiver vets it as it vets a
// gossiped record.
func parseAnnouncement(b []byte) (string, []byte, bool) {
	if len(b) < 2 || b[0] != announceMagic {
		return "", nil, false
	}
	l, k := binary.Uvarint(b[1:])
	if k <= 0 || l > uint64(len(b)-1-k) {
		return "", nil, false
	}
	name := string(b[1+k : 1+k+int(l)])
	return name, b[1+k+int(l):], true
}

// applyAnnouncement takes a peer's announced record if it is newer than
// the one held. Unknown or dead peers are left to gossip.
func (n *Node) applyAnnouncement(name string, rec record) {
	n.mu.Lock()
	p := n.peers[name]
	if name == n.name || p == nil || !p.alive || rec.Since < p.rec.Since ||
		(rec.Since == p.rec.Since && rec.State == p.rec.State) {
		n.mu.Unlock()
		return
	}
	if p.revived && rec.Since != p.revivedSince {
		p.revived = false
	}
	p.rec = rec
	n.evaluateDriftLocked(p)
	n.releaseHoldsLocked(p.name, rec.Watermark, false)
	n.mu.Unlock()
	signal(n.recompute)
}

// announce sends this node's record to every live peer if its state
// changed since the last announcement.
func (n *Node) announce(ml *memberlist.Memberlist) {
	n.mu.Lock()
	if !n.announcePending {
		n.mu.Unlock()
		return
	}
	n.announcePending = false
	rec, _ := n.encodeLocal(n.local, maxMetaSize)
	var to []memberlist.Node
	for _, p := range n.peers {
		if p.alive {
			to = append(to, p.node)
		}
	}
	n.mu.Unlock()
	msg := announcement(n.name, rec)
	for i := range to {
		if err := ml.SendBestEffort(&to[i], msg); err != nil {
			n.log.Debug("state announcement not sent", "peer", to[i].Name, "err", err)
		}
	}
}

// deathNotice is the direct message a node sends a peer it had declared
// dead once the peer is back: "you were dead to me while participating
// since S". Memberlist tells a refuting node nothing when its incarnation
// had already moved past the accusation, which is common after a
// partition. The peer re-enters participant only if S is still its since,
// so several notices cause one re-entry.
const deathNoticeMagic = 0xd1

func deathNotice(since int64) []byte {
	return binary.AppendVarint([]byte{deathNoticeMagic}, since)
}

func parseDeathNotice(b []byte) (int64, bool) {
	if len(b) < 2 || b[0] != deathNoticeMagic {
		return 0, false
	}
	v, n := binary.Varint(b[1:])
	return v, n > 0
}

// sendDeathNotices sends the pending notices; it runs in the main loop,
// outside memberlist's locks.
func (n *Node) sendDeathNotices() {
	ml := n.memberlistNow()
	if ml == nil {
		return
	}
	type notice struct {
		to    memberlist.Node
		since int64
	}
	var out []notice
	n.mu.Lock()
	for _, p := range n.peers {
		if p.noticePending {
			p.noticePending = false
			if p.alive {
				out = append(out, notice{p.node, p.rec.Since})
			}
		}
	}
	n.mu.Unlock()
	for _, nt := range out {
		if err := ml.SendBestEffort(&nt.to, deathNotice(nt.since)); err != nil {
			n.log.Debug("death notice not sent", "peer", nt.to.Name, "err", err)
		}
	}
}

// memberlist's log lines start with a level in brackets.
func hasLevel(line, level string) bool { return strings.HasPrefix(line, level) }

func stripLevel(line string) string {
	if strings.HasPrefix(line, "[") {
		if i := strings.Index(line, "] "); i > 0 {
			line = line[i+2:]
		}
	}
	return strings.TrimPrefix(line, "memberlist: ")
}

// declaredDead recognises memberlist refuting news of this node's death:
// a dead message, or a push/pull merge that listed it as dead (memberlist
// turns that into a suspect message "from" this node itself). A suspect
// message from a prober is not death: the node was only late to answer.
func declaredDead(line, self string) bool {
	return strings.Contains(line, "Refuting a dead message") ||
		strings.Contains(line, "Refuting a suspect message (from: "+self+")")
}

// peerRefused handles a refused connection to addr. Refused (a TCP reset
// to a SYN) means no process listens at a peer's advertised address: on a
// live host, its process is gone, which is the common crash (a kill, an
// OOM kill, a panic). Memberlist needs a failed probe, indirect probes and
// a suspicion timeout (1-2 s) to declare it dead; this node instead treats
// it as dead at once, for ownership and holds, which brings the crash gap
// down to the time until some message is sent to it.
//
// It is safe to do alone: rendezvous hashing moves only the refused
// peer's targets, so a node that excludes it takes only targets that no
// other node's view gives to anyone but the refused peer. Nodes that have
// not seen the refusal yet take their part when they do, or when gossip
// declares it dead. A host that is down or cut off answers no SYN at all,
// so it is left to memberlist, as a partition must be.
func (n *Node) peerRefused(addr string) {
	n.mu.Lock()
	var name string
	for _, p := range n.peers {
		if p.alive && !p.refused && p.addr == addr {
			p.refused, p.refusedSince = true, p.rec.Since
			name = p.name
			n.releaseHoldsLocked(p.name, 0, true)
			break
		}
	}
	n.mu.Unlock()
	if name == "" {
		return
	}
	n.metrics.refused.Inc()
	n.log.Info("peer refuses connections; its process is gone, so its targets move now", "peer", name, "addr", addr)
	signal(n.recompute)
}
