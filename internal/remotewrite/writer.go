package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// Defaults of Options.
const (
	DefaultMaxBytes        = 1 << 30
	DefaultMaxAge          = 2 * time.Hour
	DefaultFlushOnShutdown = 10 * time.Second
	DefaultReshardInterval = 10 * time.Second
	DefaultMaxHeldSamples  = 500000
	maxSegmentBytes        = 64 << 20
)

// Options configure a Writer once, when it is opened.
type Options struct {
	// Dir holds the queue; it is created if missing.
	Dir        string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// MaxBytes bounds the queue on disk (default 1 GiB), MaxAge the age of
	// its data (default 2h, negative for none). Past either, the oldest
	// segment is dropped and its unsent samples are counted.
	MaxBytes int64
	MaxAge   time.Duration
	// SegmentBytes is the size at which a segment is sealed; default
	// MaxBytes/16, at most 64 MiB. When it is left at its default, a
	// segment grows past it while the series definitions it holds are
	// more than an eighth of it, up to MaxBytes/4 (see queue.segmentFull),
	// so that a queue of many series does not spend most of its bytes
	// redefining them.
	SegmentBytes int64
	// WatermarkLag is subtracted from the watermark when nothing is
	// pending (see Watermark).
	WatermarkLag time.Duration
	// FlushOnShutdown bounds how long Run keeps sending after its context
	// ends (default 10s; negative for not at all).
	FlushOnShutdown time.Duration
	// ReshardInterval is how often each endpoint reconsiders its shard
	// count (default 10s).
	ReshardInterval time.Duration
	UserAgent       string
	// MaxHeldSamples bounds the samples and exemplars kept in memory
	// while the queue cannot be written (a full disk, no inode or file
	// descriptor left, an I/O error); default 500000. See Receive.
	MaxHeldSamples int

	// openFile replaces os.OpenFile for the queue's files, for tests.
	openFile func(name string, flag int, perm os.FileMode) (queueFile, error)
}

// Config is what Update may change while the Writer runs.
type Config struct {
	// ExternalLabels are added to every series that lacks the label.
	ExternalLabels labels.Labels
	Endpoints      []EndpointConfig
}

// Writer is the remote-write engine: a disk queue that Receive appends to,
// and one set of sender shards per endpoint reading from it.
type Writer struct {
	opts   Options
	logger *slog.Logger
	q      *queue
	m      *metrics
	killed atomic.Bool
	// epIndex is a map[string]*endpoint copy of eps for the queue's drop
	// callback, which runs under the queue lock and so cannot take mu.
	epIndex atomic.Value

	// held are the batches Receive kept in memory because the queue could
	// not be written; they are appended, in order, before any later
	// batch. heldN is their total length, read without heldMu on the
	// fast path.
	heldMu    sync.Mutex
	held      []*sample.Batch
	heldN     atomic.Int64
	heldMinT  atomic.Int64 // the oldest held sample's timestamp; MaxInt64 when none
	appendErr error        // the last append failure while batches are held
	failSince time.Time    // when appends started failing
	lastWarn  time.Time

	// meta is the metric metadata the batches brought.
	meta *metaStore

	mu      sync.Mutex
	cfg     Config
	eps     map[string]*endpoint
	hard    context.Context // nil until Run
	stopped bool
}

var _ sample.Receiver = (*Writer)(nil)

// Open opens (or creates) the queue in opts.Dir, replaying what a previous
// process left, and prepares the endpoints of cfg. Nothing is sent until
// Run.
func Open(opts Options, cfg Config) (*Writer, error) {
	if opts.Dir == "" {
		return nil, errors.New("remote write: no queue directory")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	grow := opts.SegmentBytes <= 0
	if grow {
		opts.SegmentBytes = min(opts.MaxBytes/16, maxSegmentBytes)
	}
	opts.SegmentBytes = max(opts.SegmentBytes, 4<<10)
	if opts.FlushOnShutdown == 0 {
		opts.FlushOnShutdown = DefaultFlushOnShutdown
	}
	if opts.ReshardInterval <= 0 {
		opts.ReshardInterval = DefaultReshardInterval
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "shoal"
	}
	if opts.MaxHeldSamples <= 0 {
		opts.MaxHeldSamples = DefaultMaxHeldSamples
	}
	w := &Writer{opts: opts, logger: opts.Logger, m: newMetrics(opts.Registerer), eps: make(map[string]*endpoint), meta: newMetaStore()}
	w.heldMinT.Store(math.MaxInt64)
	q, err := openQueue(queueOptions{
		open:         opts.openFile,
		dir:          opts.Dir,
		segmentBytes: opts.SegmentBytes,
		growSegments: grow,
		maxBytes:     opts.MaxBytes,
		maxAge:       max(opts.MaxAge, 0),
		logger:       opts.Logger,
		onDrop:       w.onDrop,
	})
	if err != nil {
		return nil, err
	}
	w.q = q
	if err := w.Update(cfg); err != nil {
		q.close()
		return nil, err
	}
	return w, nil
}

// onDrop is called with q.mu held.
func (w *Writer) onDrop(consumer, reason string, n int64) {
	// The endpoint map is guarded by w.mu, which may be held while the
	// queue lock is taken; count through the metric vector directly.
	for _, e := range w.endpointsSnapshot(consumer) {
		e.m.dropped.WithLabelValues(reason).Add(float64(n))
	}
}

// endpointsSnapshot is called from queue callbacks; it must not take w.mu
// (Update holds w.mu while creating consumers under q.mu), so endpoints
// publish themselves in an atomic map.
func (w *Writer) endpointsSnapshot(name string) []*endpoint {
	m, _ := w.epIndex.Load().(map[string]*endpoint)
	if e, ok := m[name]; ok {
		return []*endpoint{e}
	}
	return nil
}

// Receive appends b to the disk queue. When it returns nil the batch
// survives kill -9 of the process (it is in the kernel's page cache; it
// is fsynced within a second), unless the queue cannot be written: then
// the batch is kept in memory, up to Options.MaxHeldSamples, and appended
// (before any later batch) as soon as an append succeeds again, which is
// tried at every Receive and every second. While batches are held,
// AppendFailure reports it, the gauge shoal_remote_write_held_samples
// counts them and an error is logged once a minute. A batch that does not
// fit under the bound is dropped, counted in
// prometheus_remote_storage_samples_dropped_total{reason="queue_unwritable"},
// and Receive returns the error.
func (w *Writer) Receive(_ context.Context, b *sample.Batch) error {
	if len(b.Metadata) > 0 {
		w.meta.update(b.Metadata)
	}
	if b.Len() == 0 {
		return nil
	}
	if w.heldN.Load() == 0 {
		err := w.q.append(b)
		if err == nil || errors.Is(err, errClosed) {
			return err
		}
		w.heldMu.Lock()
		defer w.heldMu.Unlock()
		return w.holdLocked(b, err)
	}
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	if err := w.drainHeldLocked(); err != nil {
		return w.holdLocked(b, err)
	}
	err := w.q.append(b)
	if err == nil || errors.Is(err, errClosed) {
		return err
	}
	return w.holdLocked(b, err)
}

// holdLocked keeps a copy of b in memory after the queue refused it with
// err, or drops it when the bound is reached.
func (w *Writer) holdLocked(b *sample.Batch, err error) error {
	now := time.Now()
	if len(w.held) == 0 {
		w.failSince = now
	}
	w.appendErr = err
	w.m.appendFailures.Inc()
	if int(w.heldN.Load())+b.Len() > w.opts.MaxHeldSamples {
		n := float64(len(b.Samples))
		for _, e := range w.endpointsAll() {
			e.m.dropped.WithLabelValues("queue_unwritable").Add(n)
		}
		w.warnLocked(now, "remote-write queue cannot be written and the memory hold is full; dropping a batch", "samples", b.Len())
		return fmt.Errorf("remote-write queue cannot be written (%w) and %d samples are already held in memory: batch dropped", err, w.heldN.Load())
	}
	// The caller may reuse the batch's slices after Receive returns;
	// labels are immutable and shared.
	c := &sample.Batch{
		Samples:   append([]sample.Sample(nil), b.Samples...),
		Exemplars: append([]sample.Exemplar(nil), b.Exemplars...),
	}
	for i := range c.Samples {
		if h := c.Samples[i].H; h != nil {
			c.Samples[i].H = h.Copy()
		}
		if fh := c.Samples[i].FH; fh != nil {
			c.Samples[i].FH = fh.Copy()
		}
	}
	minT := w.heldMinT.Load()
	for _, smp := range b.Samples {
		minT = min(minT, smp.T)
	}
	w.heldMinT.Store(minT)
	w.held = append(w.held, c)
	w.heldN.Add(int64(b.Len()))
	w.m.held.Set(float64(w.heldN.Load()))
	w.warnLocked(now, "remote-write queue cannot be written; holding scraped samples in memory", "held_samples", w.heldN.Load(), "max_held_samples", w.opts.MaxHeldSamples)
	return nil
}

func (w *Writer) warnLocked(now time.Time, msg string, args ...any) {
	if now.Sub(w.lastWarn) < time.Minute {
		return
	}
	w.lastWarn = now
	w.logger.Error(msg, append(args, "err", w.appendErr, "failing_since", w.failSince)...)
}

// drainHeldLocked appends the held batches in order, stopping at the first
// failure.
func (w *Writer) drainHeldLocked() error {
	n := len(w.held)
	if n == 0 {
		return nil
	}
	for len(w.held) > 0 {
		b := w.held[0]
		if err := w.q.append(b); err != nil {
			w.appendErr = err
			return err
		}
		w.held[0] = nil
		w.held = w.held[1:]
		w.heldN.Add(-int64(b.Len()))
	}
	w.held = nil
	w.heldMinT.Store(math.MaxInt64)
	w.m.held.Set(0)
	w.logger.Info("remote-write queue writable again; appended the samples held in memory", "batches", n, "failed_for", time.Since(w.failSince).Round(time.Millisecond))
	w.appendErr = nil
	w.lastWarn = time.Time{}
	return nil
}

// AppendFailure reports whether appends to the queue are failing: the
// last error, when failures started and how many samples are held in
// memory. It returns a nil error when the queue is writable.
func (w *Writer) AppendFailure() (err error, since time.Time, held int) {
	w.heldMu.Lock()
	defer w.heldMu.Unlock()
	if len(w.held) == 0 {
		return nil, time.Time{}, 0
	}
	return w.appendErr, w.failSince, int(w.heldN.Load())
}

// endpointsAll returns the endpoints without taking w.mu.
func (w *Writer) endpointsAll() []*endpoint {
	m, _ := w.epIndex.Load().(map[string]*endpoint)
	out := make([]*endpoint, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	return out
}

// Watermark returns a Unix-ms time W such that every sample (float or
// histogram; exemplars are not counted) with a timestamp at or before W
// that Receive accepted before the call has been acknowledged or
// definitively dropped by every endpoint:
//
//	W = min(min over pending samples of their timestamp − 1, now − 1ms − WatermarkLag)
//
// Pending samples are tracked in 64 KiB blocks of the queue, and a block
// counts as pending until every shard of every endpoint is past it, so W
// may lag the exact value by the samples of one block.
//
// Samples held in memory because the queue could not be written count as
// pending too.
func (w *Writer) Watermark() int64 {
	wm := w.q.watermark(time.Now(), w.opts.WatermarkLag)
	if t := w.heldMinT.Load(); t != math.MaxInt64 {
		wm = min(wm, t-1)
	}
	return wm
}

// Flush makes every shard send what it holds and what was appended before
// the call, without waiting for full batches or the batch deadline.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.eps {
		e.flush()
	}
}

// Update applies a new config. Endpoints whose config (and the external
// labels) did not change keep running untouched; a changed endpoint is
// restarted from its acknowledged positions, so nothing queued is lost; a
// removed endpoint forgets its positions; a new one starts at the end of
// the queue.
func (w *Writer) Update(cfg Config) error {
	eps := make([]EndpointConfig, len(cfg.Endpoints))
	seen := make(map[string]bool)
	for i, e := range cfg.Endpoints {
		if err := e.normalize(); err != nil {
			return err
		}
		if seen[e.id()] {
			return fmt.Errorf("two endpoints are named %q", e.id())
		}
		seen[e.id()] = true
		if err := e.HTTPClient.Validate(); err != nil {
			return fmt.Errorf("endpoint %q: %w", e.id(), err)
		}
		eps[i] = e
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return errors.New("remote write has stopped")
	}
	extSame := labels.Equal(w.cfg.ExternalLabels, cfg.ExternalLabels)
	next := make(map[string]*endpoint, len(eps))
	var errs []error
	for _, ec := range eps {
		if old, ok := w.eps[ec.id()]; ok && extSame && sameEndpoint(old.cfg, ec) {
			next[ec.id()] = old
			continue
		}
		if old, ok := w.eps[ec.id()]; ok {
			w.stopEndpoint(old)
			delete(w.eps, ec.id())
		}
		e, err := newEndpoint(ec, cfg.ExternalLabels, w.q, w.meta, w.m, w.logger, w.opts.UserAgent, w.opts.ReshardInterval)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		next[ec.id()] = e
		if w.hard != nil {
			w.startEndpoint(e)
		}
	}
	for name, old := range w.eps {
		if _, ok := next[name]; ok {
			continue
		}
		w.stopEndpoint(old)
		w.m.deleteEndpoint(old.name, RedactURL(old.cfg.URL))
		if err := w.q.removeConsumer(name); err != nil {
			errs = append(errs, err)
		}
	}
	w.eps = next
	w.publish()
	w.cfg = Config{ExternalLabels: cfg.ExternalLabels, Endpoints: eps}
	return errors.Join(errs...)
}

func (w *Writer) publish() {
	m := make(map[string]*endpoint, len(w.eps))
	for k, v := range w.eps {
		m[k] = v
	}
	w.epIndex.Store(m)
}

func (w *Writer) startEndpoint(e *endpoint) {
	ctx, cancel := context.WithCancel(w.hard)
	e.cancel = cancel
	go e.run(ctx)
}

// stopEndpoint stops e at once; what it had not sent stays queued.
func (w *Writer) stopEndpoint(e *endpoint) {
	if e.cancel == nil {
		return
	}
	e.cancel()
	<-e.done
}

// Run sends until ctx ends. Then it keeps sending what was queued for up to
// FlushOnShutdown, stops the senders, syncs the queue and returns; what is
// not sent stays queued for the next start.
func (w *Writer) Run(ctx context.Context) error {
	hard, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.mu.Lock()
	if w.hard != nil || w.stopped {
		w.mu.Unlock()
		return errors.New("remote write: Run called twice")
	}
	w.hard = hard
	for _, e := range w.eps {
		w.startEndpoint(e)
	}
	w.mu.Unlock()

	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case now := <-ticker.C:
			w.tick(now)
		}
	}

	w.mu.Lock()
	w.stopped = true
	eps := make([]*endpoint, 0, len(w.eps))
	for _, e := range w.eps {
		eps = append(eps, e)
	}
	w.mu.Unlock()
	if w.killed.Load() {
		cancel()
		for _, e := range eps {
			<-e.done
		}
		w.q.abort()
		return nil
	}
	if w.opts.FlushOnShutdown > 0 {
		for _, e := range eps {
			close(e.drain)
		}
		deadline := time.NewTimer(w.opts.FlushOnShutdown)
	flush:
		for _, e := range eps {
			select {
			case <-e.done:
			case <-deadline.C:
				w.logger.Warn("shutdown flush deadline passed; the rest stays queued", "timeout", w.opts.FlushOnShutdown)
				break flush
			}
		}
		deadline.Stop()
	}
	cancel()
	for _, e := range eps {
		<-e.done
	}
	return w.q.close()
}

// tick syncs the queue and refreshes the gauges, once a second.
func (w *Writer) tick(now time.Time) {
	if w.heldN.Load() > 0 {
		w.heldMu.Lock()
		_ = w.drainHeldLocked()
		w.heldMu.Unlock()
	}
	if err := w.q.sync(now); err != nil {
		w.logger.Error("syncing the queue", "err", err)
	}
	w.m.queueBytes.Set(float64(w.q.size()))
	if t := w.q.highestTimestamp(); t > 0 {
		w.m.highestTs.Set(float64(t) / 1000)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.eps {
		samples, bytes := w.q.pending(e.c)
		e.m.pending.Set(float64(samples))
		e.m.backlogBytes.Set(float64(bytes))
	}
}

// SetBounds changes the queue's bounds (see Options.MaxBytes and MaxAge);
// zero keeps the default. They apply from the next append or sync.
func (w *Writer) SetBounds(maxBytes int64, maxAge time.Duration) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxAge == 0 {
		maxAge = DefaultMaxAge
	}
	w.q.setBounds(maxBytes, max(maxAge, 0))
}

// Close closes the queue of a Writer that was never Run. After Run, the
// queue is already closed.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	return w.q.close()
}

// kill makes Run stop like kill -9 would: no flush, no final sync, the last
// second of positions lost. For tests.
func (w *Writer) kill() { w.killed.Store(true) }
