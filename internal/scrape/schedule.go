package scrape

import "time"

// The tick grid. A target with interval I (in ms) and key k scrapes at the
// Unix-millisecond ticks t = n·I + (k mod I). Every node computes the same
// ticks, so two nodes that scrape the same target stamp the same times and a
// handoff at tick t leaves neither a gap nor an overlap. A tick that cannot
// start by t + I/2 is skipped and counted, never stamped later: a late
// sample with a grid timestamp would land out of place in the series.
//
// Waking is not stamping. The grid spreads a node's targets evenly over the
// interval, so that 300 targets every 2 s wake the process 150 times a
// second, and each wake-up costs thread switches in the Go scheduler and
// the kernel beyond the scrape itself. With a wake quantum Q, a loop wakes
// for tick t at the last multiple of Q (Unix ms) at or before t, so the
// ticks of a Q-long window start together; the samples are still stamped
// t. Waking early rather than late keeps a handoff exact: a leaving node
// stops at s+Δ, and every tick before s+Δ must have started by then. Q is
// capped at a tenth of the interval.

// Clock is the engine's source of time. Tests inject a fake one to drive
// the grid without sleeping.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// gridOffset is the target's phase within its interval.
func gridOffset(key uint64, intervalMs int64) int64 {
	return int64(key % uint64(intervalMs))
}

// tickAtOrAfter returns the first grid tick at or after ms.
func tickAtOrAfter(ms, intervalMs, offset int64) int64 {
	n := floorDiv(ms-offset, intervalMs)
	t := n*intervalMs + offset
	if t < ms {
		t += intervalMs
	}
	return t
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// firstTick is the first tick of a target that starts at now: the next grid
// tick at or after now, never one in the past.
func firstTick(now, intervalMs, offset int64) int64 {
	return tickAtOrAfter(now, intervalMs, offset)
}

// nextTick decides which tick comes after last at time now. It returns the
// tick to start (now or after waiting until it), and how many ticks between
// last and it were skipped because they could no longer start by their
// tick plus half the interval. last need not lie on the current grid (the
// interval may have changed): the result is always after it.
func nextTick(now, last, intervalMs, offset int64) (t int64, skipped int64) {
	t = tickAtOrAfter(last+1, intervalMs, offset)
	// The earliest tick that may still start: t' + I/2 >= now.
	earliest := tickAtOrAfter(now-intervalMs/2, intervalMs, offset)
	if earliest > t {
		skipped = (earliest - t) / intervalMs
		t = earliest
	}
	return t, skipped
}

// tooLate reports whether a tick can no longer start at now.
func tooLate(now, t, intervalMs int64) bool {
	return now > t+intervalMs/2
}

// wakeAt is when a loop wakes to start tick t: t itself, or with a wake
// quantum of quantumMs, the last multiple of it at or before t (at most
// interval/10 earlier).
func wakeAt(t, intervalMs, quantumMs int64) int64 {
	q := min(quantumMs, intervalMs/10)
	if q <= 1 {
		return t
	}
	return floorDiv(t, q) * q
}
