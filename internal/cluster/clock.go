package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"
)

// Clock offsets are estimated from memberlist's probes: each ack carries
// the peer's wall clock (AckPayload), and the probe's round trip tells
// when it was read (NotifyPingComplete). Of the last clockSamples
// estimates the one with the shortest round trip is kept, as NTP does:
// its midpoint is the least uncertain.
const clockSamples = 8

type clockSample struct {
	offset, rtt time.Duration
}

type clockEstimate struct {
	samples [clockSamples]clockSample
	n, next int
}

func (c *clockEstimate) add(offset, rtt time.Duration) {
	c.samples[c.next] = clockSample{offset, rtt}
	c.next = (c.next + 1) % clockSamples
	c.n = min(c.n+1, clockSamples)
}

// estimate returns the offset of the peer's clock from ours, and whether
// any probe has measured it.
func (c *clockEstimate) estimate() (time.Duration, bool) {
	if c.n == 0 {
		return 0, false
	}
	best := c.samples[0]
	for _, s := range c.samples[1:c.n] {
		if s.rtt < best.rtt {
			best = s
		}
	}
	return best.offset, true
}

func (n *Node) observeClock(name string, offset, rtt time.Duration) {
	n.mu.Lock()
	p := n.peers[name]
	if p == nil {
		n.mu.Unlock()
		return
	}
	p.clock.add(offset, rtt)
	est, _ := p.clock.estimate()
	n.mu.Unlock()
	n.metrics.clockOffset.WithLabelValues(name).Set(est.Seconds())
}

// The skew rule. Handoffs are exact only among nodes whose clocks agree
// within Δ/4, so a node measures its peers' clocks before it participates
// and keeps checking them:
//
//   - The reference is the live participants other than this node, or,
//     while there are none (a fleet forming), every live peer.
//   - A viewer participates only when every peer of the reference has been
//     measured (or clockMeasureWait has passed, for peers that cannot
//     answer a clock probe) and its clock agrees with a strict majority of
//     the reference plus itself: agreeing peers + 1 > disagreeing peers.
//   - A participant steps back when its clock disagrees with more of the
//     reference than it agrees with: disagreeing > agreeing + 1. It then
//     hands its targets over as a leaving node does (terminating for Δ),
//     becomes a viewer, and participates again by the first rule once its
//     clock agrees.
//
// A peer off from one node only is off from the majority too, so it is
// the one that stays out; two nodes that disagree keep participating
// (neither can tell which clock is wrong) and both report the offset.
const (
	// clockMeasureWait bounds how long a viewer waits for peers that do
	// not answer clock probes (older versions answer only memberlist's).
	clockMeasureWait = 5 * time.Second
	// clockProbeEvery is the interval of direct clock probes to one peer
	// while it has not been measured, or while this node is out because
	// of skew and needs fresh measurements to return.
	clockProbeEvery = time.Second
)

// clockVerdictLocked applies the skew rule. For a viewer (participating
// false) ok says whether it may participate; for a participant, whether
// it may stay. reason says why not (or what it waits for); measuring is
// true while the verdict waits for measurements. The caller holds n.mu.
func (n *Node) clockVerdictLocked(now time.Time, participating bool) (ok bool, reason string, measuring bool) {
	limit := time.Duration(n.delta) * time.Millisecond / 4
	var ref []*peer
	for _, p := range n.peers {
		if p.alive && !p.refused && p.rec.State == Participant {
			ref = append(ref, p)
		}
	}
	if len(ref) == 0 && !participating {
		for _, p := range n.peers {
			if p.alive && !p.refused {
				ref = append(ref, p)
			}
		}
	}
	measured, bad, unmeasured := 0, 0, 0
	worst, worstOff := "", time.Duration(0)
	for _, p := range ref {
		off, known := p.clock.estimate()
		if !known {
			unmeasured++
			continue
		}
		measured++
		if off > limit || off < -limit {
			bad++
			if a, w := absDur(off), absDur(worstOff); a > w || worst == "" {
				worst, worstOff = p.name, off
			}
		}
	}
	agree := measured - bad + 1 // this node agrees with itself
	if participating {
		if bad > agree {
			return false, fmt.Sprintf("this node's clock disagrees with %d of %d participants by more than Δ/4 = %s (peer %s is %s off)",
				bad, measured, limit, worst, worstOff.Round(time.Millisecond)), false
		}
		return true, "", false
	}
	if unmeasured > 0 {
		if n.clockWaitFrom.IsZero() {
			n.clockWaitFrom = now
		}
		if now.Sub(n.clockWaitFrom) < clockMeasureWait {
			return false, fmt.Sprintf("measuring the clocks of its peers (%d of %d measured)", measured, measured+unmeasured), true
		}
	}
	if agree > bad {
		return true, "", false
	}
	return false, fmt.Sprintf("this node's clock disagrees with %d of %d measured peers by more than Δ/4 = %s (peer %s is %s off)",
		bad, measured, limit, worst, worstOff.Round(time.Millisecond)), false
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// checkClock runs the skew rule for a participant: one whose clock
// disagrees with the fleet steps back (see the rule above); a node that
// stepped back becomes a viewer once its handoff is over.
func (n *Node) checkClock() {
	now := n.now()
	n.mu.Lock()
	if n.local.State == Terminating && n.skewOut && !n.leaving && now.UnixMilli() >= n.local.Since+n.delta {
		// The handoff of a node that stepped back is over: it is a
		// viewer until its clock agrees again.
		n.local.State, n.local.Since, n.local.Joined, n.local.Prev = Viewer, n.nextSinceLocked(now.UnixMilli()), 0, 0
		n.mu.Unlock()
		n.stateChanged()
		return
	}
	if n.local.State != Participant {
		n.mu.Unlock()
		return
	}
	ok, reason, _ := n.clockVerdictLocked(now, true)
	if ok {
		n.mu.Unlock()
		return
	}
	joined := n.local.Since
	if n.local.Prev != 0 && now.UnixMilli() < n.local.Since+n.delta {
		joined = n.local.Prev
	}
	n.local.State, n.local.Since, n.local.Joined, n.local.Prev = Terminating, n.nextSinceLocked(now.UnixMilli()), joined, 0
	n.skewOut, n.viewerReason = true, reason
	since := n.local.Since
	n.mu.Unlock()
	n.metrics.skewStepBacks.Inc()
	n.metrics.skewExcluded.Set(1)
	n.log.Warn("stepping back to viewer: this node's clock is too far off the fleet's; its targets go to its peers",
		"reason", reason, "owns_until", time.UnixMilli(since+n.delta).UTC())
	n.stateChanged()
}

// Direct clock probes: memberlist measures a peer's clock only when it
// probes that peer, once per round over all peers, so a node that just
// joined a large fleet would wait many probe intervals. A viewer sends
// its own probe to each peer it has not measured: a request carrying its
// name and clock, answered by the peer's clock at receipt.
const (
	clockRequestMagic = 0xd3
	clockReplyMagic   = 0xd4
)

func clockMessage(magic byte, name string, times ...int64) []byte {
	b := binary.AppendUvarint([]byte{magic}, uint64(len(name)))
	b = append(b, name...)
	for _, t := range times {
		b = binary.AppendVarint(b, t)
	}
	return b
}

// parseClockMessage returns the magic, the name and the times of a clock
// message (one time for a request, two for a reply).
func parseClockMessage(b []byte) (magic byte, name string, times []int64, ok bool) {
	if len(b) < 2 || (b[0] != clockRequestMagic && b[0] != clockReplyMagic) {
		return 0, "", nil, false
	}
	magic = b[0]
	l, k := binary.Uvarint(b[1:])
	if k <= 0 || l == 0 || l > 256 || l > uint64(len(b)-1-k) {
		return 0, "", nil, false
	}
	name = string(b[1+k : 1+k+int(l)])
	rest := b[1+k+int(l):]
	want := 1
	if magic == clockReplyMagic {
		want = 2
	}
	for range want {
		v, m := binary.Varint(rest)
		if m <= 0 {
			return 0, "", nil, false
		}
		times = append(times, v)
		rest = rest[m:]
	}
	return magic, name, times, true
}

// clockReply is an answer waiting to be sent from the main loop (the
// delegate must not call into memberlist).
type clockReply struct {
	to  string
	msg []byte
}

// handleClockMessage answers a clock request or takes a reply's
// measurement; it reports whether b was a clock message.
func (n *Node) handleClockMessage(b []byte) bool {
	magic, name, times, ok := parseClockMessage(b)
	if !ok {
		return false
	}
	now := n.now().UnixNano()
	if magic == clockRequestMagic {
		select {
		case n.clockReplies <- clockReply{to: name, msg: clockMessage(clockReplyMagic, n.name, times[0], now)}:
		default: // a flood of requests is not worth answering
		}
		return true
	}
	t0, t1 := times[0], times[1]
	n.mu.Lock()
	p := n.peers[name]
	valid := p != nil && p.clockAsked != 0 && p.clockAsked == t0
	if valid {
		p.clockAsked = 0
	}
	n.mu.Unlock()
	rtt := time.Duration(now - t0)
	if !valid || rtt < 0 || rtt > 10*time.Second {
		return true
	}
	n.observeClock(name, time.Duration(t1-t0)-rtt/2, rtt)
	return true
}

// clockReplyLoop answers peers' clock probes as soon as they arrive: a
// reply that waited would add its wait to the peer's round trip, and half
// of it to the offset measured.
func (n *Node) clockReplyLoop(ctx context.Context) {
	for {
		var r clockReply
		select {
		case <-ctx.Done():
			return
		case r = <-n.clockReplies:
		}
		ml := n.memberlistNow()
		n.mu.Lock()
		p := n.peers[r.to]
		var to memberlist.Node
		if p != nil && p.alive {
			to = p.node
		}
		n.mu.Unlock()
		if ml != nil && to.Name != "" {
			if err := ml.SendBestEffort(&to, r.msg); err != nil {
				n.log.Debug("clock probe reply not sent", "peer", to.Name, "err", err)
			}
		}
	}
}

// sendClockProbes sends clock requests to the peers that need a
// measurement: those not measured yet while this node
// is a viewer, and all of the reference while it is out for skew.
func (n *Node) sendClockProbes() {
	ml := n.memberlistNow()
	if ml == nil {
		return
	}
	// Probes are paced by the monotonic clock: the wall clock under test
	// may be the one that jumps.
	now, wall := time.Now(), n.now()
	var out []memberlist.Node
	var stamps []int64
	n.mu.Lock()
	if n.local.State == Viewer && n.readyRequested {
		for _, p := range n.peers {
			_, known := p.clock.estimate()
			if !p.alive || (known && !n.skewOut) || now.Sub(p.clockAskedAt) < clockProbeEvery {
				continue
			}
			p.clockAskedAt = now
			p.clockAsked = wall.UnixNano()
			out = append(out, p.node)
			stamps = append(stamps, p.clockAsked)
		}
	}
	n.mu.Unlock()
	for i := range out {
		if err := ml.SendBestEffort(&out[i], clockMessage(clockRequestMagic, n.name, stamps[i])); err != nil {
			n.log.Debug("clock probe not sent", "peer", out[i].Name, "err", err)
		}
	}
}
