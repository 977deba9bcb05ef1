package scrape

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// tickAt is one tick of one target.
type tickAt struct {
	ms     int64
	target int
}

// upcoming returns the first n ticks of each target after start, in time
// order.
func upcoming(start int64, targets []labels.Labels, iv time.Duration, n int) []tickAt {
	ivMs := iv.Milliseconds()
	var out []tickAt
	for i, l := range targets {
		t := firstTick(start, ivMs, gridOffset(Key(l, nil), ivMs))
		for k := 0; k < n; k++ {
			out = append(out, tickAt{ms: t + int64(k)*ivMs, target: i})
		}
	}
	slices.SortFunc(out, func(a, b tickAt) int { return int(a.ms - b.ms) })
	return out
}

// upAt returns the up samples of instance addr at tick ms.
func upAt(ss []sample.Sample, addr string, ms int64) []sample.Sample {
	var out []sample.Sample
	for _, s := range find(ss, "up", "instance", addr) {
		if s.T == ms {
			out = append(out, s)
		}
	}
	return out
}

func TestSamplesAreStampedWithExactGridTicks(t *testing.T) {
	a := newTextTarget(t, "a 1\nb 2\n")
	b := newTextTarget(t, "c 3\n")
	targets := []labels.Labels{targetLabels(a.addr()), targetLabels(b.addr())}
	addrs := []string{a.addr(), b.addr()}

	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets(targets, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	start := h.clock.Now().UnixMilli()
	for _, tk := range upcoming(start, targets, cfg.Interval, 3) {
		h.advanceTo(tk.ms, len(targets))
		h.recv.waitFor(t, "the tick's up sample", func(ss []sample.Sample) bool {
			return len(upAt(ss, addrs[tk.target], tk.ms)) == 1
		})
	}
	ss := h.recv.samples()
	ivMs := cfg.Interval.Milliseconds()
	for i, l := range targets {
		off := gridOffset(Key(l, nil), ivMs)
		for _, s := range ss {
			if s.Labels.Get("instance") != addrs[i] {
				continue
			}
			if (s.T-off)%ivMs != 0 {
				t.Fatalf("sample %s stamped %d, off the grid (offset %d)", s.Labels, s.T, off)
			}
		}
	}
	if got := len(find(ss, "a")); got != 3 {
		t.Fatalf("got %d samples of a, want 3 (one per tick)", got)
	}
	if v := find(ss, "up", "instance", a.addr())[0].V; v != 1 {
		t.Fatalf("up = %v, want 1", v)
	}
}

func TestTwoEnginesStampTheSameTicks(t *testing.T) {
	tgt := newTextTarget(t, "a 1\n")
	targets := []labels.Labels{targetLabels(tgt.addr())}
	cfg := testConfig()
	var stamps [2][]int64
	for i := range 2 {
		h := newHarness(t, nil)
		// The second node starts 3.3 s later on the same grid.
		h.clock.set(h.clock.Now().Add(time.Duration(i) * 3300 * time.Millisecond))
		if err := h.engine.SetTargets(targets, cfg); err != nil {
			t.Fatal(err)
		}
		h.start()
		for _, tk := range upcoming(h.clock.Now().UnixMilli(), targets, cfg.Interval, 2) {
			h.advanceTo(tk.ms, 1)
			h.recv.waitFor(t, "the tick", func(ss []sample.Sample) bool { return len(upAt(ss, tgt.addr(), tk.ms)) == 1 })
			stamps[i] = append(stamps[i], tk.ms)
		}
		for _, s := range find(h.recv.samples(), "a") {
			if !slices.Contains(stamps[i], s.T) {
				t.Fatalf("engine %d stamped %d, not one of its ticks %v", i, s.T, stamps[i])
			}
		}
		h.stop()
	}
	// Both saw the same grid: the later node's ticks are the earlier's
	// shifted by whole intervals.
	for _, s := range stamps[1] {
		if (s-stamps[0][0])%cfg.Interval.Milliseconds() != 0 {
			t.Fatalf("engines disagree on the grid: %v vs %v", stamps[0], stamps[1])
		}
	}
}

func TestTicksThatCannotStartInTimeAreSkippedAndCounted(t *testing.T) {
	tgt := newTextTarget(t, "a 1\n")
	targets := []labels.Labels{targetLabels(tgt.addr())}
	h := newHarness(t, nil)
	cfg := testConfig()
	if err := h.engine.SetTargets(targets, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	ivMs := cfg.Interval.Milliseconds()
	first := upcoming(h.clock.Now().UnixMilli(), targets, cfg.Interval, 1)[0].ms
	h.advanceTo(first, 1)
	h.recv.waitFor(t, "the first tick", func(ss []sample.Sample) bool { return len(upAt(ss, tgt.addr(), first)) == 1 })

	// The node stalls for 3.6 intervals: ticks first+I, +2I and +3I can no
	// longer start by their tick plus half an interval; +4I is due at
	// first+4I, within reach.
	h.advanceTo(first+36*ivMs/10, 1)
	next := first + 4*ivMs
	h.advanceTo(next, 1)
	ss := h.recv.waitFor(t, "the tick after the stall", func(ss []sample.Sample) bool { return len(upAt(ss, tgt.addr(), next)) == 1 })
	for _, s := range find(ss, "a") {
		if s.T != first && s.T != next {
			t.Fatalf("a sample was stamped %d, late; only %d and %d are valid", s.T, first, next)
		}
	}
	if got := counterValue(t, h.engine.m.ticksSkipped); got != 3 {
		t.Fatalf("skipped ticks = %v, want 3", got)
	}
}

// With a wake quantum, a tick starts at the last multiple of the quantum
// before it, and its samples are still stamped with the tick.
func TestWakeQuantumMovesTheStartNotTheStamp(t *testing.T) {
	tt := newTextTarget(t, "a 1\n")
	cfg := testConfig()
	const quantum = time.Second // a tenth of testConfig's 10 s interval
	h := newHarness(t, nil)
	h.engine = New(Options{Clock: h.clock, WakeQuantum: quantum})
	h.engine.SetReceiver(h.recv)
	// A target whose grid is not on the quantum's multiples.
	var lt labels.Labels
	for i := 0; ; i++ {
		lt = targetLabels(tt.addr(), "n", fmt.Sprint(i))
		if gridOffset(Key(lt, nil), cfg.Interval.Milliseconds())%quantum.Milliseconds() != 0 {
			break
		}
	}
	if err := h.engine.SetTargets([]labels.Labels{lt}, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()
	// The first tick at least one quantum after the start, so that its
	// wake-up lies ahead too.
	tick := upcoming(h.clock.Now().UnixMilli()+quantum.Milliseconds(), []labels.Labels{lt}, cfg.Interval, 1)[0].ms
	wake := tick / quantum.Milliseconds() * quantum.Milliseconds()
	h.advanceTo(wake, 1)
	h.recv.waitFor(t, "up stamped with the tick", func(ss []sample.Sample) bool { return len(upAt(ss, tt.addr(), tick)) == 1 })
	if now := h.clock.Now().UnixMilli(); now >= tick {
		t.Fatalf("scraped at %d, not before the tick %d", now, tick)
	}
}
