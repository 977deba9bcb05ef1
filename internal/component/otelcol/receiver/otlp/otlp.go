// Package otlp is the otelcol.receiver.otlp component, for metrics: it
// serves OTLP/gRPC (the MetricsService) on its grpc block's endpoint and
// OTLP/HTTP (protobuf and JSON at metrics_url_path, /v1/metrics by
// default) on its http block's, with Alloy's arguments and defaults, and
// hands every request's metrics to its output block's metrics consumers.
// A request is answered once the consumers have taken it, so an error of
// theirs (a remote_write whose disk queue cannot be written) reaches the
// client as a retryable one: gRPC Unavailable, HTTP 503.
//
// shoal handles metrics only. Traces and logs are not served: the gRPC
// services are not registered and their HTTP paths answer 404, as Alloy's
// receiver does for a signal its output block does not name; an output
// block that names logs or traces consumers says so in the health.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // gzip-compressed requests, as the collector accepts
	"google.golang.org/grpc/keepalive"
	grpcmetadata "google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/otelcol"
	"github.com/shoal-dev/shoal/internal/stability"
)

// defaultMaxRequestBodySize is the collector's limit on an HTTP body when
// max_request_body_size is 0.
const defaultMaxRequestBodySize = 20 << 20

// Component is a running otelcol.receiver.otlp.
type Component struct {
	opts component.Options
	next atomic.Pointer[otelcol.Fanout]

	accepted, refused *prometheus.CounterVec

	mu      sync.Mutex
	args    Arguments
	restart chan struct{} // the servers' arguments changed
	health  component.Health
	addrs   Addresses
}

// Addresses are where the servers listen, once they do.
type Addresses struct {
	GRPC string `alloy:"grpc,attr,optional"`
	HTTP string `alloy:"http,attr,optional"`
}

var (
	_ component.HealthComponent = (*Component)(nil)
	_ component.DebugComponent  = (*Component)(nil)
)

// New builds the component; its servers start when it runs.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts, restart: make(chan struct{}, 1)}
	c.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "otelcol_receiver_accepted_metric_points_total",
		Help: "Number of metric points successfully pushed into the pipeline.",
	}, []string{"transport"})
	c.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "otelcol_receiver_refused_metric_points_total",
		Help: "Number of metric points that could not be pushed into the pipeline.",
	}, []string{"transport"})
	if err := c.Update(args); err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		for _, col := range []prometheus.Collector{c.accepted, c.refused} {
			if err := opts.Registerer.Register(col); err != nil {
				return nil, fmt.Errorf("registering metrics: %w", err)
			}
		}
	}
	<-c.restart // Run starts the servers of the first arguments anyway
	return c, nil
}

// Update applies new arguments: new consumers at once, and changed
// servers by restarting them.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	var next otelcol.Fanout
	if a.Output != nil {
		next = append(next, a.Output.Metrics...)
		if a.Output.IgnoresSignals() {
			c.opts.Logger.Warn(otelcol.MetricsOnly)
		}
	}
	c.next.Store(&next)
	c.mu.Lock()
	changed := !reflect.DeepEqual(c.args.GRPC, a.GRPC) || !reflect.DeepEqual(c.args.HTTP, a.HTTP)
	c.args = a
	c.mu.Unlock()
	if changed {
		select {
		case c.restart <- struct{}{}:
		default:
		}
	}
	return nil
}

// CurrentHealth is unhealthy while a server cannot listen; it says so when
// the output block names logs or traces consumers.
func (c *Component) CurrentHealth() component.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.health
	if h.State == component.HealthHealthy && c.args.Output.IgnoresSignals() {
		h.Message = otelcol.MetricsOnly
	}
	return h
}

// DebugInfo is where the servers listen.
func (c *Component) DebugInfo() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs
}

// Addrs returns where the servers listen ("" for one not running).
func (c *Component) Addrs() Addresses {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs
}

func (c *Component) setHealth(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.health = component.Health{State: component.HealthHealthy, Updated: time.Now()}
	if err != nil {
		c.health = component.Health{State: component.HealthUnhealthy, Message: err.Error(), Updated: time.Now()}
	}
}

// Run serves until ctx is cancelled, restarting the servers when their
// arguments change and retrying every few seconds while one cannot listen.
func (c *Component) Run(ctx context.Context) error {
	for {
		c.mu.Lock()
		a := c.args
		c.mu.Unlock()
		stop, err := c.start(a)
		c.setHealth(err)
		var retry <-chan time.Time
		if err != nil {
			c.opts.Logger.Error("starting the OTLP servers failed", "err", err)
			retry = time.After(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			stop()
			if c.opts.Registerer != nil {
				c.opts.Registerer.Unregister(c.accepted)
				c.opts.Registerer.Unregister(c.refused)
			}
			return nil
		case <-c.restart:
		case <-retry:
		}
		stop()
	}
}

// start starts the servers that a asks for, and returns what stops them.
func (c *Component) start(a Arguments) (stop func(), err error) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
		c.mu.Lock()
		c.addrs = Addresses{}
		c.mu.Unlock()
	}
	if a.GRPC != nil {
		addr, s, err := c.serveGRPC(a.GRPC)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("grpc: %w", err)
		}
		stops = append(stops, s)
		c.mu.Lock()
		c.addrs.GRPC = addr
		c.mu.Unlock()
	}
	if a.HTTP != nil {
		addr, s, err := c.serveHTTP(a.HTTP)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("http: %w", err)
		}
		stops = append(stops, s)
		c.mu.Lock()
		c.addrs.HTTP = addr
		c.mu.Unlock()
	}
	return stop, nil
}

// consume hands md to the consumers, counting its points as accepted or
// refused under transport.
func (c *Component) consume(ctx context.Context, transport string, md pmetric.Metrics) error {
	if md.ResourceMetrics().Len() == 0 {
		return nil
	}
	n := float64(md.DataPointCount())
	if err := c.next.Load().ConsumeMetrics(ctx, md); err != nil {
		c.refused.WithLabelValues(transport).Add(n)
		return err
	}
	c.accepted.WithLabelValues(transport).Add(n)
	return nil
}

// metricsService is the gRPC MetricsService.
type metricsService struct {
	pmetricotlp.UnimplementedGRPCServer
	c        *Component
	metadata bool
}

func (s *metricsService) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	if s.metadata {
		if md, ok := grpcmetadata.FromIncomingContext(ctx); ok {
			ctx = otelcol.WithMetadata(ctx, map[string][]string(md))
		}
	}
	if err := s.c.consume(ctx, "grpc", req.Metrics()); err != nil {
		return pmetricotlp.NewExportResponse(), status.Error(codes.Unavailable, err.Error())
	}
	return pmetricotlp.NewExportResponse(), nil
}

func (c *Component) serveGRPC(g *GRPC) (string, func(), error) {
	var opts []grpc.ServerOption
	if g.MaxRecvMsgSize > 0 {
		opts = append(opts, grpc.MaxRecvMsgSize(int(g.MaxRecvMsgSize)))
	}
	if g.MaxConcurrentStreams > 0 {
		opts = append(opts, grpc.MaxConcurrentStreams(g.MaxConcurrentStreams))
	}
	if g.ReadBufferSize > 0 {
		opts = append(opts, grpc.ReadBufferSize(int(g.ReadBufferSize)))
	}
	if g.WriteBufferSize > 0 {
		opts = append(opts, grpc.WriteBufferSize(int(g.WriteBufferSize)))
	}
	if k := g.Keepalive; k != nil {
		if p := k.ServerParameters; p != nil {
			opts = append(opts, grpc.KeepaliveParams(keepalive.ServerParameters{
				MaxConnectionIdle: p.MaxConnectionIdle, MaxConnectionAge: p.MaxConnectionAge,
				MaxConnectionAgeGrace: p.MaxConnectionAgeGrace, Time: p.Time, Timeout: p.Timeout,
			}))
		}
		if p := k.EnforcementPolicy; p != nil {
			opts = append(opts, grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
				MinTime: p.MinTime, PermitWithoutStream: p.PermitWithoutStream,
			}))
		}
	}
	if g.TLS != nil {
		cfg, err := g.TLS.Config()
		if err != nil {
			return "", nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg)))
	}
	l, err := net.Listen(g.Transport, g.Endpoint)
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer(opts...)
	pmetricotlp.RegisterGRPCServer(srv, &metricsService{c: c, metadata: g.IncludeMetadata})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			c.opts.Logger.Error("the OTLP/gRPC server stopped", "err", err)
		}
	}()
	return l.Addr().String(), func() {
		stopped := make(chan struct{})
		go func() { srv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			srv.Stop()
		}
		<-done
	}, nil
}

func (c *Component) serveHTTP(h *HTTP) (string, func(), error) {
	mux := http.NewServeMux()
	mux.Handle(h.MetricsURLPath, c.cors(h, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.handleMetrics(h, w, r)
	})))
	var tlsErr error
	srv := &http.Server{
		Handler:           mux,
		IdleTimeout:       h.IdleTimeout,
		ReadTimeout:       h.ReadTimeout,
		WriteTimeout:      h.WriteTimeout,
		ReadHeaderTimeout: h.ReadHeaderTimeout,
		ErrorLog:          nil,
	}
	if h.KeepAlivesEnabled != nil {
		srv.SetKeepAlivesEnabled(*h.KeepAlivesEnabled)
	}
	if h.TLS != nil {
		srv.TLSConfig, tlsErr = h.TLS.Config()
		if tlsErr != nil {
			return "", nil, tlsErr
		}
	}
	l, err := net.Listen("tcp", h.Endpoint)
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(l, "", "")
		} else {
			err = srv.Serve(l)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.opts.Logger.Error("the OTLP/HTTP server stopped", "err", err)
		}
	}()
	return l.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		<-done
	}, nil
}

// cors answers preflight requests and marks responses for the origins the
// cors block allows.
func (c *Component) cors(h *HTTP, next http.Handler) http.Handler {
	if h.CORS == nil || len(h.CORS.AllowedOrigins) == 0 {
		return next
	}
	allowed := func(origin string) bool {
		for _, o := range h.CORS.AllowedOrigins {
			if o == "*" || o == origin || wildcardMatch(o, origin) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !allowed(origin) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
		if len(h.CORS.ExposedHeaders) > 0 {
			w.Header().Set("Access-Control-Expose-Headers", strings.Join(h.CORS.ExposedHeaders, ", "))
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			hdrs := append([]string{"Content-Type", "Content-Encoding"}, h.CORS.AllowedHeaders...)
			w.Header().Set("Access-Control-Allow-Headers", strings.Join(hdrs, ", "))
			if h.CORS.MaxAge > 0 {
				w.Header().Set("Access-Control-Max-Age", fmt.Sprint(h.CORS.MaxAge))
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// wildcardMatch matches an origin pattern with one "*" ("https://*.example.com").
func wildcardMatch(pattern, s string) bool {
	pre, post, ok := strings.Cut(pattern, "*")
	return ok && len(s) >= len(pre)+len(post) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, post)
}

func (c *Component) handleMetrics(h *HTTP, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed, supported: [POST]", http.StatusMethodNotAllowed)
		return
	}
	ct := r.Header.Get("Content-Type")
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && !contains(h.CompressionAlgorithms, enc) {
		http.Error(w, fmt.Sprintf("unsupported Content-Encoding %q", enc), http.StatusUnsupportedMediaType)
		return
	}
	limit := int64(h.MaxRequestBodySize)
	if limit <= 0 {
		limit = defaultMaxRequestBodySize
	}
	body, err := readBody(r.Body, enc, limit)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), code)
		return
	}
	md, err := decodeMetrics(ct, body)
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, errUnsupportedType) {
			code = http.StatusUnsupportedMediaType
		}
		http.Error(w, err.Error(), code)
		return
	}
	ctx := r.Context()
	if h.IncludeMetadata {
		m := make(map[string][]string, len(r.Header))
		for k, v := range r.Header {
			m[strings.ToLower(k)] = v
		}
		ctx = otelcol.WithMetadata(ctx, m)
	}
	if err := c.consume(ctx, "http", md); err != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	resp, rt := encodeResponse(ct)
	w.Header().Set("Content-Type", rt)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Registration registers otelcol.receiver.otlp.
var Registration = component.Registration{
	Name:      "otelcol.receiver.otlp",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
