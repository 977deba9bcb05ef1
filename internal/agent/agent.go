// Package agent wires one shoal node together: the HTTP server, the cluster
// node and the component runtime, the reload triggers (SIGHUP and
// /-/reload), readiness, and the order of a graceful shutdown. It owns the
// lifecycle of a node and nothing else: what components do is theirs, who
// owns what is the cluster's, and what is served is the web package's.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/config"
	"github.com/shoal-dev/shoal/internal/configfile"
	"github.com/shoal-dev/shoal/internal/livedebug"
	"github.com/shoal-dev/shoal/internal/runtime"
	"github.com/shoal-dev/shoal/internal/syntax/diag"
	"github.com/shoal-dev/shoal/internal/web"
)

// errInvalidConfig is returned when the config file cannot be loaded; the
// diagnostics have been printed already.
var errInvalidConfig = errors.New("the config file is invalid")

// Run runs a node until ctx is cancelled (SIGINT/SIGTERM), then shuts it
// down gracefully within cfg.ShutdownTimeout. Logs go to logOut.
func Run(ctx context.Context, cfg Config, logOut io.Writer) error {
	logs := newLogSwitch(logOut)
	log := logs.logger()

	src, err := os.ReadFile(cfg.ConfigFile)
	if err != nil {
		return fmt.Errorf("reading the config file: %w", err)
	}
	registry := all.Registry()
	// Check the whole file before binding a port or joining a cluster: a node
	// with a broken config must not take targets from its peers.
	if diags := runtime.New(runtime.Options{
		Registry:            registry,
		StabilityLevel:      cfg.StabilityLevel,
		CommunityComponents: cfg.CommunityComponents,
	}).Validate(cfg.ConfigFile, src); len(diags) > 0 {
		_ = diag.Fprint(logOut, diags, map[string][]byte{cfg.ConfigFile: src})
		return errInvalidConfig
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "shoal_build_info", Help: "A metric with a constant 1 labelled by the shoal version."}, []string{"version"})
	buildInfo.WithLabelValues(cfg.Version).Set(1)
	reg.MustRegister(buildInfo)

	n := &node{cfg: cfg, log: log, logs: logs, reg: reg, live: livedebug.NewHub()}
	srv := web.New(web.Options{
		UIPrefix:      cfg.UIPathPrefix,
		LiveDebug:     n.live,
		Logger:        log.With("component", "http"),
		Gatherer:      reg,
		Version:       cfg.Version,
		Components:    n.components,
		Peers:         n.peers,
		Targets:       n.targets,
		ClusterStatus: n.clusterStatus,
		Ready:         n.ready,
		Reload:        n.reload,
		Gossip:        http.HandlerFunc(n.gossip),
		Extra:         n.extraRoutes,

		ComponentHandler: n.componentHandler,
	})
	n.web = srv
	addr, err := srv.Listen(cfg.ListenAddr)
	if err != nil {
		return err
	}
	log.Info("serving HTTP", "addr", addr.String())

	ccfg := cfg.Cluster
	cnode, err := cluster.New(ccfg, cluster.Options{ListenAddr: addr.String(), Logger: log, Registerer: reg, DataDir: cfg.StoragePath})
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	n.cluster = cnode
	n.rt = runtime.New(runtime.Options{
		Registry:   registry,
		Logger:     log,
		Registerer: reg,
		DataPath:   cfg.StoragePath,
		Cluster:    cnode,
		// The functions of the standard library are checked against the
		// level by the evaluator, through the scope the runtime builds.
		StabilityLevel:      cfg.StabilityLevel,
		CommunityComponents: cfg.CommunityComponents,
		LiveDebug:           n.live,
		Host:                component.Host{HTTPAddr: selfDialAddr(addr), Gatherer: reg},
	})
	unsub := n.rt.SubscribeGlobals(n.applyGlobals)
	defer unsub()
	if err := n.rt.Load(cfg.ConfigFile, src); err != nil {
		var applyErr *runtime.ApplyError
		if !errors.As(err, &applyErr) {
			configfile.PrintError(logOut, err, cfg.ConfigFile, src)
			return errInvalidConfig
		}
		// The config is valid; the components that failed to build run
		// unhealthy, as in Alloy, and the rest of the node works.
		log.Error("some components failed to start", "err", err)
	}
	cnode.SetConfigFingerprint(n.rt.Fingerprint())

	// Each part gets its own context, so that shutdown can stop them in
	// order: scraping before the cluster, the cluster before the server.
	webCtx, stopWeb := context.WithCancel(context.Background())
	clusterCtx, stopCluster := context.WithCancel(context.Background())
	rtCtx, stopRuntime := context.WithCancel(context.Background())
	defer stopWeb()
	defer stopCluster()
	defer stopRuntime()

	var wg sync.WaitGroup
	errs := make(chan error, 3)
	start := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	start("http server", func() error { return srv.Serve(webCtx) })
	start("cluster", func() error { return cnode.Run(clusterCtx) })
	runtimeDone := make(chan struct{})
	start("runtime", func() error { defer close(runtimeDone); return n.rt.Run(rtCtx) })

	participateDone := make(chan struct{})
	go func() {
		defer close(participateDone)
		n.participateWhenReady(rtCtx)
	}()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			if err := n.reload(); err != nil {
				log.Error("reload refused; the running config is unchanged", "err", err)
			}
		case err := <-errs:
			runErr = err
			log.Error("stopping after a fatal error", "err", err)
			break loop
		}
	}

	// Graceful shutdown: hand the targets over on the tick grid, let the
	// last scrapes finish, flush the queues, leave, stop serving.
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	sctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	log.Info("shutting down", "deadline", cfg.ShutdownTimeout)
	if err := cnode.Leave(sctx); err != nil {
		log.Warn("handoff cut short by the shutdown deadline", "err", err)
	}
	stopRuntime()
	<-participateDone
	select {
	case <-runtimeDone:
	case <-sctx.Done():
		log.Warn("components did not stop before the shutdown deadline")
	}
	cnode.Stop()
	stopCluster()
	stopWeb()
	wg.Wait()
	return runErr
}

// node holds the parts of one running node for the server's callbacks.
type node struct {
	cfg     Config
	log     *slog.Logger
	logs    *logSwitch
	reg     *prometheus.Registry
	web     *web.Server
	cluster *cluster.Node
	rt      *runtime.Runtime
	live    *livedebug.Hub

	reloadMu sync.Mutex
}

// participateWhenReady asks the cluster to make this node a participant once
// the config is loaded and every discovery has finished its first refresh.
func (n *node) participateWhenReady(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if n.rt.Loaded() && n.rt.DiscoveryReady() {
			n.cluster.SetReady()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reload re-reads the config file and applies it. On any error the running
// config is untouched and the error lists every problem with its position.
func (n *node) reload() error {
	n.reloadMu.Lock()
	defer n.reloadMu.Unlock()
	src, err := os.ReadFile(n.cfg.ConfigFile)
	if err != nil {
		return fmt.Errorf("reading the config file: %w", err)
	}
	if err := n.rt.Load(n.cfg.ConfigFile, src); err != nil {
		var applyErr *runtime.ApplyError
		if errors.As(err, &applyErr) {
			// Valid and applied; the failed components keep their last
			// good arguments and show as unhealthy.
			n.cluster.SetConfigFingerprint(n.rt.Fingerprint())
			return fmt.Errorf("config applied, but some components failed: %w", err)
		}
		var b strings.Builder
		configfile.PrintError(&b, err, n.cfg.ConfigFile, src)
		return errors.New(strings.TrimRight(b.String(), "\n"))
	}
	n.cluster.SetConfigFingerprint(n.rt.Fingerprint())
	n.log.Info("config reloaded", "file", n.cfg.ConfigFile)
	return nil
}

// applyGlobals follows the logging, livedebugging and http blocks at each
// load.
func (n *node) applyGlobals(g config.Globals) {
	n.logs.apply(g.Logging)
	n.live.SetEnabled(g.LiveDebugging.Enabled)
	h := g.HTTP
	if h.TLS == nil && n.cfg.Cluster.EnableTLS && n.cfg.Cluster.TLSCertPath != "" {
		// Gossip over TLS needs the server to speak TLS. Without an http
		// tls block, serve with the cluster's own certificate and CA, so
		// that the cluster flags alone are enough.
		h.TLS = &config.TLS{
			CertFile:       n.cfg.Cluster.TLSCertPath,
			KeyFile:        n.cfg.Cluster.TLSKeyPath,
			ClientCAFile:   n.cfg.Cluster.TLSCAPath,
			ClientAuthType: "VerifyClientCertIfGiven",
		}
		if h.TLS.ClientCAFile == "" {
			h.TLS.ClientAuthType = "NoClientCert"
		}
	}
	if err := n.web.Apply(h); err != nil {
		n.log.Error("the http block could not be applied; the server keeps its previous settings", "err", err)
	}
}

func (n *node) gossip(w http.ResponseWriter, r *http.Request) {
	n.cluster.Handler().ServeHTTP(w, r)
}

func (n *node) extraRoutes(m *http.ServeMux) {
	if !n.cfg.EnablePprof {
		return
	}
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// ready is /-/ready: the config is loaded and, when clustered, the node is
// a participant or its wait-for-size deadline has passed.
func (n *node) ready() (bool, string) {
	if !n.rt.Loaded() {
		return false, "the config is not loaded yet"
	}
	if n.cluster.Enabled() && !n.cluster.Ready() {
		if note := n.cluster.Self().Note; note != "" {
			return false, "the node is not a participant of the cluster: " + note
		}
		return false, "the node is not a participant of the cluster yet"
	}
	return true, ""
}
