package scrape

import "testing"

func TestTickAtOrAfterIsOnTheGrid(t *testing.T) {
	for _, tc := range []struct {
		name              string
		ms, iv, off, want int64
	}{
		{"exactly on a tick", 1_000, 100, 0, 1_000},
		{"just after a tick", 1_001, 100, 0, 1_100},
		{"with an offset", 1_001, 100, 7, 1_007},
		{"offset already passed", 1_008, 100, 7, 1_107},
		{"zero time", 0, 100, 30, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tickAtOrAfter(tc.ms, tc.iv, tc.off); got != tc.want {
				t.Fatalf("tickAtOrAfter(%d, %d, %d) = %d, want %d", tc.ms, tc.iv, tc.off, got, tc.want)
			}
		})
	}
}

func TestNextTickSkipsTicksThatCannotStartByHalfAnInterval(t *testing.T) {
	const iv, off = 1000, 250
	for _, tc := range []struct {
		name        string
		now, last   int64
		wantTick    int64
		wantSkipped int64
	}{
		{"on time", 10_100, 9_250, 10_250, 0},
		{"late but within half an interval", 10_700, 9_250, 10_250, 0},
		{"exactly half an interval late", 10_750, 9_250, 10_250, 0},
		{"just past half an interval", 10_751, 9_250, 11_250, 1},
		{"three intervals late", 13_300, 9_250, 13_250, 3},
		{"grid changed: stays after last", 10_100, 10_000, 10_250, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tick, skipped := nextTick(tc.now, tc.last, iv, off)
			if tick != tc.wantTick || skipped != tc.wantSkipped {
				t.Fatalf("nextTick(now=%d, last=%d) = (%d, %d), want (%d, %d)", tc.now, tc.last, tick, skipped, tc.wantTick, tc.wantSkipped)
			}
			if (tick-off)%iv != 0 {
				t.Fatalf("tick %d is off the grid", tick)
			}
		})
	}
}

func TestTwoNodesComputeTheSameTicks(t *testing.T) {
	const iv = 15_000
	key := uint64(0xdeadbeefcafe)
	off := gridOffset(key, iv)
	// Nodes that start at different moments agree on every later tick.
	a := firstTick(1_700_000_000_123, iv, off)
	b := firstTick(1_700_000_007_999, iv, off)
	for b > a {
		a += iv
	}
	if a != b {
		t.Fatalf("node A ticks at %d, node B at %d", a, b)
	}
}

func TestTooLate(t *testing.T) {
	if tooLate(1_500, 1_000, 1_000) {
		t.Fatal("a tick half an interval late must still start")
	}
	if !tooLate(1_501, 1_000, 1_000) {
		t.Fatal("a tick more than half an interval late must be skipped")
	}
}

func TestWakeAtGroupsTicksWithoutMovingThem(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		tick, interval, quant int64
		want                  int64
	}{
		{"no quantum", 1_000_003, 2000, 0, 1_000_003},
		{"back to the last multiple", 1_000_013, 2000, 20, 1_000_000},
		{"a tick on a multiple wakes at its tick", 1_000_020, 2000, 20, 1_000_020},
		{"capped at a tenth of the interval", 1_000_013, 100, 20, 1_000_010},
		{"too short an interval to group", 1_000_003, 10, 20, 1_000_003},
	} {
		if got := wakeAt(tc.tick, tc.interval, tc.quant); got != tc.want {
			t.Errorf("%s: wakeAt(%d, %d, %d) = %d, want %d", tc.name, tc.tick, tc.interval, tc.quant, got, tc.want)
		}
	}
}
