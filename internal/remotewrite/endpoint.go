package remotewrite

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// EndpointConfig is one receiver to send to.
type EndpointConfig struct {
	// Name identifies the endpoint's positions in the queue: an endpoint
	// keeps its backlog across restarts and updates as long as its name
	// stays the same. Empty means the URL.
	Name string
	URL  string
	// RemoteTimeout bounds each request.
	RemoteTimeout time.Duration
	// Headers are added to every request; they cannot replace the
	// protocol's own headers.
	Headers              map[string]string
	SendExemplars        bool
	SendNativeHistograms bool
	// HTTPClient holds authentication, TLS, proxy and redirect settings.
	HTTPClient   config.HTTPClientConfig
	Queue        QueueConfig
	WriteRelabel []*relabel.Config
	// BisectOn400 splits a request the receiver rejects with 400 or 413
	// and sends the halves, recursively, instead of dropping it. Only for
	// receivers that reject a request whole for one bad sample
	// (Prometheus): one that keeps the good samples (Mimir) would be sent
	// them again.
	BisectOn400 bool
	// ProtobufMessage is ProtoV1 (the default, remote write 1.0) or
	// ProtoV2 (remote write 2.0, falling back to 1.0 for good when the
	// receiver answers 415, or 2xx without the ...-Written headers).
	ProtobufMessage string
	// MetadataSend sends the metric metadata of every family the
	// scrapes saw, every MetadataInterval, in 1.0 metadata requests of at
	// most MetadataMaxPerSend entries (metadata_config). A 2.0 request
	// carries each series' metadata inline instead.
	MetadataSend       bool
	MetadataInterval   time.Duration
	MetadataMaxPerSend int
	// At most one of SigV4, AzureAD and GoogleIAM (or an authentication
	// of HTTPClient) authenticates the requests.
	SigV4     *SigV4Config
	AzureAD   *AzureADConfig
	GoogleIAM *GoogleIAMConfig
	// RoundRobinDNS spreads new connections across every address of the
	// URL's host name.
	RoundRobinDNS bool
}

// QueueConfig tunes the senders of one endpoint, with Prometheus' names.
type QueueConfig struct {
	// Capacity is accepted for compatibility: the disk queue holds the
	// backlog, and a shard buffers at most one batch plus one record.
	Capacity          int
	MaxShards         int
	MinShards         int
	MaxSamplesPerSend int
	BatchSendDeadline time.Duration
	MinBackoff        time.Duration
	MaxBackoff        time.Duration
	RetryOnHTTP429    bool
	// SampleAgeLimit drops samples older than this when they are read for
	// sending; 0 keeps everything.
	SampleAgeLimit time.Duration
}

// DefaultQueueConfig is Prometheus' and Alloy's queue_config.
var DefaultQueueConfig = QueueConfig{
	Capacity:          10000,
	MaxShards:         50,
	MinShards:         1,
	MaxSamplesPerSend: 2000,
	BatchSendDeadline: 5 * time.Second,
	MinBackoff:        30 * time.Millisecond,
	MaxBackoff:        5 * time.Second,
	RetryOnHTTP429:    true,
}

// id names the endpoint in the queue's positions, metrics and logs: its
// name, or its URL with any password redacted.
func (c *EndpointConfig) id() string {
	if c.Name != "" {
		return c.Name
	}
	return RedactURL(c.URL)
}

func (c *EndpointConfig) normalize() error {
	if c.URL == "" {
		return fmt.Errorf("endpoint %q: url is required", c.Name)
	}
	q := &c.Queue
	d := DefaultQueueConfig
	if q.MaxSamplesPerSend <= 0 {
		q.MaxSamplesPerSend = d.MaxSamplesPerSend
	}
	if q.MinShards <= 0 {
		q.MinShards = d.MinShards
	}
	if q.MaxShards <= 0 {
		q.MaxShards = d.MaxShards
	}
	if q.MaxShards < q.MinShards {
		return fmt.Errorf("endpoint %q: max_shards %d is below min_shards %d", c.id(), q.MaxShards, q.MinShards)
	}
	if q.BatchSendDeadline <= 0 {
		q.BatchSendDeadline = d.BatchSendDeadline
	}
	if q.MinBackoff <= 0 {
		q.MinBackoff = d.MinBackoff
	}
	if q.MaxBackoff < q.MinBackoff {
		q.MaxBackoff = q.MinBackoff
	}
	if c.RemoteTimeout <= 0 {
		c.RemoteTimeout = 30 * time.Second
	}
	switch c.ProtobufMessage {
	case "":
		c.ProtobufMessage = ProtoV1
	case ProtoV1, ProtoV2:
	default:
		return fmt.Errorf("endpoint %q: protobuf_message must be %q or %q, got %q", c.id(), ProtoV1, ProtoV2, c.ProtobufMessage)
	}
	if c.MetadataInterval <= 0 {
		c.MetadataInterval = time.Minute
	}
	if c.MetadataMaxPerSend <= 0 {
		c.MetadataMaxPerSend = 2000
	}
	return nil
}

// sameEndpoint reports whether two configs send the same way, so that an
// update can leave the endpoint's senders alone.
func sameEndpoint(a, b EndpointConfig) bool {
	ra, rb := a.WriteRelabel, b.WriteRelabel
	a.WriteRelabel, b.WriteRelabel = nil, nil
	if !reflect.DeepEqual(a, b) || len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		x, y := *ra[i], *rb[i]
		if x.Regex.String() != y.Regex.String() {
			return false
		}
		x.Regex, y.Regex = relabel.Regexp{}, relabel.Regexp{}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

// reshardLagBytes is the backlog above which a growing backlog adds shards.
const reshardLagBytes = 4 << 20

// endpoint runs the shards of one receiver and resizes them.
type endpoint struct {
	name   string
	cfg    EndpointConfig
	ext    labels.Labels
	q      *queue
	c      *consumer
	client *client
	meta   *metaStore
	// scratch lends the shards what encoding a request needs.
	scratch scratchPool
	// fellBack is set when a ProtoV2 endpoint's receiver turned out to
	// speak only 1.0: it is sent 1.0 from then on.
	fellBack atomic.Bool
	m        *endpointMetrics
	logger   *slog.Logger
	every    time.Duration // reshard check interval

	stopAt   atomic.Uint64 // shards read no further; MaxUint64 while running
	pause    atomic.Bool   // shards stop reading and report readPos on pausedCh
	pausedCh chan struct{}
	flushTo  atomic.Uint64 // shards send all they read before it now
	retrying atomic.Int64
	// bisectWarned is when a bisection was last logged at warning level
	// (Unix ns): during a partition every request is bisected.
	bisectWarned atomic.Int64
	readPos      []atomic.Uint64
	highest      atomic.Int64

	sigMu sync.Mutex
	sig   chan struct{}

	cancel context.CancelFunc
	drain  chan struct{} // closed: send everything, then stop
	done   chan struct{}
}

func newEndpoint(cfg EndpointConfig, ext labels.Labels, q *queue, meta *metaStore, m *metrics, logger *slog.Logger, userAgent string, every time.Duration) (*endpoint, error) {
	hc, err := newHTTPClient(cfg, userAgent)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", cfg.id(), err)
	}
	c, err := q.addConsumer(cfg.id(), cfg.Queue.MinShards)
	if err != nil {
		return nil, err
	}
	e := &endpoint{
		name: cfg.id(), cfg: cfg, ext: ext, q: q, c: c, meta: meta,
		client: &client{url: cfg.URL, shownURL: RedactURL(cfg.URL), hc: hc, timeout: cfg.RemoteTimeout, headers: cfg.Headers, userAgent: userAgent, retryOn429: cfg.Queue.RetryOnHTTP429},
		m:      m.forEndpoint(cfg.id(), RedactURL(cfg.URL)),
		logger: logger.With("remote_name", cfg.id(), "url", RedactURL(cfg.URL)),
		every:  every,
		sig:    make(chan struct{}),
		drain:  make(chan struct{}),
		done:   make(chan struct{}),
	}
	e.highest.Store(math.MinInt64)
	e.stopAt.Store(math.MaxUint64)
	return e, nil
}

// signal returns a channel closed at the next poke.
func (e *endpoint) signal() <-chan struct{} {
	e.sigMu.Lock()
	defer e.sigMu.Unlock()
	return e.sig
}

// poke wakes every shard to look at flushTo and stopAt.
func (e *endpoint) poke() {
	e.sigMu.Lock()
	close(e.sig)
	e.sig = make(chan struct{})
	e.sigMu.Unlock()
}

// v2 reports whether requests are sent as remote write 2.0.
func (e *endpoint) v2() bool {
	return e.cfg.ProtobufMessage == ProtoV2 && !e.fellBack.Load()
}

// fallBack makes the endpoint send remote write 1.0 from now on.
func (e *endpoint) fallBack(err error) {
	if e.fellBack.CompareAndSwap(false, true) {
		e.logger.Warn("receiver does not accept remote write 2.0; sending remote write 1.0 from now on", "err", err)
	}
}

func (e *endpoint) flush() {
	e.flushTo.Store(e.q.end.Load())
	e.poke()
}

func (e *endpoint) noteSent(t int64) {
	for {
		old := e.highest.Load()
		if t <= old || e.highest.CompareAndSwap(old, t) {
			break
		}
	}
	e.m.highestSent.Set(float64(e.highest.Load()) / 1000)
}

// run runs shards until ctx ends, or until drain is closed and everything
// appended before then is sent. Between runs of shards it changes their
// number, always after draining them to one offset.
func (e *endpoint) run(ctx context.Context) {
	defer close(e.done)
	mctx, mcancel := context.WithCancel(ctx)
	var mwg sync.WaitGroup
	mwg.Go(func() { e.runMetadata(mctx) })
	defer mwg.Wait()
	defer mcancel()
	ticker := time.NewTicker(e.every)
	defer ticker.Stop()
	var lastLag uint64
	idle := 0
	for {
		n, pos := e.q.positions(e.c)
		want := min(max(n, e.cfg.Queue.MinShards), e.cfg.Queue.MaxShards)
		e.stopAt.Store(math.MaxUint64)
		e.pause.Store(false)
		e.pausedCh = make(chan struct{}, n)
		e.readPos = make([]atomic.Uint64, n)
		for i := range pos {
			e.readPos[i].Store(pos[i].Off)
		}
		e.m.shards.Set(float64(n))
		sctx, scancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { e.runShard(sctx, i, n, pos[i]) })
		}
		finished := make(chan struct{})
		go func() { wg.Wait(); close(finished) }()

		stopAndWait := func(stop uint64) bool {
			e.stopAt.Store(stop)
			e.poke()
			select {
			case <-finished:
				scancel()
				return true
			case <-ctx.Done():
				scancel()
				<-finished
				return false
			}
		}
	wait:
		for want == n {
			select {
			case <-ctx.Done():
				scancel()
				<-finished
				return
			case <-e.drain:
				stopAndWait(e.q.end.Load())
				return
			case <-ticker.C:
				want = e.desiredShards(n, &lastLag, &idle)
				if want != n {
					break wait
				}
			}
		}
		// Pause reading, then drain every shard to the furthest point any
		// of them had read, so that the new mapping starts from one offset
		// that no shard went past.
		e.pause.Store(true)
		e.poke()
		for range n {
			select {
			case <-e.pausedCh:
			case <-ctx.Done():
				scancel()
				<-finished
				return
			}
		}
		var stop uint64
		for i := range e.readPos {
			stop = max(stop, e.readPos[i].Load())
		}
		e.stopAt.Store(stop)
		e.pause.Store(false)
		if !stopAndWait(stop) {
			return
		}
		if err := e.q.reshard(e.c, want, stop); err != nil {
			e.logger.Error("resharding", "err", err)
			continue
		}
		e.logger.Info("resharded", "from", n, "to", want)
	}
}

// desiredShards doubles the shards while a backlog of more than 4 MiB
// grows or drains too slowly, and halves them after three idle checks. A failing receiver gets no more shards.
func (e *endpoint) desiredShards(n int, lastLag *uint64, idle *int) int {
	_, lag := e.q.pending(e.c)
	q := e.cfg.Queue
	want := n
	switch {
	case e.retrying.Load() > 0:
	case lag > reshardLagBytes && (lag >= *lastLag || 3*(*lastLag-lag) < lag):
		// The backlog grows, or would take more than three more checks
		// to drain at the current pace.
		want = n * 2
	case lag < blockBytes:
		*idle++
		if *idle >= 3 {
			want = n / 2
			*idle = 0
		}
	}
	if lag >= blockBytes {
		*idle = 0
	}
	*lastLag = lag
	return min(max(want, q.MinShards), q.MaxShards)
}

// runShard runs shard i until it is done or ctx ends. A shard that fails
// (it only returns ctx's error, but a panic on damaged data is caught too)
// is started again from its acknowledged position after a second, so that
// no shard is gone for good: pauses, drains and shutdown wait for every
// shard.
func (e *endpoint) runShard(ctx context.Context, i, n int, start Position) {
	paused := false
	for {
		s := newShard(e, i, n, start)
		s.paused = paused
		err := s.safeRun(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		paused = s.paused
		e.m.shardRestarts.Inc()
		e.logger.Error("sender shard failed; starting it again from its acknowledged position", "shard", i, "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if _, ps := e.q.positions(e.c); i < len(ps) {
			start = ps[i]
		}
	}
}

// safeRun is run with a panic turned into an error.
func (s *shard) safeRun(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return s.run(ctx)
}
