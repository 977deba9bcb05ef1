package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/config"
	"github.com/shoal-dev/shoal/internal/livedebug"
)

// Component is what the API and UI show of one component.
type Component struct {
	// ID is global: "name.label/prometheus.scrape.x" for a component of
	// the module an instance of a custom component runs. ModuleID is the
	// part before the last slash ("" at the top of the file) and LocalID
	// the rest.
	ID, ModuleID, LocalID string
	// ModuleIDs lists the modules a custom component instance runs
	// (Alloy's createdModuleIDs).
	ModuleIDs    []string
	Name         string
	Label        string
	Health       component.Health
	Arguments    any
	Exports      any
	DebugInfo    any
	ReferencesTo []string
	ReferencedBy []string
}

// Peer is one node of the cluster as this node sees it.
type Peer struct {
	Name              string
	Addr              string
	State             string
	Self              bool
	Alive             bool
	Since             time.Time
	ConfigFingerprint string
	FingerprintMatch  bool
	TargetsOwned      map[string]int // per clustered component ID
	ClockOffset       time.Duration
	// Note says why this node stays a viewer, or what else drifts on a
	// peer (a different handoff delay); empty when there is nothing to say.
	Note string
}

// TargetOwner is one target of a clustered scrape component with its owner.
type TargetOwner struct {
	Component string
	Key       uint64
	URL       string
	Labels    map[string]string
	Owner     string
}

// ClusterStatus summarises clustering for the banner of the UI.
type ClusterStatus struct {
	Enabled bool
	Ready   bool
	Self    string
	Message string
}

// Options wires the server to the rest of the node. Any function may be nil
// when the node has nothing to offer for it.
type Options struct {
	Logger   *slog.Logger
	Gatherer prometheus.Gatherer
	Version  string

	Components    func() []Component
	Peers         func() []Peer
	Targets       func() []TargetOwner
	ClusterStatus func() ClusterStatus
	// Ready reports readiness for /-/ready with a reason when not ready.
	Ready func() (bool, string)
	// Reload re-reads the config file; a non-nil error is a refusal whose
	// text (file:line:col diagnostics) is returned to the caller.
	Reload func() error

	// Gossip is the cluster transport, mounted under GossipPrefix. Requests
	// on it must carry a verified client certificate when the server's TLS
	// has a client CA (see Settings).
	Gossip http.Handler

	// ComponentHandler finds the handler of a component that serves HTTP
	// (component.HTTPComponent) by ID, for /api/v0/component/<id>/...;
	// found is false when no such component exists.
	ComponentHandler func(id string) (h http.Handler, found bool)

	// Extra mounts further routes, such as /debug/pprof.
	Extra func(m *http.ServeMux)

	// UIPrefix is --server.http.ui-path-prefix: the UI and /api/v0/web are
	// served below it, as in Alloy. "" and "/" mean the root.
	UIPrefix string
	// LiveDebug streams components' data on /api/v0/web/debug/{id}; nil
	// answers that live debugging is disabled.
	LiveDebug *livedebug.Hub
}

// GossipPrefix is where the cluster transport lives, as in Alloy.
const GossipPrefix = "/api/v1/ckit/transport/"

// Server is the HTTP server. Settings (TLS and auth) can change at reload.
type Server struct {
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	settings atomic.Pointer[config.HTTP]
	tlsState atomic.Pointer[tlsState]
	ui       *ui
	prefix   string // UIPrefix without its trailing slash; "" at the root

	mu  sync.Mutex
	srv *http.Server
	ln  net.Listener

	// closing is closed when a graceful shutdown starts, to end the
	// streams (live debugging) that would otherwise hold it up.
	closing     chan struct{}
	closingOnce sync.Once
}

// New builds a server; Serve starts it.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), prefix: NormalizePrefix(opts.UIPrefix), closing: make(chan struct{})}
	s.settings.Store(&config.HTTP{})
	s.routes()
	return s
}

// Handler is the whole server's handler, auth included (for tests).
func (s *Server) Handler() http.Handler { return s.authenticate(s.mux) }

func (s *Server) routes() {
	m := s.mux
	gath := s.opts.Gatherer
	if gath == nil {
		gath = prometheus.DefaultGatherer
	}
	m.Handle("GET /metrics", promhttp.HandlerFor(gath, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	m.HandleFunc("GET /-/ready", s.handleReady)
	m.HandleFunc("GET /-/healthy", s.handleHealthy)
	m.HandleFunc("GET /-/reload", s.handleReload)
	m.HandleFunc("POST /-/reload", s.handleReload)
	if s.prefix == "" {
		s.apiRoutes(m)
		s.uiRoutes(m)
	} else {
		ui := http.NewServeMux()
		s.apiRoutes(ui)
		s.uiRoutes(ui)
		m.Handle(s.prefix+"/", http.StripPrefix(s.prefix, ui))
		m.Handle("GET "+s.prefix+"", http.RedirectHandler(s.prefix+"/", http.StatusFound))
		m.Handle("GET /{$}", http.RedirectHandler(s.prefix+"/", http.StatusFound))
	}
	// Components serve their own routes at the root, as in Alloy, whatever
	// the UI's prefix: exporters' targets name this path.
	m.Handle(component.HTTPPathPrefix, s.componentHTTP())
	if s.opts.Extra != nil {
		s.opts.Extra(m)
	}
	if s.opts.Gossip != nil {
		m.Handle(GossipPrefix, s.requireClientCert(s.opts.Gossip))
	} else {
		m.HandleFunc(GossipPrefix, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "clustering is disabled on this node", http.StatusNotFound)
		})
	}
}

// NormalizePrefix turns a --server.http.ui-path-prefix value into the form
// the server mounts: a leading slash, no trailing one, "" for the root.
func NormalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// Listen binds addr. It is separate from Serve so that the caller learns
// the port (":0" in tests) before anything else starts.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on --server.http.listen-addr %s: %w", addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return ln.Addr(), nil
}

// Serve serves on the listener from Listen until ctx is cancelled, then
// shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("web: Serve before Listen")
	}
	h2s := &http2.Server{}
	srv := &http.Server{
		// h2c lets the gossip transport use HTTP/2 without TLS; with TLS the
		// listener below negotiates h2 by ALPN.
		Handler:           h2c.NewHandler(s.Handler(), h2s),
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: gossip streams and long API answers must not be cut.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if err := http2.ConfigureServer(srv, h2s); err != nil {
		return fmt.Errorf("configure http2: %w", err)
	}
	srv.RegisterOnShutdown(func() { s.closingOnce.Do(func() { close(s.closing) }) })
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()

	ln = &switchingListener{Listener: ln, s: s}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return nil
	}
}

// switchingListener wraps accepted connections in TLS when the current
// settings have TLS, so that a reload can turn TLS on or change certificates
// without rebinding the port.
type switchingListener struct {
	net.Listener
	s *Server
}

func (l *switchingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if st := l.s.tlsState.Load(); st != nil && st.cfg != nil {
		return tls.Server(c, st.cfg), nil
	}
	return c, nil
}
