package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
)

// RejectMode says what the receiver does with a request that holds a
// rejected sample.
type RejectMode int

const (
	// AllOrNothing rejects the whole request with 400 when any sample in it
	// is rejected, as Prometheus 2.x does (it rolls back its appender).
	AllOrNothing RejectMode = iota
	// PartialAccept stores the samples that pass and answers 400 naming the
	// ones that did not, as Mimir does.
	PartialAccept
)

// Reasons for rejecting a sample, worded as Prometheus and Mimir word them.
const (
	ReasonOutOfOrder = "out of order sample"
	ReasonDuplicate  = "duplicate sample for timestamp"
)

// maxDecodedBody bounds what one remote-write request may inflate to.
const maxDecodedBody = 64 << 20

// Point is one accepted sample of a series.
type Point struct {
	T int64
	V float64
}

// Stale reports whether the point is a staleness marker.
func (p Point) Stale() bool { return value.IsStaleNaN(p.V) }

// ReceiverStats are the receiver's counters since it started.
type ReceiverStats struct {
	Requests            int // requests that reached the write handler
	Accepted            int // samples stored (staleness markers included)
	OutOfOrder          int // rejections of samples older than their series' newest, retries included
	Duplicates          int // rejections of another value at the newest timestamp (a doubled tick), retries included
	IdenticalDuplicates int // the same sample again, a no-op as in Prometheus
	StaleMarkers        int // staleness markers stored
	Histograms          int // native histogram samples stored
	Exemplars           int // exemplars received
	Rejected            int // requests answered 400 for rejected samples
	Invalid             int // requests answered 400 because they did not decode
	Unavailable         int // requests answered 503 during an outage
}

// SeriesStats are the counts of one series. Rejects count distinct
// timestamps, however often a sender retried them.
type SeriesStats struct {
	Labels              labels.Labels
	Points              []Point
	OutOfOrder          int
	Duplicates          int
	IdenticalDuplicates int
	StaleMarkers        int
}

type receiverSeries struct {
	labels     labels.Labels
	points     []Point
	newestT    int64
	newestBits uint64
	histograms int
	ooo, dup   int
	identical  int
	// The distinct timestamps rejected: a sender retries a rejected
	// request, and a sample refused five times is still one sample.
	oooAt, dupAt map[int64]struct{}
	staleMarkers int
}

// ReceiverOption configures StartReceiver.
type ReceiverOption func(*Receiver)

// WithRejectMode sets what a request with a rejected sample does; the
// default is AllOrNothing.
func WithRejectMode(m RejectMode) ReceiverOption {
	return func(r *Receiver) { r.mode = m }
}

// ReceiverListener makes the receiver listen on host with listen, for
// example inside a network namespace.
func ReceiverListener(host string, listen func(network, addr string) (net.Listener, error)) ReceiverOption {
	return func(r *Receiver) { r.host, r.listen = host, listen }
}

// Receiver is a remote-write 1.0 endpoint that stores what it accepts and
// rejects like Mimir: per series, a sample at or before the newest accepted
// one is refused, and counted.
type Receiver struct {
	mode   RejectMode
	host   string
	listen func(network, addr string) (net.Listener, error)
	addr   string

	runMu sync.Mutex // guards srv and wg across Stop/Start
	srv   *http.Server
	wg    sync.WaitGroup

	mu          sync.Mutex
	series      map[string]*receiverSeries
	stats       ReceiverStats
	outageUntil time.Time
	oooEvents   []OutOfOrderEvent // the first maxOutOfOrderEvents
}

// OutOfOrderEvent is one out-of-order reject: which series, the rejected
// sample's timestamp, the newest one the series held then, and when the
// request arrived. It says which writer fell behind and by how much.
type OutOfOrderEvent struct {
	Series   string
	T        int64
	Newest   int64
	Arrived  time.Time
	Instance string
}

const maxOutOfOrderEvents = 1000

// StartReceiver starts a receiver on 127.0.0.1 at a free port. Its write
// URL is URL(); Close stops it.
func StartReceiver(opts ...ReceiverOption) (*Receiver, error) {
	r := &Receiver{host: "127.0.0.1", listen: net.Listen, series: map[string]*receiverSeries{}}
	for _, o := range opts {
		o(r)
	}
	ln, err := r.listen("tcp", net.JoinHostPort(r.host, "0"))
	if err != nil {
		return nil, fmt.Errorf("lab: receiver: listen: %w", err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	return r, nil
}

func (r *Receiver) serve(ln net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/write", r.handleWrite)
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ready\n") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	r.runMu.Lock()
	r.srv = srv
	r.runMu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = srv.Serve(ln)
	}()
}

// Addr is the receiver's host:port.
func (r *Receiver) Addr() string { return r.addr }

// URL is the remote-write URL to configure in an endpoint block.
func (r *Receiver) URL() string { return "http://" + r.addr + "/api/v1/write" }

// Outage makes the receiver answer 503 to every write for d.
func (r *Receiver) Outage(d time.Duration) {
	r.mu.Lock()
	r.outageUntil = time.Now().Add(d)
	r.mu.Unlock()
}

// EndOutage ends an outage at once.
func (r *Receiver) EndOutage() {
	r.mu.Lock()
	r.outageUntil = time.Time{}
	r.mu.Unlock()
}

// Stop closes the listener and every connection, as a receiver that went
// down; what it stored is kept. Start brings it back at the same address.
func (r *Receiver) Stop() {
	r.runMu.Lock()
	srv := r.srv
	r.srv = nil
	r.runMu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	r.wg.Wait()
}

// Start listens again at the receiver's address after Stop. The port was
// ours a moment ago, so it is retried for a few seconds if the kernel has
// not released it yet.
func (r *Receiver) Start() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := r.listen("tcp", r.addr)
		if err == nil {
			r.serve(ln)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lab: receiver: listen again on %s: %w", r.addr, err)
		}
		time.Sleep(100 * time.Millisecond) // the kernel releases the port on its own schedule
	}
}

// Restart stops the receiver, waits down, and starts it again.
func (r *Receiver) Restart(down time.Duration) error {
	r.Stop()
	time.Sleep(down) // the outage itself is what is asked for
	return r.Start()
}

// Close stops the receiver for good.
func (r *Receiver) Close() { r.Stop() }

// Stats returns the counters so far.
func (r *Receiver) Stats() ReceiverStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Series returns every series the receiver has seen, sorted by labels, with
// copies of their points.
func (r *Receiver) Series() []SeriesStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]SeriesStats, 0, len(r.series))
	for _, s := range r.series {
		out = append(out, s.stats())
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels, out[j].Labels) < 0 })
	return out
}

// Lookup returns the series whose labels include every given name=value
// pair, e.g. Lookup("__name__", "up", "instance", addr).
func (r *Receiver) Lookup(pairs ...string) []SeriesStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []SeriesStats
next:
	for _, s := range r.series {
		for i := 0; i+1 < len(pairs); i += 2 {
			if s.labels.Get(pairs[i]) != pairs[i+1] {
				continue next
			}
		}
		out = append(out, s.stats())
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i].Labels, out[j].Labels) < 0 })
	return out
}

// InstanceStats sums the series of one `instance` label; OutOfOrder and
// Duplicates count distinct rejected samples, not retries.
type InstanceStats struct {
	Series       int
	Accepted     int
	OutOfOrder   int
	Duplicates   int
	StaleMarkers int
	UpTimes      []int64 // timestamps of the accepted `up` samples, in order
}

// ByInstance sums the per-series counts by their `instance` label.
func (r *Receiver) ByInstance() map[string]InstanceStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]InstanceStats{}
	for _, s := range r.series {
		inst := s.labels.Get("instance")
		st := out[inst]
		st.Series++
		st.Accepted += len(s.points)
		st.OutOfOrder += len(s.oooAt)
		st.Duplicates += len(s.dupAt)
		st.StaleMarkers += s.staleMarkers
		if s.labels.Get("__name__") == "up" {
			for _, p := range s.points {
				if !p.Stale() {
					st.UpTimes = append(st.UpTimes, p.T)
				}
			}
		}
		out[inst] = st
	}
	return out
}

// ByInstanceBetween is ByInstance restricted to samples stamped in
// [from, to): what a scenario's window did, without its start-up.
func (r *Receiver) ByInstanceBetween(from, to time.Time) map[string]InstanceStats {
	lo, hi := from.UnixMilli(), to.UnixMilli()
	in := func(t int64) bool { return t >= lo && t < hi }
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]InstanceStats{}
	for _, s := range r.series {
		inst := s.labels.Get("instance")
		st := out[inst]
		st.Series++
		up := s.labels.Get("__name__") == "up"
		for _, p := range s.points {
			if !in(p.T) {
				continue
			}
			st.Accepted++
			switch {
			case p.Stale():
				st.StaleMarkers++
			case up:
				st.UpTimes = append(st.UpTimes, p.T)
			}
		}
		for t := range s.oooAt {
			if in(t) {
				st.OutOfOrder++
			}
		}
		for t := range s.dupAt {
			if in(t) {
				st.Duplicates++
			}
		}
		out[inst] = st
	}
	return out
}

func (s *receiverSeries) stats() SeriesStats {
	return SeriesStats{
		Labels:              s.labels,
		Points:              slices.Clone(s.points),
		OutOfOrder:          len(s.oooAt),
		Duplicates:          len(s.dupAt),
		IdenticalDuplicates: s.identical,
		StaleMarkers:        s.staleMarkers,
	}
}

func (r *Receiver) handleWrite(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	r.stats.Requests++
	if time.Now().Before(r.outageUntil) {
		r.stats.Unavailable++
		r.mu.Unlock()
		http.Error(w, "lab: receiver outage", http.StatusServiceUnavailable)
		return
	}
	r.mu.Unlock()

	if ct := req.Header.Get("Content-Type"); strings.Contains(ct, "io.prometheus.write.v2") {
		http.Error(w, "lab: only remote write 1.0 is supported", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxDecodedBody+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	wr, err := DecodeWriteRequest(body)
	if err != nil {
		r.mu.Lock()
		r.stats.Invalid++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if rejects, err := r.Apply(wr); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	} else if len(rejects) > 0 {
		msg := strings.Join(rejects[:min(len(rejects), 10)], "\n")
		if len(rejects) > 10 {
			msg += fmt.Sprintf("\n... and %d more", len(rejects)-10)
		}
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DecodeWriteRequest decodes a remote-write 1.0 body: snappy block format
// around a prompb.WriteRequest.
func DecodeWriteRequest(body []byte) (*prompb.WriteRequest, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("lab: snappy: %w", err)
	}
	if n > maxDecodedBody {
		return nil, fmt.Errorf("lab: request inflates to %d bytes, over the %d limit", n, maxDecodedBody)
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("lab: snappy: %w", err)
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("lab: protobuf: %w", err)
	}
	return &wr, nil
}

// errInvalidSeries is a request the receiver cannot store at all.
var errInvalidSeries = errors.New("invalid series")

// staged is the tentative state of one series while a request is applied.
type staged struct {
	s            *receiverSeries
	key          string
	isNew        bool
	newestT      int64
	newestOK     bool
	newBits      uint64
	add          []Point
	hists        int
	ooo, dup     int
	oooAt, dupAt []int64
	ident        int
	stale        int
}

// Apply runs the rejection rules over a decoded request and stores what it
// accepts. It returns one line per rejected sample, naming the reason and
// the series; in AllOrNothing mode a non-empty result stores nothing. An
// error means the request is malformed.
func (r *Receiver) Apply(wr *prompb.WriteRequest) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	// Series are found by their labels' bytes in the order sent (remote
	// write requires sorted labels); only a series seen for the first time
	// pays for building and checking its labels.
	work := map[string]*staged{}
	var order []*staged
	var rejects []string
	exemplars := 0
	var buf []byte
	for i := range wr.Timeseries {
		ts := &wr.Timeseries[i]
		var sorted bool
		buf, sorted = appendSeriesKey(buf[:0], ts.Labels)
		if !sorted {
			lset, err := labelsOf(ts.Labels)
			if err != nil {
				r.stats.Invalid++
				return nil, err
			}
			buf = appendLabelsKey(buf[:0], lset)
		}
		st := work[string(buf)]
		if st == nil {
			key := string(buf)
			st = &staged{key: key}
			if s, ok := r.series[key]; ok {
				st.s, st.newestT, st.newestOK, st.newBits = s, s.newestT, len(s.points) > 0 || s.histograms > 0, s.newestBits
			} else {
				lset, err := labelsOf(ts.Labels)
				if err != nil {
					r.stats.Invalid++
					return nil, err
				}
				st.s, st.isNew = &receiverSeries{labels: lset}, true
			}
			work[key] = st
			order = append(order, st)
		}
		for _, smp := range ts.Samples {
			bits := math.Float64bits(smp.Value)
			switch {
			case st.newestOK && smp.Timestamp < st.newestT:
				st.ooo++
				st.oooAt = append(st.oooAt, smp.Timestamp)
				r.noteOutOfOrder(st.s.labels, smp.Timestamp, st.newestT)
				rejects = append(rejects, fmt.Sprintf("%s: %s, timestamp=%d", ReasonOutOfOrder, st.s.labels, smp.Timestamp))
			case st.newestOK && smp.Timestamp == st.newestT && bits != st.newBits:
				st.dup++
				st.dupAt = append(st.dupAt, smp.Timestamp)
				rejects = append(rejects, fmt.Sprintf("%s: %s, timestamp=%d", ReasonDuplicate, st.s.labels, smp.Timestamp))
			case st.newestOK && smp.Timestamp == st.newestT:
				st.ident++
			default:
				st.add = append(st.add, Point{T: smp.Timestamp, V: smp.Value})
				st.newestT, st.newBits, st.newestOK = smp.Timestamp, bits, true
				if value.IsStaleNaN(smp.Value) {
					st.stale++
				}
			}
		}
		for _, h := range ts.Histograms {
			switch {
			case st.newestOK && h.Timestamp < st.newestT:
				st.ooo++
				st.oooAt = append(st.oooAt, h.Timestamp)
				rejects = append(rejects, fmt.Sprintf("%s: %s, timestamp=%d", ReasonOutOfOrder, st.s.labels, h.Timestamp))
			case st.newestOK && h.Timestamp == st.newestT:
				// Histogram values are not compared: a second histogram
				// at one tick is a doubled tick either way.
				st.dup++
				st.dupAt = append(st.dupAt, h.Timestamp)
				rejects = append(rejects, fmt.Sprintf("%s: %s, timestamp=%d", ReasonDuplicate, st.s.labels, h.Timestamp))
			default:
				st.hists++
				st.newestT, st.newBits, st.newestOK = h.Timestamp, 0, true
			}
		}
		exemplars += len(ts.Exemplars)
	}

	for _, st := range order {
		// Rejections are counted even when the request is rolled back:
		// they are what the sender was told.
		st.s.ooo += st.ooo
		st.s.dup += st.dup
		st.s.oooAt = addAll(st.s.oooAt, st.oooAt)
		st.s.dupAt = addAll(st.s.dupAt, st.dupAt)
		st.s.identical += st.ident
		r.stats.OutOfOrder += st.ooo
		r.stats.Duplicates += st.dup
		r.stats.IdenticalDuplicates += st.ident
		if st.isNew && (len(rejects) > 0 && r.mode == AllOrNothing || len(st.add) == 0 && st.hists == 0) {
			if st.ooo+st.dup+st.ident > 0 {
				r.series[st.key] = st.s // keep its counts visible
			}
			continue
		}
		if st.isNew {
			r.series[st.key] = st.s
		}
		if len(rejects) > 0 && r.mode == AllOrNothing {
			continue
		}
		st.s.points = append(st.s.points, st.add...)
		st.s.histograms += st.hists
		st.s.staleMarkers += st.stale
		st.s.newestT, st.s.newestBits = st.newestT, st.newBits
		r.stats.Accepted += len(st.add) + st.hists
		r.stats.Histograms += st.hists
		r.stats.StaleMarkers += st.stale
	}
	r.stats.Exemplars += exemplars
	if len(rejects) > 0 {
		r.stats.Rejected++
	}
	return rejects, nil
}

func addAll(set map[int64]struct{}, ts []int64) map[int64]struct{} {
	if len(ts) == 0 {
		return set
	}
	if set == nil {
		set = make(map[int64]struct{}, len(ts))
	}
	for _, t := range ts {
		set[t] = struct{}{}
	}
	return set
}

// appendSeriesKey writes a series' identity, name 0xff value 0xff per
// label, and reports whether the labels came sorted by name.
func appendSeriesKey(buf []byte, ls []prompb.Label) ([]byte, bool) {
	sorted := true
	for i, l := range ls {
		if i > 0 && ls[i-1].Name >= l.Name {
			sorted = false
		}
		buf = append(buf, l.Name...)
		buf = append(buf, 0xff)
		buf = append(buf, l.Value...)
		buf = append(buf, 0xff)
	}
	return buf, sorted
}

func appendLabelsKey(buf []byte, lset labels.Labels) []byte {
	lset.Range(func(l labels.Label) {
		buf = append(buf, l.Name...)
		buf = append(buf, 0xff)
		buf = append(buf, l.Value...)
		buf = append(buf, 0xff)
	})
	return buf
}

func labelsOf(ls []prompb.Label) (labels.Labels, error) {
	b := labels.NewScratchBuilder(len(ls))
	for _, l := range ls {
		if l.Name == "" {
			return labels.EmptyLabels(), fmt.Errorf("%w: empty label name", errInvalidSeries)
		}
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	lset := b.Labels()
	if lset.Get("__name__") == "" {
		return labels.EmptyLabels(), fmt.Errorf("%w: no metric name in %s", errInvalidSeries, lset)
	}
	if name, dup := lset.HasDuplicateLabelNames(); dup {
		return labels.EmptyLabels(), fmt.Errorf("%w: label %q twice in %s", errInvalidSeries, name, lset)
	}
	return lset, nil
}

// WaitFor polls cond every 50 ms until it is true or ctx ends; it is how
// tests wait for samples to arrive without sleeping blindly.
func WaitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: condition not met: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (r *Receiver) noteOutOfOrder(ls labels.Labels, t, newest int64) {
	if len(r.oooEvents) < maxOutOfOrderEvents {
		r.oooEvents = append(r.oooEvents, OutOfOrderEvent{Series: ls.String(), T: t, Newest: newest, Arrived: time.Now(), Instance: ls.Get("instance")})
	}
}

// OutOfOrderEvents returns the first out-of-order rejects, in arrival order.
func (r *Receiver) OutOfOrderEvents() []OutOfOrderEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.oooEvents)
}

// OutOfOrderTimes returns the timestamps of every out-of-order reject,
// sorted: when a scenario's rejects happened.
func (r *Receiver) OutOfOrderTimes() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, s := range r.series {
		for t := range s.oooAt {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
