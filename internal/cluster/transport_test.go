package cluster

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// h2cServer serves handler over h2c on 127.0.0.1:0.
func h2cServer(t *testing.T, handler http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func testTransport(t *testing.T, adv string) *transport {
	t.Helper()
	tr := newTransport(slog.New(slog.DiscardHandler), newMetrics(""), netip.MustParseAddrPort(adv), nil, false)
	t.Cleanup(func() { _ = tr.Shutdown() })
	return tr
}

func hostport(srv *httptest.Server) string { return srv.Listener.Addr().String() }

func TestSlowPeerDoesNotStallPacketsToOthers(t *testing.T) {
	release := make(chan struct{})
	slow := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	good := testTransport(t, "127.0.0.1:7001")
	goodSrv := h2cServer(t, good)

	sender := testTransport(t, "127.0.0.1:7000")
	for range 2 * peerQueueLen {
		_, _ = sender.WriteTo([]byte("to the slow peer"), hostport(slow))
	}
	for i := range 10 {
		_, _ = sender.WriteTo([]byte{byte(i)}, hostport(goodSrv))
	}
	for i := range 10 {
		select {
		case p := <-good.PacketCh():
			if !bytes.Equal(p.Buf, []byte{byte(i)}) {
				t.Fatalf("packet %d: got %v", i, p.Buf)
			}
			if p.From.String() != "127.0.0.1:7000" {
				t.Errorf("packet from %s, want the sender's advertise address 127.0.0.1:7000", p.From)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("packet %d to the healthy peer not delivered while another peer stalls", i)
		}
	}
	if dropped := metricValue(sender.metrics.txDropped); dropped < peerQueueLen-1 {
		t.Errorf("%v packets dropped for the stalled peer, want the oldest of the overflow (~%d)", dropped, peerQueueLen)
	}
}

func TestStreamCarriesBothDirections(t *testing.T) {
	server := testTransport(t, "127.0.0.1:7002")
	srv := h2cServer(t, server)
	client := testTransport(t, "127.0.0.1:7003")

	go func() {
		c := <-server.StreamCh()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		_, _ = c.Write(append([]byte("echo "), buf...))
	}()
	c, err := client.DialTimeout(hostport(srv), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "echo hello" {
		t.Errorf("got %q over the stream, want %q", got, "echo hello")
	}
}

func TestStreamDeadlineAbortsABlockedRead(t *testing.T) {
	server := testTransport(t, "127.0.0.1:7004")
	srv := h2cServer(t, server)
	client := testTransport(t, "127.0.0.1:7005")
	go func() {
		c := <-server.StreamCh()
		defer c.Close()
		_, _ = io.Copy(io.Discard, c) // never writes
	}()
	c, err := client.DialTimeout(hostport(srv), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("read past the deadline returned %v, want a timeout", err)
	}
}

func TestGossipRoutesRefuseHTTP1(t *testing.T) {
	tr := testTransport(t, "127.0.0.1:7006")
	srv := httptest.NewServer(tr) // HTTP/1.1 only
	defer srv.Close()
	resp, err := http.Post(srv.URL+messagePath, contentType, bytes.NewReader([]byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusHTTPVersionNotSupported {
		t.Errorf("HTTP/1.1 gossip request got %s, want 505", resp.Status)
	}
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		return -1
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}
