package cluster

import (
	"fmt"
	"time"
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

// skewProblemLocked names a live peer whose clock is more than Δ/4 from
// ours, or returns "". Peers not yet measured do not hold a node back:
// with many peers a first measurement of each takes N probe intervals.
func (n *Node) skewProblemLocked() string {
	limit := time.Duration(n.delta) * time.Millisecond / 4
	for _, p := range n.peers {
		if !p.alive {
			continue
		}
		if off, ok := p.clock.estimate(); ok && (off > limit || off < -limit) {
			return fmt.Sprintf("peer %s is %s off, more than Δ/4 = %s", p.name, off.Round(time.Millisecond), limit)
		}
	}
	return ""
}
