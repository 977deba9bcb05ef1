package statsd

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter"
	"github.com/shoal-dev/shoal/internal/component/prometheus/exporter/exportertest"
)

func TestDefaultsAreAlloys(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.statsd "s" { }`, "prometheus.exporter.statsd", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.ListenUDP != ":9125" || a.ListenTCP != ":9125" || a.ListenUnixgram != "" || a.UnixSocketMode != "755" ||
		a.CacheSize != 1000 || a.CacheType != "lru" || a.EventQueueSize != 10000 || a.EventFlushThreshold != 1000 ||
		a.EventFlushInterval != 200*time.Millisecond || !a.ParseDogStatsd || !a.ParseInfluxDB || !a.ParseLibrato || !a.ParseSignalFX ||
		a.RelayPacketLength != 1400 || a.ReadBuffer != 0 || a.RelayAddr != "" || a.MappingConfig != "" {
		t.Errorf("defaults = %+v", a)
	}
}

func TestEveryArgumentDecodes(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, `prometheus.exporter.statsd "s" {
  listen_udp            = "127.0.0.1:1"
  listen_tcp            = ""
  listen_unixgram       = "/run/statsd.sock"
  unix_socket_mode      = "700"
  mapping_config_path   = "/m.yaml"
  read_buffer           = 4096
  cache_size            = 10
  cache_type            = "random"
  event_queue_size      = 5
  event_flush_threshold = 6
  event_flush_interval  = "1s"
  parse_dogstatsd_tags  = false
  parse_influxdb_tags   = false
  parse_librato_tags    = false
  parse_signalfx_tags   = false
  relay_addr            = "127.0.0.1:2"
  relay_packet_length   = 512
}`, "prometheus.exporter.statsd", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.ListenUDP != "127.0.0.1:1" || a.ListenTCP != "" || a.ListenUnixgram != "/run/statsd.sock" || a.UnixSocketMode != "700" ||
		a.MappingConfig != "/m.yaml" || a.ReadBuffer != 4096 || a.CacheSize != 10 || a.CacheType != "random" || a.EventQueueSize != 5 ||
		a.EventFlushThreshold != 6 || a.EventFlushInterval != time.Second || a.ParseDogStatsd || a.ParseInfluxDB || a.ParseLibrato ||
		a.ParseSignalFX || a.RelayAddr != "127.0.0.1:2" || a.RelayPacketLength != 512 {
		t.Errorf("arguments = %+v", a)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, src := range map[string]string{
		"no listener":    "listen_udp = \"\"\nlisten_tcp = \"\"",
		"bad udp":        `listen_udp = "nope"`,
		"bad tcp":        `listen_tcp = "127.0.0.1:x"`,
		"bad cache":      `cache_type = "fifo"`,
		"bad mode":       "listen_unixgram = \"/s\"\nunix_socket_mode = \"rwx\"",
		"zero interval":  `event_flush_interval = "0s"`,
		"negative queue": `event_queue_size = -1`,
	} {
		var a Arguments
		if err := discoverytest.Decode(t, "prometheus.exporter.statsd \"s\" {\n"+src+"\n}", "prometheus.exporter.statsd", nil, &a); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.statsd.s")
	a := DefaultArguments
	a.MappingConfig = filepath.Join(t.TempDir(), "missing.yaml")
	if _, err := Registration.Build(opts, a); err == nil {
		t.Error("built with a missing mapping file")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("mappings:\n- match: a.*\n  name: \"\"\n"), 0o644)
	a.MappingConfig = bad
	if _, err := Registration.Build(opts, a); err == nil {
		t.Error("built with a mapping that has no name")
	}
}

const mapping = `mappings:
- match: "lab.*.requests"
  name: "lab_requests_total"
  labels:
    service: "$1"
- match: "lab.latency"
  name: "lab_latency_seconds"
  observer_type: histogram
  histogram_options:
    buckets: [0.01, 0.1, 1]
`

func freeAddr(t *testing.T) string {
	t.Helper()
	// A port free for TCP and UDP both, since the listeners share it.
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return addr
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return ""
}

// send sends lines once, at best: the listeners start in the background,
// so the callers resend until the scrape shows what they sent.
func send(t *testing.T, network, addr, lines string) {
	t.Helper()
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Write([]byte(lines))
}

// waitScrape scrapes until body holds every want, failing with the last
// body when the deadline passes.
func waitScrape(t *testing.T, c component.Component, resend func(), want ...string) string {
	t.Helper()
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		body = exportertest.Scrape(t, c)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("scrape never held %q:\n%.3000s", missing, body)
		}
		if resend != nil {
			resend() // UDP may drop a datagram under load
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestReceivesStatsDOverUDPAndTCP builds the exporter on loopback with a
// mapping file, sends StatsD lines over UDP and TCP, and scrapes the
// mapped series (a counter with a label taken from the metric name, a
// histogram, a DogStatsD-tagged gauge left unmapped) and statsd_exporter's
// own counters; the target's instance is the component's ID. A rebuild on
// the same address then works, which proves the first listeners closed.
func TestReceivesStatsDOverUDPAndTCP(t *testing.T) {
	dir := t.TempDir()
	mp := filepath.Join(dir, "mapping.yaml")
	if err := os.WriteFile(mp, []byte(mapping), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	a := DefaultArguments
	a.ListenUDP, a.ListenTCP, a.MappingConfig = addr, addr, mp
	opts, rec, _ := discoverytest.Options(t, "prometheus.exporter.statsd.s")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	tg := rec.Last().(exporter.Exports).Targets
	if len(tg) != 1 || tg[0]["job"] != "integrations/statsd" || tg[0]["instance"] != "prometheus.exporter.statsd.s" {
		t.Errorf("targets = %v", tg)
	}

	udp := func() { send(t, "udp", addr, "lab.checkout.requests:3|c\nlab.latency:50|ms\n") }
	tcp := func() { send(t, "tcp", addr, "lab_queue_depth:7|g|#queue:orders\n") }
	waitScrape(t, c, func() { udp(); tcp() },
		`lab_requests_total{service="checkout"}`,
		`lab_latency_seconds_bucket{le="0.1"}`,
		`lab_queue_depth{queue="orders"} 7`,
		"statsd_exporter_loaded_mappings 2",
		"statsd_exporter_tcp_connections_total",
		"statsd_exporter_udp_packets_total",
		"statsd_exporter_build_info{",
	)

	// Rebuild on the same address: the first instance's listeners are
	// gone, or the second could not bind them.
	a.MappingConfig = ""
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	discoverytest.Eventually(t, 20*time.Second, func() bool {
		send(t, "udp", addr, "lab.after.rebuild:1|c\n")
		return strings.Contains(exportertest.Scrape(t, c), "lab_after_rebuild")
	}, "the rebuilt exporter never received on %s", addr)
	if h := c.(*exporter.Component).CurrentHealth(); h.State == component.HealthUnhealthy {
		t.Errorf("health after the rebuild = %+v", h)
	}
}

// TestReceivesOverUnixgram listens on a unixgram socket with the mode
// asked for, and removes it when the component stops.
func TestReceivesOverUnixgram(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "statsd.sock")
	a := DefaultArguments
	a.ListenUDP, a.ListenTCP, a.ListenUnixgram, a.UnixSocketMode = "", "", sock, "700"
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.statsd.u")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	stop := runUntil(t, c)
	// The socket appears when it is bound, and takes its mode just after.
	discoverytest.Eventually(t, 20*time.Second, func() bool {
		fi, err := os.Stat(sock)
		return err == nil && fi.Mode().Perm() == 0o700
	}, "the socket %s never appeared with mode 0700", sock)
	waitScrape(t, c, func() { send(t, "unixgram", sock, "lab_gram:1|c\n") }, "lab_gram 1", "statsd_exporter_unixgram_packets_total 1")
	stop()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the component: %v", err)
	}
}

// TestABusyPortMakesItUnhealthy: a listen address in use is the
// component's health, as Alloy logs it.
func TestABusyPortMakesItUnhealthy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a := DefaultArguments
	a.ListenUDP, a.ListenTCP = "", l.Addr().String()
	opts, _, _ := discoverytest.Options(t, "prometheus.exporter.statsd.busy")
	c, err := Registration.Build(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, 20*time.Second, func() bool {
		h := c.(*exporter.Component).CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "listen_tcp")
	}, "a busy port never made the component unhealthy")
}

// runUntil runs c and returns a function that stops it and waits.
func runUntil(t *testing.T, c component.Component) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%T did not stop", c)
		}
	}
	t.Cleanup(stop)
	return stop
}
