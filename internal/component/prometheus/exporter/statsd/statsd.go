// Package statsd is the prometheus.exporter.statsd component:
// statsd_exporter (github.com/prometheus/statsd_exporter) linked as a
// library, configured with Alloy's arguments and defaults. It listens for
// StatsD lines on UDP, TCP and a unixgram socket, turns them into
// Prometheus series by the mapping file's rules, and serves them (with
// statsd_exporter's own statsd_exporter_* counters) on its target, whose
// instance is the component's ID, as in Alloy.
//
// statsd_exporter's listener loops exit the process on some errors and
// leave goroutines behind; the loops here are the component's own,
// feeding the library's line parser, event handling and exporter, so that
// a rebuild (a config reload changing the arguments) stops everything the
// previous instance started. Only relay_addr's sender, whose library gives
// no way to stop it, outlives a rebuild, as in Alloy.
package statsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/statsd_exporter/pkg/address"
	"github.com/prometheus/statsd_exporter/pkg/event"
	sexporter "github.com/prometheus/statsd_exporter/pkg/exporter"
	"github.com/prometheus/statsd_exporter/pkg/line"
	"github.com/prometheus/statsd_exporter/pkg/listener"
	"github.com/prometheus/statsd_exporter/pkg/mapper"
	"github.com/prometheus/statsd_exporter/pkg/mappercache/lru"
	"github.com/prometheus/statsd_exporter/pkg/mappercache/randomreplacement"
	"github.com/prometheus/statsd_exporter/pkg/relay"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
)

// Registration is prometheus.exporter.statsd's entry in the registry.
var Registration = component.Registration{
	Name:    "prometheus.exporter.statsd",
	Args:    Arguments{},
	Exports: exporter.Exports{},
	Build:   exporter.Build("prometheus.exporter.statsd", "statsd", create),
}

// DefaultArguments are Alloy's defaults (statsd_exporter's flags').
var DefaultArguments = Arguments{
	ListenUDP:           ":9125",
	ListenTCP:           ":9125",
	UnixSocketMode:      "755",
	CacheSize:           1000,
	CacheType:           "lru",
	EventQueueSize:      10000,
	EventFlushThreshold: 1000,
	EventFlushInterval:  200 * time.Millisecond,
	ParseDogStatsd:      true,
	ParseInfluxDB:       true,
	ParseLibrato:        true,
	ParseSignalFX:       true,
	RelayPacketLength:   1400,
}

// Arguments are prometheus.exporter.statsd's, as Alloy names them. An
// empty listen_* address turns that listener off.
type Arguments struct {
	ListenUDP      string `alloy:"listen_udp,attr,optional"`
	ListenTCP      string `alloy:"listen_tcp,attr,optional"`
	ListenUnixgram string `alloy:"listen_unixgram,attr,optional"`
	UnixSocketMode string `alloy:"unix_socket_mode,attr,optional"`
	MappingConfig  string `alloy:"mapping_config_path,attr,optional"`

	ReadBuffer          int           `alloy:"read_buffer,attr,optional"`
	CacheSize           int           `alloy:"cache_size,attr,optional"`
	CacheType           string        `alloy:"cache_type,attr,optional"`
	EventQueueSize      int           `alloy:"event_queue_size,attr,optional"`
	EventFlushThreshold int           `alloy:"event_flush_threshold,attr,optional"`
	EventFlushInterval  time.Duration `alloy:"event_flush_interval,attr,optional"`

	ParseDogStatsd bool `alloy:"parse_dogstatsd_tags,attr,optional"`
	ParseInfluxDB  bool `alloy:"parse_influxdb_tags,attr,optional"`
	ParseLibrato   bool `alloy:"parse_librato_tags,attr,optional"`
	ParseSignalFX  bool `alloy:"parse_signalfx_tags,attr,optional"`

	RelayAddr         string `alloy:"relay_addr,attr,optional"`
	RelayPacketLength int    `alloy:"relay_packet_length,attr,optional"`
}

// SetToDefault implements the syntax's defaulter.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks, at config time, what statsd_exporter would refuse when
// the component starts: no listener, a listen address that does not parse,
// an unknown cache type, a socket mode that is not octal, and a flush
// interval the ticker cannot have.
func (a *Arguments) Validate() error {
	if a.ListenUDP == "" && a.ListenTCP == "" && a.ListenUnixgram == "" {
		return errors.New("at least one of listen_udp, listen_tcp and listen_unixgram must be set")
	}
	if a.ListenUDP != "" {
		if _, err := address.UDPAddrFromString(a.ListenUDP); err != nil {
			return fmt.Errorf("listen_udp: %w", err)
		}
	}
	if a.ListenTCP != "" {
		if _, err := address.TCPAddrFromString(a.ListenTCP); err != nil {
			return fmt.Errorf("listen_tcp: %w", err)
		}
	}
	if a.CacheSize != 0 && a.CacheType != "lru" && a.CacheType != "random" {
		return fmt.Errorf("cache_type: %q is neither lru nor random", a.CacheType)
	}
	if a.ListenUnixgram != "" {
		if _, err := strconv.ParseUint(a.UnixSocketMode, 8, 32); err != nil {
			return fmt.Errorf("unix_socket_mode: %q is not an octal file mode", a.UnixSocketMode)
		}
	}
	if a.EventFlushInterval <= 0 {
		return errors.New("event_flush_interval must be positive")
	}
	if a.EventQueueSize < 0 || a.EventFlushThreshold < 0 {
		return errors.New("event_queue_size and event_flush_threshold must not be negative")
	}
	return nil
}

// metrics are statsd_exporter's own counters, by its names.
type metrics struct {
	eventStats, sampleErrors, conflicting, errorEvents, actions *prometheus.CounterVec

	eventsFlushed, eventsUnmapped, udpPackets, udpPacketDrops, tcpConnections, tcpErrors, tcpLineTooLong,
	unixgramPackets, linesReceived, samplesReceived, tagsReceived, tagErrors prometheus.Counter

	mappingsCount prometheus.Gauge
	metricsCount  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var cs []prometheus.Collector
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "statsd_exporter_" + name, Help: help})
		cs = append(cs, c)
		return c
	}
	counterVec := func(name, help, label string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "statsd_exporter_" + name, Help: help}, []string{label})
		cs = append(cs, c)
		return c
	}
	m := &metrics{
		eventStats:      counterVec("events_total", "The total number of StatsD events seen.", "type"),
		eventsFlushed:   counter("event_queue_flushed_total", "Number of times events were flushed to exporter"),
		eventsUnmapped:  counter("events_unmapped_total", "The total number of StatsD events no mapping was found for."),
		udpPackets:      counter("udp_packets_total", "The total number of StatsD packets received over UDP."),
		udpPacketDrops:  counter("udp_packet_drops_total", "The total number of dropped StatsD packets which received over UDP."),
		tcpConnections:  counter("tcp_connections_total", "The total number of TCP connections handled."),
		tcpErrors:       counter("tcp_connection_errors_total", "The number of errors encountered reading from TCP."),
		tcpLineTooLong:  counter("tcp_too_long_lines_total", "The number of lines discarded due to being too long."),
		unixgramPackets: counter("unixgram_packets_total", "The total number of StatsD packets received over Unixgram."),
		linesReceived:   counter("lines_total", "The total number of StatsD lines received."),
		samplesReceived: counter("samples_total", "The total number of StatsD samples received."),
		sampleErrors:    counterVec("sample_errors_total", "The total number of errors parsing StatsD samples.", "reason"),
		tagsReceived:    counter("tags_total", "The total number of DogStatsD tags processed."),
		tagErrors:       counter("tag_errors_total", "The number of errors parsing DogStatsD tags."),
		conflicting:     counterVec("events_conflict_total", "The total number of StatsD events with conflicting names.", "type"),
		errorEvents:     counterVec("events_error_total", "The total number of StatsD events discarded due to errors.", "reason"),
		actions:         counterVec("events_actions_total", "The total number of StatsD events by action.", "action"),
	}
	m.mappingsCount = prometheus.NewGauge(prometheus.GaugeOpts{Name: "statsd_exporter_loaded_mappings", Help: "The current number of configured metric mappings."})
	m.metricsCount = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "statsd_exporter_metrics_total", Help: "The total number of metrics."}, []string{"type"})
	cs = append(cs, m.mappingsCount, m.metricsCount)
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// instance is one built exporter: its registry, and what Run needs.
type instance struct {
	http.Handler
	args     Arguments
	logger   *slog.Logger
	m        *metrics
	exporter *sexporter.Exporter
}

func create(opts component.Options, args component.Arguments) (http.Handler, string, error) {
	a := args.(Arguments)
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, "", err
	}
	logger := opts.Logger.With("source", "statsd_exporter")
	mp := &mapper.MetricMapper{Registerer: reg, MappingsCount: m.mappingsCount, Logger: logger}
	if a.MappingConfig != "" {
		b, err := os.ReadFile(a.MappingConfig)
		if err != nil {
			return nil, "", fmt.Errorf("mapping_config_path: %w", err)
		}
		if err := mp.InitFromYAMLString(string(b)); err != nil {
			return nil, "", fmt.Errorf("mapping_config_path %s: %w", a.MappingConfig, err)
		}
	}
	if a.CacheSize != 0 {
		var cache mapper.MetricMapperCache
		switch a.CacheType {
		case "lru":
			cache, err = lru.NewMetricMapperLRUCache(reg, a.CacheSize)
		case "random":
			cache, err = randomreplacement.NewMetricMapperRRCache(reg, a.CacheSize)
		default:
			err = fmt.Errorf("unsupported cache type %q", a.CacheType)
		}
		if err != nil {
			return nil, "", fmt.Errorf("cache: %w", err)
		}
		if cache != nil {
			mp.UseCache(cache)
		}
	}
	e := sexporter.NewExporter(reg, mp, logger, m.actions, m.eventsUnmapped, m.errorEvents, m.eventStats, m.conflicting, m.metricsCount)
	if err := reg.Register(version.NewCollector("statsd_exporter")); err != nil {
		return nil, "", fmt.Errorf("registering statsd_exporter_build_info: %w", err)
	}
	in := &instance{
		Handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}),
		args:     a,
		logger:   logger,
		m:        m,
		exporter: e,
	}
	// Alloy's instance for statsd is the component's ID.
	return in, opts.ID, nil
}

// Run listens until ctx ends, then stops every loop it started and the
// exporter's own, in that order, so that nothing is sent on a closed
// channel.
func (in *instance) Run(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil // replaced before it ran: nothing was bound
	}
	a := in.args
	parser := line.NewParser()
	if a.ParseDogStatsd {
		parser.EnableDogstatsdParsing()
	}
	if a.ParseInfluxDB {
		parser.EnableInfluxdbParsing()
	}
	if a.ParseLibrato {
		parser.EnableLibratoParsing()
	}
	if a.ParseSignalFX {
		parser.EnableSignalFXParsing()
	}
	events := make(chan event.Events, a.EventQueueSize)
	q := newQueue(events, a.EventFlushThreshold, in.m.eventsFlushed)

	var rl *relay.Relay
	if a.RelayAddr != "" {
		var err error
		if rl, err = relay.NewRelay(in.logger, a.RelayAddr, uint(a.RelayPacketLength)); err != nil {
			return fmt.Errorf("relay_addr: %w", err)
		}
	}

	var (
		wg      sync.WaitGroup
		closers []func()
	)
	stop := func() {
		for _, c := range closers {
			c()
		}
		wg.Wait()
	}
	fail := func(err error) error {
		stop()
		return err
	}
	m := in.m

	if a.ListenUDP != "" {
		addr, err := address.UDPAddrFromString(a.ListenUDP)
		if err != nil {
			return fail(fmt.Errorf("listen_udp %s: %w", a.ListenUDP, err))
		}
		conn, err := net.ListenUDP("udp", addr)
		if err != nil {
			return fail(fmt.Errorf("listen_udp: %w", err))
		}
		closers = append(closers, func() { conn.Close() })
		if a.ReadBuffer != 0 {
			if err := conn.SetReadBuffer(a.ReadBuffer); err != nil {
				return fail(fmt.Errorf("read_buffer: %w", err))
			}
		}
		ul := &listener.StatsDUDPListener{
			Conn: conn, EventHandler: q, Relay: rl, Logger: in.logger, LineParser: parser,
			UDPPackets: m.udpPackets, UDPPacketDrops: m.udpPacketDrops, LinesReceived: m.linesReceived,
			EventsFlushed: m.eventsFlushed, SampleErrors: *m.sampleErrors, SamplesReceived: m.samplesReceived,
			TagErrors: m.tagErrors, TagsReceived: m.tagsReceived,
		}
		// statsd_exporter's queue of packets between reading and parsing,
		// with its size and its drop counting; the goroutine reading it is
		// this component's, so that it ends.
		packets := make(chan []byte, 1000)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for p := range packets {
				ul.HandlePacket(p)
			}
		}()
		go func() {
			defer wg.Done()
			defer close(packets)
			buf := make([]byte, 65535)
			for {
				n, _, err := conn.ReadFromUDP(buf)
				if err != nil {
					if !errors.Is(err, net.ErrClosed) {
						in.logger.Error("reading from the UDP listener", "err", err)
					}
					return
				}
				m.udpPackets.Inc()
				select {
				case packets <- append([]byte(nil), buf[:n]...):
				default:
					m.udpPacketDrops.Inc()
				}
			}
		}()
	}

	if a.ListenTCP != "" {
		addr, err := address.TCPAddrFromString(a.ListenTCP)
		if err != nil {
			return fail(fmt.Errorf("listen_tcp %s: %w", a.ListenTCP, err))
		}
		ln, err := net.ListenTCP("tcp", addr)
		if err != nil {
			return fail(fmt.Errorf("listen_tcp: %w", err))
		}
		tl := &listener.StatsDTCPListener{
			Conn: ln, EventHandler: q, Relay: rl, Logger: in.logger, LineParser: parser,
			LinesReceived: m.linesReceived, EventsFlushed: m.eventsFlushed, SampleErrors: *m.sampleErrors,
			SamplesReceived: m.samplesReceived, TagErrors: m.tagErrors, TagsReceived: m.tagsReceived,
			TCPConnections: m.tcpConnections, TCPErrors: m.tcpErrors, TCPLineTooLong: m.tcpLineTooLong,
		}
		var (
			mu     sync.Mutex
			conns  = map[*net.TCPConn]bool{}
			closed bool
		)
		closers = append(closers, func() {
			ln.Close()
			mu.Lock()
			closed = true
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.AcceptTCP()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					// statsd_exporter exits the process here; a node
					// should not: wait a little and accept again.
					in.logger.Error("accepting a TCP connection", "err", err)
					time.Sleep(100 * time.Millisecond)
					continue
				}
				mu.Lock()
				if closed {
					mu.Unlock()
					c.Close()
					return
				}
				conns[c] = true
				wg.Add(1)
				mu.Unlock()
				go func() {
					defer wg.Done()
					tl.HandleConn(c) // closes c
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
			}
		}()
	}

	if a.ListenUnixgram != "" {
		if _, err := os.Stat(a.ListenUnixgram); !os.IsNotExist(err) {
			return fail(fmt.Errorf("listen_unixgram: socket %s already exists", a.ListenUnixgram))
		}
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Net: "unixgram", Name: a.ListenUnixgram})
		if err != nil {
			return fail(fmt.Errorf("listen_unixgram: %w", err))
		}
		closers = append(closers, func() {
			conn.Close()
			// An abstract socket has no file.
			if !strings.HasPrefix(a.ListenUnixgram, "@") {
				os.Remove(a.ListenUnixgram)
			}
		})
		if a.ReadBuffer != 0 {
			if err := conn.SetReadBuffer(a.ReadBuffer); err != nil {
				return fail(fmt.Errorf("read_buffer: %w", err))
			}
		}
		if _, err := os.Stat(a.ListenUnixgram); err == nil {
			mode, _ := strconv.ParseUint(a.UnixSocketMode, 8, 32) // checked by Validate
			if err := os.Chmod(a.ListenUnixgram, os.FileMode(mode)); err != nil {
				in.logger.Warn("setting the unixgram socket's mode", "socket", a.ListenUnixgram, "err", err)
			}
		}
		ul := &listener.StatsDUnixgramListener{
			Conn: conn, EventHandler: q, Relay: rl, Logger: in.logger, LineParser: parser,
			UnixgramPackets: m.unixgramPackets, LinesReceived: m.linesReceived, EventsFlushed: m.eventsFlushed,
			SampleErrors: *m.sampleErrors, SamplesReceived: m.samplesReceived, TagErrors: m.tagErrors, TagsReceived: m.tagsReceived,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 65535)
			for {
				n, _, err := conn.ReadFromUnix(buf)
				if err != nil {
					if !errors.Is(err, net.ErrClosed) {
						in.logger.Error("reading from the unixgram listener", "err", err)
					}
					return
				}
				ul.HandlePacket(buf[:n])
			}
		}()
	}

	exported := make(chan struct{})
	go func() {
		defer close(exported)
		in.exporter.Listen(events) // returns when events is closed
	}()
	flushDone := make(chan struct{})
	go func() {
		defer close(flushDone)
		t := time.NewTicker(a.EventFlushInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				q.Flush()
			}
		}
	}()

	<-ctx.Done()
	stop()
	<-flushDone
	q.close()
	<-exported
	return nil
}

// queue is statsd_exporter's event queue (flush at a threshold or on a
// ticker), with an end: after close it drops what it is given, and its
// channel is closed, which ends the exporter's loop.
type queue struct {
	mu        sync.Mutex
	q         event.Events
	threshold int
	out       chan event.Events
	flushed   prometheus.Counter
	closed    bool
}

var _ event.EventHandler = (*queue)(nil)

func newQueue(out chan event.Events, threshold int, flushed prometheus.Counter) *queue {
	return &queue{out: out, threshold: threshold, flushed: flushed, q: make(event.Events, 0, threshold)}
}

// Queue implements event.EventHandler.
func (q *queue) Queue(es event.Events) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	for _, e := range es {
		q.q = append(q.q, e)
		if len(q.q) >= q.threshold {
			q.flushLocked()
		}
	}
}

// Flush hands what is queued to the exporter.
func (q *queue) Flush() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.flushLocked()
	}
}

func (q *queue) flushLocked() {
	if len(q.q) == 0 {
		return
	}
	q.out <- q.q
	q.q = make(event.Events, 0, q.threshold)
	q.flushed.Inc()
}

// close flushes what is left and closes the channel.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.flushLocked()
	q.closed = true
	close(q.out)
}
