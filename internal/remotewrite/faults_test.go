package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/shoal-dev/shoal/internal/sample"
)

// mountTmpfs mounts a size- and inode-limited tmpfs for the test: a real
// filesystem that fills up. It needs root; without it the test is skipped,
// except under CI=true, where it fails.
func mountTmpfs(t *testing.T, size string, inodes int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs needs root, and CI must run this test")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%s,nr_inodes=%d", size, inodes), "tmpfs", dir).CombinedOutput()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file until the filesystem has no space left, and
// returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for i := 0; i < 1<<20; i++ {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return path
		}
	}
	t.Fatal("the disk did not fill")
	return ""
}

// fillInodes creates empty files until no inode is left, and returns a
// function that frees them.
func fillInodes(t *testing.T, dir string) func() {
	t.Helper()
	var paths []string
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("inode-%d", i))
		f, err := os.Create(p)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("using up inodes: %v", err)
			}
			break
		}
		f.Close()
		paths = append(paths, p)
		if i > 1000 {
			t.Fatal("inodes did not run out")
		}
	}
	return func() {
		for _, p := range paths {
			os.Remove(p)
		}
	}
}

// seriesBatch makes one batch of the named series at t, each with one
// sample; the long label makes the series' definitions take room.
func seriesBatch(prefix string, n int, t int64) *sample.Batch {
	b := &sample.Batch{}
	for i := range n {
		b.Samples = append(b.Samples, sample.Sample{
			Labels: labels.FromStrings("__name__", "m", "job", "j", "instance", "i", "series", fmt.Sprintf("%s-%d", prefix, i), "pad", strings.Repeat("x", 200)),
			T:      t, V: float64(t),
		})
	}
	return b
}

// TestSeriesFirstSeenWhileTheDiskIsFullAreDeliveredWhenSpaceReturns fills
// the queue's filesystem, appends a batch whose series are new (it fails:
// the definitions never reach the file), frees the space and appends those
// series again. Every sample appended after space returned must arrive,
// from the live segment and after a restart.
func TestSeriesFirstSeenWhileTheDiskIsFullAreDeliveredWhenSpaceReturns(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			dir := mountTmpfs(t, "512k", 64)
			rcv := newReceiver(t)
			ep := endpointFor(rcv)
			cfg := Config{Endpoints: []EndpointConfig{ep}}
			w, err := Open(Options{Dir: dir}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.q.append(seriesBatch("old", 20, 1000)); err != nil {
				t.Fatalf("append before the disk fills: %v", err)
			}
			filler := fillDisk(t, dir)
			// The engine below the memory hold: this append must fail.
			if err := w.q.append(seriesBatch("new", 20, 2000)); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append on a full disk: %v, want ENOSPC", err)
			}
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			after := seriesBatch("new", 20, 3000)
			after.Samples = append(after.Samples, seriesBatch("old", 20, 3000).Samples...)
			if err := w.q.append(after); err != nil {
				t.Fatalf("append after space returned: %v", err)
			}
			if restart {
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				w, err = Open(Options{Dir: dir}, cfg)
				if err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			defer func() { cancel(); <-done }()
			w.Flush()
			waitTotal(t, rcv, 60)
			got := rcv.snapshot()
			for k, ts := range got {
				want := []int64{3000}
				if strings.Contains(k, "old-") {
					want = []int64{1000, 3000}
				}
				if fmt.Sprint(ts) != fmt.Sprint(want) {
					t.Errorf("series %s: %v, want %v", k[:60], ts, want)
				}
			}
			if len(got) != 40 {
				t.Errorf("receiver has %d series, want 40", len(got))
			}
		})
	}
}

// failingOpen makes the queue's file creation fail with err while armed.
type failingOpen struct {
	armed atomic.Bool
	err   error
}

func (f *failingOpen) open(name string, flag int, perm os.FileMode) (queueFile, error) {
	if flag&os.O_CREATE != 0 && f.armed.Load() {
		return nil, &os.PathError{Op: "open", Path: name, Err: f.err}
	}
	return osOpen(name, flag, perm)
}

// TestSegmentCreationFailsAndTheQueueRecoversWithoutRestart makes the
// creation of the next segment fail (no inode left, no file descriptor
// left, an I/O error), then lifts the fault: the queue must append again
// and deliver every batch Receive accepted, once.
func TestSegmentCreationFailsAndTheQueueRecoversWithoutRestart(t *testing.T) {
	cases := []struct {
		name string
		// fault arms the fault and returns how to lift it.
		fault func(t *testing.T, dir string, fo *failingOpen) func()
	}{
		{"ENOSPC-inodes", func(t *testing.T, dir string, _ *failingOpen) func() {
			return fillInodes(t, dir)
		}},
		{"EMFILE", func(t *testing.T, _ string, _ *failingOpen) func() {
			var old syscall.Rlimit
			if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
				t.Fatal(err)
			}
			low := old
			low.Cur = 0
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"EIO", func(_ *testing.T, _ string, fo *failingOpen) func() {
			fo.armed.Store(true)
			return func() { fo.armed.Store(false) }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := mountTmpfs(t, "4m", 16)
			rcv := newReceiver(t)
			cfg := Config{Endpoints: []EndpointConfig{endpointFor(rcv)}}
			fo := &failingOpen{err: syscall.EIO}
			// Segments of 4 KiB: every batch below fills one, so every
			// append rotates.
			reg := prometheus.NewRegistry()
			w, err := Open(Options{Dir: dir, SegmentBytes: 4 << 10, openFile: fo.open, Registerer: reg}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Receive(context.Background(), seriesBatch("a", 20, 1000)); err != nil {
				t.Fatalf("receive before the fault: %v", err)
			}
			lift := tc.fault(t, dir, fo)
			// This batch fills the active segment; rotating it fails.
			err1 := w.Receive(context.Background(), seriesBatch("a", 20, 2000))
			// No active segment to append this one to.
			err2 := w.Receive(context.Background(), seriesBatch("a", 20, 3000))
			if held := counter(t, reg, "shoal_remote_write_held_samples"); held != 20 {
				t.Errorf("held samples during the fault = %v, want 20 (the batch that found no segment)", held)
			}
			if err, _, held := w.AppendFailure(); err == nil || held != 20 {
				t.Errorf("AppendFailure during the fault = %v, %d held; want an error and 20", err, held)
			}
			lift()
			err3 := w.Receive(context.Background(), seriesBatch("a", 20, 4000))
			for i, err := range []error{err1, err2, err3} {
				if err != nil {
					t.Logf("receive %d: %v", i+1, err)
					t.Fail()
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			defer func() { cancel(); <-done }()
			w.Flush()
			waitTotal(t, rcv, 80)
			checkExactlyOnce(t, rcv.snapshot(), 20, 4)
			if err, _, _ := w.AppendFailure(); err != nil {
				t.Errorf("AppendFailure after recovery = %v", err)
			}
			if held := counter(t, reg, "shoal_remote_write_held_samples"); held != 0 {
				t.Errorf("held samples after recovery = %v", held)
			}
		})
	}
}

// waitTotal waits for the receiver to hold n samples, failing with what it
// holds at the deadline.
func waitTotal(t *testing.T, rcv *receiver, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for rcv.total() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver holds %d samples after 20s, want %d", rcv.total(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDamagedRecordInTheActiveSegmentIsSkippedAndCounted damages a record in
// the middle of the segment being written: the shard must skip it, count
// it, deliver what follows, and still answer a reshard and a shutdown.
func TestDamagedRecordInTheActiveSegmentIsSkippedAndCounted(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t)
	ep := endpointFor(rcv)
	ep.Queue.MaxShards = 4
	cfg := Config{Endpoints: []EndpointConfig{ep}}
	reg := prometheus.NewRegistry()
	w, err := Open(Options{Dir: dir, Registerer: reg}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 1000)); err != nil {
		t.Fatal(err)
	}
	offB := w.q.end.Load()
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 2000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 3000)); err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside the second batch's record on disk.
	seg := w.q.activeStart.Load()
	f, err := os.OpenFile(w.q.segPath(seg), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	at := int64(offB-seg) + 40
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
	f.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after shutdown")
		}
	}
	defer stop()
	w.Flush()
	waitTotal(t, rcv, 40)
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 4000)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	waitTotal(t, rcv, 60)
	// A reshard pauses every shard: it must not wait for a dead one.
	ep.Queue.MinShards = 2
	if err := w.Update(Config{Endpoints: []EndpointConfig{ep}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "two shards", func() bool {
		return counter(t, reg, "prometheus_remote_storage_shards") == 2
	})
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 5000)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	waitTotal(t, rcv, 80)
	stop()
	for k, ts := range rcv.snapshot() {
		if fmt.Sprint(ts) != "[1000 3000 4000 5000]" {
			t.Errorf("series %s: %v, want [1000 3000 4000 5000] (2000 was damaged)", k[:40], ts)
		}
	}
	if got := counter(t, reg, "shoal_remote_write_queue_damaged_total", "kind", "record"); got < 1 {
		t.Errorf("damaged records counted = %v, want at least 1", got)
	}
}

// flakyReads makes the first n reads of the queue's segments fail with EIO.
type flakyReads struct {
	left atomic.Int64
}

type flakyFile struct {
	queueFile
	fr *flakyReads
}

func (f flakyFile) ReadAt(p []byte, off int64) (int, error) {
	if f.fr.left.Add(-1) >= 0 {
		return 0, syscall.EIO
	}
	return f.queueFile.ReadAt(p, off)
}

func (fr *flakyReads) open(name string, flag int, perm os.FileMode) (queueFile, error) {
	f, err := osOpen(name, flag, perm)
	if err != nil || flag != os.O_RDONLY {
		return f, err
	}
	return flakyFile{f, fr}, nil
}

// TestReadErrorsAreRetriedAndCounted makes reads of the log fail a few times:
// the shard must retry, count them and lose nothing.
func TestReadErrorsAreRetriedAndCounted(t *testing.T) {
	rcv := newReceiver(t)
	fr := &flakyReads{}
	fr.left.Store(3)
	reg := prometheus.NewRegistry()
	w, err := Open(Options{Dir: t.TempDir(), Registerer: reg, openFile: fr.open}, Config{Endpoints: []EndpointConfig{endpointFor(rcv)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := w.Receive(context.Background(), seriesBatch("s", 20, int64(1000*(i+1)))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	w.Flush()
	waitTotal(t, rcv, 100)
	checkExactlyOnce(t, rcv.snapshot(), 20, 5)
	if got := counter(t, reg, "shoal_remote_write_queue_damaged_total", "kind", "read"); got != 3 {
		t.Errorf("failed reads counted = %v, want 3", got)
	}
}

// TestAgeBoundDropsCountAsTooOld drops a segment for the queue's age bound:
// its samples count under too_old, not queue_full.
func TestAgeBoundDropsCountAsTooOld(t *testing.T) {
	rcv := newReceiver(t)
	reg := prometheus.NewRegistry()
	w, err := Open(Options{Dir: t.TempDir(), Registerer: reg, MaxAge: time.Hour}, Config{Endpoints: []EndpointConfig{endpointFor(rcv)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 1000)); err != nil {
		t.Fatal(err)
	}
	w.tick(time.Now().Add(2 * time.Hour))
	if got := counter(t, reg, "prometheus_remote_storage_samples_dropped_total", "reason", "too_old"); got != 20 {
		t.Errorf("dropped too_old = %v, want 20", got)
	}
	if got := counter(t, reg, "prometheus_remote_storage_samples_dropped_total", "reason", "queue_full"); got != 0 {
		t.Errorf("dropped queue_full = %v, want 0", got)
	}
}

// TestSampleAgeLimitAppliesToRetries keeps the receiver failing until a
// batch is older than sample_age_limit: the retry must drop it as too_old
// instead of delivering it.
func TestSampleAgeLimitAppliesToRetries(t *testing.T) {
	rcv := newReceiver(t)
	const limit = time.Second
	now := time.Now()
	oldT := now.UnixMilli()
	rcv.setVerdict(func(_ int, req *prompb.WriteRequest) (int, string) {
		for _, ts := range req.Timeseries {
			for _, s := range ts.Samples {
				if s.Timestamp == oldT && time.Since(now) < limit+200*time.Millisecond {
					return http.StatusServiceUnavailable, "down"
				}
			}
		}
		return 0, ""
	})
	ep := endpointFor(rcv)
	ep.Queue.SampleAgeLimit = limit
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, []*sample.Batch{seriesBatch("s", 20, oldT)})
	r.w.Flush()
	eventually(t, 20*time.Second, "the aged samples dropped", func() bool {
		return counter(t, r.reg, "prometheus_remote_storage_samples_dropped_total", "reason", "too_old") >= 20
	})
	fresh := time.Now().UnixMilli()
	r.receive(t, []*sample.Batch{seriesBatch("s", 20, fresh)})
	r.w.Flush()
	waitTotal(t, rcv, 20)
	for k, ts := range rcv.snapshot() {
		if fmt.Sprint(ts) != fmt.Sprint([]int64{fresh}) {
			t.Errorf("series %s: %v, want only the fresh sample %d", k[:40], ts, fresh)
		}
	}
	if got := counter(t, r.reg, "prometheus_remote_storage_samples_dropped_total", "reason", "too_old"); got != 20 {
		t.Errorf("dropped too_old = %v, want 20", got)
	}
}

// TestMemoryHoldIsBounded fills the disk and receives more than the memory
// hold takes: what fits is held and delivered once space returns, the rest
// is refused with an error and counted as dropped for queue_unwritable.
func TestMemoryHoldIsBounded(t *testing.T) {
	dir := mountTmpfs(t, "512k", 64)
	rcv := newReceiver(t)
	reg := prometheus.NewRegistry()
	w, err := Open(Options{Dir: dir, Registerer: reg, MaxHeldSamples: 30}, Config{Endpoints: []EndpointConfig{endpointFor(rcv)}})
	if err != nil {
		t.Fatal(err)
	}
	filler := fillDisk(t, dir)
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 1000)); err != nil {
		t.Fatalf("the first batch on a full disk: %v, want it held", err)
	}
	if err := w.Receive(context.Background(), seriesBatch("s", 20, 2000)); err == nil {
		t.Fatal("a batch beyond the hold's bound was accepted")
	}
	if got := counter(t, reg, "prometheus_remote_storage_samples_dropped_total", "reason", "queue_unwritable"); got != 20 {
		t.Errorf("dropped queue_unwritable = %v, want 20", got)
	}
	// The held samples are pending: the delivery watermark stays below them.
	if wm := w.Watermark(); wm >= 1000 {
		t.Errorf("watermark %d while samples stamped 1000 are held, want below 1000", wm)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	w.tick(time.Now()) // appends what is held
	if held := counter(t, reg, "shoal_remote_write_held_samples"); held != 0 {
		t.Errorf("held after space returned = %v, want 0", held)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	w.Flush()
	waitTotal(t, rcv, 20)
	checkExactlyOnce(t, rcv.snapshot(), 20, 1)
}

// badSegment makes every read of one segment fail, and (when noOpen) its
// opening too.
type badSegment struct {
	name   atomic.Value // string
	noOpen bool
}

type badFile struct{ queueFile }

func (badFile) ReadAt([]byte, int64) (int, error) { return 0, syscall.EIO }

func (b *badSegment) open(name string, flag int, perm os.FileMode) (queueFile, error) {
	bad, _ := b.name.Load().(string)
	if flag != os.O_RDONLY || name != bad {
		return osOpen(name, flag, perm)
	}
	if b.noOpen {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EIO}
	}
	f, err := osOpen(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return badFile{f}, nil
}

// TestAnUnreadableSegmentIsSkipped makes one sealed segment unreadable (its
// reads fail, or it cannot be opened): the shard gives up on it after a few
// tries, counts it, delivers the segments after it, and shuts down.
func TestAnUnreadableSegmentIsSkipped(t *testing.T) {
	for _, noOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("noOpen=%v", noOpen), func(t *testing.T) {
			rcv := newReceiver(t)
			bs := &badSegment{noOpen: noOpen}
			reg := prometheus.NewRegistry()
			w, err := Open(Options{Dir: t.TempDir(), Registerer: reg, SegmentBytes: 4 << 10, openFile: bs.open}, Config{Endpoints: []EndpointConfig{endpointFor(rcv)}})
			if err != nil {
				t.Fatal(err)
			}
			bs.name.Store(w.q.segPath(w.q.activeStart.Load()))
			// Each batch fills a segment of its own.
			for i := range 3 {
				if err := w.Receive(context.Background(), seriesBatch("s", 20, int64(1000*(i+1)))); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			w.Flush()
			waitTotal(t, rcv, 40)
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return after shutdown")
			}
			for k, ts := range rcv.snapshot() {
				if fmt.Sprint(ts) != "[2000 3000]" {
					t.Errorf("series %s: %v, want [2000 3000] (1000 was unreadable)", k[:40], ts)
				}
			}
			if got := counter(t, reg, "shoal_remote_write_queue_damaged_total", "kind", "read"); got < maxReadFails {
				t.Errorf("failed reads counted = %v, want at least %d", got, maxReadFails)
			}
		})
	}
}
