package lab

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Kind says how a synthetic target behaves when it is scraped.
type Kind int

// The kinds of target. Every kind logs each scrape before it answers.
const (
	// KindNormal serves Prometheus text whose values change every scrape.
	KindNormal Kind = iota
	// KindRefuse accepts each connection and resets it at once.
	KindRefuse
	// KindSleep waits (TargetSleep, default 5 s) before answering.
	KindSleep
	// KindError answers 500 Internal Server Error.
	KindError
	// KindGarbage answers 200 with bytes that are no exposition format.
	KindGarbage
	// KindOversized answers a valid body of TargetOversize bytes (default
	// 32 MiB), larger than any sensible body_size_limit.
	KindOversized
	// KindEndless streams valid-looking lines until the client goes away.
	KindEndless
	// KindGzipBomb answers a gzip body of about 1 MiB that inflates to
	// 1 GiB.
	KindGzipBomb
)

func (k Kind) String() string {
	switch k {
	case KindNormal:
		return "normal"
	case KindRefuse:
		return "refuse"
	case KindSleep:
		return "sleep"
	case KindError:
		return "error"
	case KindGarbage:
		return "garbage"
	case KindOversized:
		return "oversized"
	case KindEndless:
		return "endless"
	case KindGzipBomb:
		return "gzipbomb"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Scrape is one request a target served, as the target saw it arrive.
type Scrape struct {
	Target  int       // index of the target
	Addr    string    // the target's host:port, its `instance`
	Time    time.Time // arrival of the request
	Remote  string    // the scraper's host:port
	Header  string    // the value of the logged header (User-Agent by default)
	Scraper string    // the scraper's identity, when an Identify function knows it
	Status  int       // the status answered; 0 for a reset connection
}

// TargetOption configures StartTargets.
type TargetOption func(*targetsConfig)

type targetsConfig struct {
	kind     func(i int) Kind
	labels   func(i int) map[string]string
	header   string
	sleep    time.Duration
	oversize int
	host     string
	listen   func(network, addr string) (net.Listener, error)
	dir      string
	// series, when set, gives each target its own number of series.
	series func(i int) int
}

// WithSeries gives target i series(i) series instead of StartTargets'
// seriesPerTarget: a fleet whose targets differ in load, as
// kube-state-metrics differs from a node exporter.
func WithSeries(series func(i int) int) TargetOption {
	return func(c *targetsConfig) { c.series = series }
}

// WithKind chooses the kind of each target; the default is KindNormal.
func WithKind(kind func(i int) Kind) TargetOption {
	return func(c *targetsConfig) { c.kind = kind }
}

// WithLabels adds labels to each target's file_sd entry.
func WithLabels(labels func(i int) map[string]string) TargetOption {
	return func(c *targetsConfig) { c.labels = labels }
}

// WithHeader logs this request header with each scrape instead of
// User-Agent.
func WithHeader(name string) TargetOption {
	return func(c *targetsConfig) { c.header = name }
}

// TargetSleep sets how long a KindSleep target waits before answering.
func TargetSleep(d time.Duration) TargetOption {
	return func(c *targetsConfig) { c.sleep = d }
}

// TargetOversize sets the body size of a KindOversized target.
func TargetOversize(bytes int) TargetOption {
	return func(c *targetsConfig) { c.oversize = bytes }
}

// WithListener makes the targets listen on host (instead of 127.0.0.1) with
// listen (instead of net.Listen), for example inside a network namespace.
func WithListener(host string, listen func(network, addr string) (net.Listener, error)) TargetOption {
	return func(c *targetsConfig) { c.host, c.listen = host, listen }
}

// WithDir puts the file_sd file in dir instead of a new temporary directory.
func WithDir(dir string) TargetOption {
	return func(c *targetsConfig) { c.dir = dir }
}

// Targets is a set of synthetic scrape targets on loopback, with the log of
// every scrape they served and a file_sd file listing them.
type Targets struct {
	cfg     targetsConfig
	targets []*target
	dir     string
	ownDir  bool
	fileSD  string
	wg      sync.WaitGroup

	mu       sync.Mutex
	log      []Scrape
	identify func(remote, local string) string
}

type target struct {
	parent *Targets
	index  int
	kind   Kind
	addr   string
	ln     net.Listener
	srv    *http.Server

	mu      sync.Mutex
	scrapes int
	series  []seriesLine
}

type seriesLine struct {
	name    string // metric name with labels, ready to print
	counter bool
	step    float64
}

// StartTargets starts n targets, each exposing seriesPerTarget series
// (counters and gauges that change at every scrape), and writes their
// file_sd file (see FileSD). Each also exposes lab_scrapes_total, the
// number of scrapes it served. Close stops them.
func StartTargets(n, seriesPerTarget int, opts ...TargetOption) (*Targets, error) {
	cfg := targetsConfig{
		kind:     func(int) Kind { return KindNormal },
		header:   "User-Agent",
		sleep:    5 * time.Second,
		oversize: 32 << 20,
		host:     "127.0.0.1",
		listen:   net.Listen,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ts := &Targets{cfg: cfg, dir: cfg.dir}
	if ts.dir == "" {
		dir, err := os.MkdirTemp("", "shoal-lab-targets-")
		if err != nil {
			return nil, fmt.Errorf("lab: targets directory: %w", err)
		}
		ts.dir, ts.ownDir = dir, true
	}
	for i := range n {
		s := seriesPerTarget
		if cfg.series != nil {
			s = cfg.series(i)
		}
		t, err := ts.start(i, s)
		if err != nil {
			ts.Close()
			return nil, err
		}
		ts.targets = append(ts.targets, t)
	}
	ts.fileSD = filepath.Join(ts.dir, "targets.json")
	if err := ts.WriteFileSD(ts.fileSD, nil); err != nil {
		ts.Close()
		return nil, err
	}
	return ts, nil
}

func (ts *Targets) start(i, series int) (*target, error) {
	ln, err := ts.cfg.listen("tcp", net.JoinHostPort(ts.cfg.host, "0"))
	if err != nil {
		return nil, fmt.Errorf("lab: target %d: listen: %w", i, err)
	}
	t := &target{parent: ts, index: i, kind: ts.cfg.kind(i), addr: ln.Addr().String(), ln: ln}
	for s := range series {
		if s%2 == 0 {
			t.series = append(t.series, seriesLine{name: fmt.Sprintf("lab_requests_total{series=\"%d\"}", s), counter: true, step: float64(s%7 + 1)})
		} else {
			t.series = append(t.series, seriesLine{name: fmt.Sprintf("lab_temperature_celsius{series=\"%d\"}", s), step: float64(s%5) + 0.5})
		}
	}
	ts.wg.Add(1)
	if t.kind == KindRefuse {
		go func() {
			defer ts.wg.Done()
			t.refuseLoop()
		}()
		return t, nil
	}
	t.srv = &http.Server{
		Handler:           t,
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connInfo{remote: c.RemoteAddr().String(), local: c.LocalAddr().String()})
		},
	}
	go func() {
		defer ts.wg.Done()
		_ = t.srv.Serve(ln)
	}()
	return t, nil
}

type connKey struct{}

// connInfo caches the scraper's identity for the life of one connection,
// since resolving it (through /proc) costs more than a scrape.
type connInfo struct {
	remote string
	local  string
	mu     sync.Mutex
	who    string
}

// Len is the number of targets.
func (ts *Targets) Len() int { return len(ts.targets) }

// Addr is the host:port of target i, which is also its `instance` label.
func (ts *Targets) Addr(i int) string { return ts.targets[i].addr }

// Addrs lists every target's host:port in index order.
func (ts *Targets) Addrs() []string {
	out := make([]string, len(ts.targets))
	for i, t := range ts.targets {
		out[i] = t.addr
	}
	return out
}

// Index returns the index of the target at addr, or -1.
func (ts *Targets) Index(addr string) int {
	for i, t := range ts.targets {
		if t.addr == addr {
			return i
		}
	}
	return -1
}

// SeriesOf returns the number of series the target at addr exposes,
// lab_scrapes_total included, 0 for an unknown address.
func (ts *Targets) SeriesOf(addr string) int {
	if i := ts.Index(addr); i >= 0 {
		return len(ts.targets[i].series) + 1
	}
	return 0
}

// Kind returns the kind of target i.
func (ts *Targets) Kind(i int) Kind { return ts.targets[i].kind }

// FileSD is the path of the file_sd JSON listing every target.
func (ts *Targets) FileSD() string { return ts.fileSD }

// SetIdentify installs the function that names the scraper of a
// connection from remote to the target's local address (for example
// Fleet.Identify). It is called once per connection, and again at the
// connection's next request while it has no answer.
func (ts *Targets) SetIdentify(f func(remote, local string) string) {
	ts.mu.Lock()
	ts.identify = f
	ts.mu.Unlock()
}

// fileSDGroup is one entry of a file_sd file.
type fileSDGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// WriteFileSD writes a file_sd JSON file at path listing the targets for
// which include returns true (all of them when include is nil). The file is
// replaced atomically, so a watcher never reads half of it.
func (ts *Targets) WriteFileSD(path string, include func(i int) bool) error {
	groups := make([]fileSDGroup, 0, len(ts.targets))
	for i, t := range ts.targets {
		if include != nil && !include(i) {
			continue
		}
		g := fileSDGroup{Targets: []string{t.addr}, Labels: map[string]string{"lab_kind": t.kind.String()}}
		if ts.cfg.labels != nil {
			for k, v := range ts.cfg.labels(i) {
				g.Labels[k] = v
			}
		}
		groups = append(groups, g)
	}
	b, err := json.MarshalIndent(groups, "", "  ")
	if err != nil {
		return fmt.Errorf("lab: file_sd: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("lab: file_sd: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("lab: file_sd: %w", err)
	}
	return nil
}

// Log returns a copy of every scrape served so far, in arrival order.
func (ts *Targets) Log() []Scrape {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.log)
}

// Scrapes returns the scrapes target i served so far.
func (ts *Targets) Scrapes(i int) []Scrape {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []Scrape
	for _, s := range ts.log {
		if s.Target == i {
			out = append(out, s)
		}
	}
	return out
}

// Close stops every target and waits for their goroutines. The scrape log
// stays readable.
func (ts *Targets) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, t := range ts.targets {
		if t.srv != nil {
			// Shutdown waits for endless and sleeping handlers; Close
			// after the deadline cuts them.
			if err := t.srv.Shutdown(ctx); err != nil {
				_ = t.srv.Close()
			}
		} else {
			_ = t.ln.Close()
		}
	}
	ts.wg.Wait()
	if ts.ownDir {
		_ = os.RemoveAll(ts.dir)
	}
}

func (ts *Targets) record(s Scrape, ci *connInfo) {
	ts.mu.Lock()
	identify := ts.identify
	ts.mu.Unlock()
	if identify != nil && ci != nil {
		ci.mu.Lock()
		if ci.who == "" {
			// A failed lookup is tried again at the connection's next
			// request rather than remembered.
			ci.who = identify(ci.remote, ci.local)
		}
		s.Scraper = ci.who
		ci.mu.Unlock()
		if s.Scraper == "" {
			// Every node sends the same User-Agent: falling back to it
			// would name them all alike.
			s.Scraper = "?"
		}
	}
	ts.mu.Lock()
	ts.log = append(ts.log, s)
	ts.mu.Unlock()
}

func (t *target) refuseLoop() {
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		now := time.Now()
		remote := c.RemoteAddr().String()
		t.parent.record(Scrape{Target: t.index, Addr: t.addr, Time: now, Remote: remote}, nil)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // reset, not a clean close
		}
		_ = c.Close()
	}
}

// ServeHTTP answers one scrape according to the target's kind.
func (t *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	ci, _ := r.Context().Value(connKey{}).(*connInfo)
	status := http.StatusOK
	if t.kind == KindError {
		status = http.StatusInternalServerError
	}
	t.parent.record(Scrape{Target: t.index, Addr: t.addr, Time: now, Remote: r.RemoteAddr, Header: r.Header.Get(t.parent.cfg.header), Status: status}, ci)

	switch t.kind {
	case KindError:
		http.Error(w, "lab: this target always fails", http.StatusInternalServerError)
		return
	case KindSleep:
		select {
		case <-time.After(t.parent.cfg.sleep):
		case <-r.Context().Done():
			return
		}
	case KindGarbage:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("\x00\x01{{{ this is not { an exposition format\n}}}\xff\xfe metric{=\"\n"))
		return
	case KindOversized:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeFiller(r.Context(), w, t.parent.cfg.oversize)
		return
	case KindEndless:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		writeFiller(r.Context(), w, math.MaxInt)
		return
	case KindGzipBomb:
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Set("Content-Encoding", "gzip")
		writeGzipBomb(r.Context(), w)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write(t.exposition())
}

// exposition renders the target's series for one more scrape: counters grow
// by their step and gauges swing, so that two scrapes never carry the same
// values.
func (t *target) exposition() []byte {
	t.mu.Lock()
	t.scrapes++
	n := t.scrapes
	t.mu.Unlock()
	var b bytes.Buffer
	b.Grow(64 * (len(t.series) + 4))
	b.WriteString("# HELP lab_scrapes_total Scrapes this target served.\n# TYPE lab_scrapes_total counter\n")
	fmt.Fprintf(&b, "lab_scrapes_total %d\n", n)
	// Each family's samples must be contiguous in the text format, so
	// counters go first and gauges after.
	b.WriteString("# TYPE lab_requests_total counter\n")
	for _, s := range t.series {
		if s.counter {
			b.WriteString(s.name)
			b.WriteByte(' ')
			b.WriteString(strconv.FormatFloat(s.step*float64(n), 'f', -1, 64))
			b.WriteByte('\n')
		}
	}
	b.WriteString("# TYPE lab_temperature_celsius gauge\n")
	for _, s := range t.series {
		if !s.counter {
			b.WriteString(s.name)
			b.WriteByte(' ')
			b.WriteString(strconv.FormatFloat(20+s.step*math.Sin(float64(n)/3), 'f', 4, 64))
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

const fillerLine = "lab_filler_bytes{pad=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 1\n"

func writeFiller(ctx context.Context, w http.ResponseWriter, limit int) {
	chunk := bytes.Repeat([]byte(fillerLine), 64<<10/len(fillerLine))
	fl, _ := w.(http.Flusher)
	for written := 0; written < limit; written += len(chunk) {
		if ctx.Err() != nil {
			return
		}
		c := chunk
		if limit-written < len(c) {
			c = c[:limit-written]
		}
		if _, err := w.Write(c); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}

// writeGzipBomb writes 1024 gzip members of 1 MiB each. Readers of gzip
// (Go's included) read concatenated members as one stream, so the body
// inflates to 1 GiB from about a megabyte on the wire.
func writeGzipBomb(ctx context.Context, w io.Writer) {
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = zw.Write(bytes.Repeat([]byte(fillerLine), (1<<20)/len(fillerLine)))
	_ = zw.Close()
	for range 1024 {
		if ctx.Err() != nil {
			return
		}
		if _, err := w.Write(member.Bytes()); err != nil {
			return
		}
	}
}
