package scrape

import (
	"bytes"
	"compress/gzip"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/sample"
)

// TestBrokenTargetsAreDownWhileAHealthyNeighbourKeepsEveryTick runs one
// healthy target beside every kind of broken one, through several ticks.
func TestBrokenTargetsAreDownWhileAHealthyNeighbourKeepsEveryTick(t *testing.T) {
	healthy := newTextTarget(t, "ok 1\n")

	// A refused connection: a port that was just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()

	stop := make(chan struct{})
	serve := func(h http.HandlerFunc) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.Listener.Addr().String()
	}
	slow := serve(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	status500 := serve(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	garbage := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte("}{ this is not \x00 an exposition\n"))
	})
	oversized := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(bytes.Repeat([]byte("big_metric 1\n"), 200_000))
	})
	endless := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		line := bytes.Repeat([]byte("endless 1\n"), 25_000)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-stop:
				return
			default:
			}
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	})
	var bomb bytes.Buffer
	gz := gzip.NewWriter(&bomb)
	_, _ = gz.Write(bytes.Repeat([]byte{'#'}, 8<<20))
	_ = gz.Close()
	gzipBomb := serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb.Bytes())
	})
	t.Cleanup(func() { close(stop) })

	cases := []struct {
		name, addr, wantErr string
	}{
		{"refused", refused, "connection refused"},
		{"slow past timeout", slow, "context deadline exceeded"},
		{"HTTP 500", status500, "server returned HTTP status 500 Internal Server Error"},
		{"garbage body", garbage, ""},
		{"oversized body", oversized, "body size limit exceeded"},
		// Cut by whichever comes first: the body limit or the timeout.
		{"endless stream", endless, ""},
		{"gzip bomb", gzipBomb, "body size limit exceeded"},
	}
	targets := []labels.Labels{targetLabels(healthy.addr())}
	for _, c := range cases {
		if c.addr == slow {
			// Only the slow target gets a short timeout, from its own
			// label, so that a loaded test machine cannot time out the
			// others.
			targets = append(targets, targetLabels(c.addr, "__scrape_timeout__", "300ms"))
			continue
		}
		targets = append(targets, targetLabels(c.addr))
	}

	h := newHarness(t, nil)
	cfg := testConfig()
	cfg.Timeout = 8 * time.Second
	cfg.BodySizeLimit = 1 << 20
	if err := h.engine.SetTargets(targets, cfg); err != nil {
		t.Fatal(err)
	}
	h.start()

	const rounds = 3
	for _, tk := range upcoming(h.clock.Now().UnixMilli(), targets, cfg.Interval, rounds) {
		h.advanceTo(tk.ms, len(targets))
		addr := targets[tk.target].Get("__address__")
		h.recv.waitFor(t, "up of "+addr, func(ss []sample.Sample) bool { return len(upAt(ss, addr, tk.ms)) == 1 })
	}

	ss := h.recv.samples()
	if got := len(find(ss, "ok")); got != rounds {
		t.Fatalf("healthy target has %d samples, want one per tick (%d)", got, rounds)
	}
	for _, s := range find(ss, "up", "instance", healthy.addr()) {
		if s.V != 1 {
			t.Fatalf("healthy target up = %v at %d", s.V, s.T)
		}
	}
	statuses := map[string]TargetStatus{}
	for _, st := range h.engine.Targets() {
		statuses[st.Labels.Get("instance")] = st
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ups := find(ss, "up", "instance", c.addr)
			if len(ups) != rounds {
				t.Fatalf("%d up samples, want %d", len(ups), rounds)
			}
			for _, s := range ups {
				if s.V != 0 {
					t.Fatalf("up = %v, want 0", s.V)
				}
			}
			st := statuses[c.addr]
			if st.Health != HealthDown {
				t.Fatalf("health = %q, want down", st.Health)
			}
			if st.LastError == "" || !strings.Contains(st.LastError, c.wantErr) {
				t.Fatalf("last error = %q, want it to contain %q", st.LastError, c.wantErr)
			}
		})
	}
	if got := counterValue(t, h.engine.m.exceededBody); got < 2*rounds {
		t.Fatalf("body size limit counter = %v, want at least %d", got, 2*rounds)
	}
}
