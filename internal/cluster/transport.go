package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

// The gossip routes, served on the node's own HTTP port as in Alloy.
const (
	TransportPathPrefix = "/api/v1/ckit/transport/"
	messagePath         = TransportPathPrefix + "message"
	streamPath          = TransportPathPrefix + "stream"

	// headerFrom carries the sender's advertise address: the connection's
	// source port is an ephemeral one nobody listens on.
	headerFrom  = "X-Shoal-Gossip-From"
	contentType = "application/x.shoal-gossip"
)

// Transport tuning. Packets are SWIM's "UDP": best effort, so a full queue
// drops its oldest packet rather than blocking the protocol.
const (
	packetQueueLen   = 1024             // inbound packets waiting for memberlist
	peerQueueLen     = 256              // outbound packets waiting, per peer
	packetTimeout    = 2 * time.Second  // one packet POST, including its connection
	senderIdle       = 30 * time.Second // a peer's sender exits after this long unused
	maxPacketSize    = 4 << 20          // bound on a received packet body
	healthPing       = 5 * time.Second  // HTTP/2 PING after this much silence...
	healthPingWait   = 5 * time.Second  // ...and the connection is dropped if unanswered
	packetBufferSize = 64 << 10         // memberlist's UDPBufferSize: gossip per packet
	writeByteTimeout = 2 * time.Second  // a connection that cannot write is dropped
	maxStreamsWaited = 10 * time.Second // bound on a stream handed to memberlist
	dialTimeout      = 2 * time.Second  // TCP connect to a peer
)

var errTransportShutDown = errors.New("gossip transport is shut down")

// transport carries memberlist's packets and streams over HTTP/2: one POST
// per packet, and one long bidirectional POST per stream. It implements
// memberlist.NodeAwareTransport; Handler serves the other side.
type transport struct {
	log       *slog.Logger
	metrics   *metrics
	client    *http.Client
	scheme    string
	advertise netip.AddrPort
	// requireClientCert makes the handler refuse requests that did not
	// present a client certificate verified by the server's CA.
	requireClientCert bool

	packetCh chan *memberlist.Packet
	streamCh chan net.Conn

	mu      sync.Mutex
	senders map[string]*peerSender
	closed  bool

	ctx    context.Context // cancelled at shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup // the peer senders

	// onRefused, when set before the first send, is told of every address
	// whose connection attempt was refused: nothing listens there.
	onRefused func(addr string)

	// credential is this node's signed credential in base64, sent in a
	// header of every stream both ways; onCredential receives the
	// peer's, before memberlist reads the stream (see identity.go). Both
	// are set before the first send, or never.
	credential   string
	onCredential func(string)
}

// refused reports a refused connection to addr to onRefused.
func (t *transport) refused(addr string, err error) {
	if t.onRefused != nil && errors.Is(err, syscall.ECONNREFUSED) {
		t.onRefused(addr)
	}
}

var _ memberlist.NodeAwareTransport = (*transport)(nil)

func newTransport(log *slog.Logger, m *metrics, advertise netip.AddrPort, tlsConf *tls.Config, requireClientCert bool) *transport {
	rt := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: dialTimeout}).DialContext,
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: dialTimeout,
		ForceAttemptHTTP2:   true,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout:  healthPing,
			PingTimeout:      healthPingWait,
			WriteByteTimeout: writeByteTimeout,
		},
	}
	protos := new(http.Protocols)
	scheme := "http"
	if tlsConf != nil {
		protos.SetHTTP2(true)
		scheme = "https"
	} else {
		// h2c with prior knowledge: HTTP/2 without TLS and without an
		// HTTP/1 upgrade.
		protos.SetUnencryptedHTTP2(true)
	}
	rt.Protocols = protos
	ctx, cancel := context.WithCancel(context.Background())
	return &transport{
		log:               log,
		metrics:           m,
		client:            &http.Client{Transport: rt},
		scheme:            scheme,
		advertise:         advertise,
		requireClientCert: requireClientCert,
		packetCh:          make(chan *memberlist.Packet, packetQueueLen),
		streamCh:          make(chan net.Conn),
		senders:           make(map[string]*peerSender),
		ctx:               ctx,
		cancel:            cancel,
	}
}

// FinalAdvertiseAddr returns the address computed from the flags; the
// memberlist config carries the same.
func (t *transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.advertise.Addr().AsSlice(), int(t.advertise.Port()), nil
}

func (t *transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }
func (t *transport) StreamCh() <-chan net.Conn           { return t.streamCh }

func (t *transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress queues the packet for the peer's own sender and returns at
// once, so that one slow peer never delays packets to the others.
func (t *transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return now, errTransportShutDown
	}
	s := t.senders[a.Addr]
	if s == nil {
		s = &peerSender{t: t, addr: a.Addr, wake: make(chan struct{}, 1)}
		t.senders[a.Addr] = s
		t.wg.Add(1)
		go s.run()
	}
	// memberlist reuses its buffers only after WriteTo returns, but the
	// label wrapper and compression hand us fresh slices; copy anyway, the
	// sender outlives the call.
	s.push(bytes.Clone(b))
	t.mu.Unlock()
	return now, nil
}

// peerSender owns the queue of packets for one peer and the goroutine that
// posts them.
type peerSender struct {
	t    *transport
	addr string
	wake chan struct{}

	queue [][]byte // guarded by t.mu
}

// push appends a packet, dropping the oldest when the queue is full. The
// caller holds t.mu.
func (s *peerSender) push(b []byte) {
	if len(s.queue) >= peerQueueLen {
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.t.metrics.txDropped.Inc()
	}
	s.queue = append(s.queue, b)
	s.t.metrics.txQueue.Inc()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *peerSender) run() {
	defer s.t.wg.Done()
	idle := time.NewTimer(senderIdle)
	defer idle.Stop()
	for {
		s.t.mu.Lock()
		var b []byte
		if len(s.queue) > 0 {
			b = s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.t.metrics.txQueue.Dec()
		}
		s.t.mu.Unlock()
		if b != nil {
			s.send(b)
			continue
		}
		select {
		case <-s.wake:
			idle.Reset(senderIdle)
		case <-idle.C:
			s.t.mu.Lock()
			if len(s.queue) == 0 {
				delete(s.t.senders, s.addr)
				s.t.mu.Unlock()
				return
			}
			s.t.mu.Unlock()
			idle.Reset(senderIdle)
		case <-s.t.ctx.Done():
			s.t.mu.Lock()
			s.t.metrics.txQueue.Sub(float64(len(s.queue)))
			s.queue = nil
			s.t.mu.Unlock()
			return
		}
	}
}

func (s *peerSender) send(b []byte) {
	ctx, cancel := context.WithTimeout(s.t.ctx, packetTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.t.scheme+"://"+s.addr+messagePath, bytes.NewReader(b))
	if err != nil {
		s.t.metrics.txFailed.Inc()
		return
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(headerFrom, s.t.advertise.String())
	resp, err := s.t.client.Do(req)
	if err != nil {
		s.t.refused(s.addr, err)
		s.t.metrics.txFailed.Inc()
		s.t.log.Debug("gossip packet not delivered", "peer", s.addr, "err", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		s.t.metrics.txFailed.Inc()
		s.t.log.Debug("gossip packet refused", "peer", s.addr, "status", resp.Status)
		return
	}
	s.t.metrics.txPackets.Inc()
	s.t.metrics.txBytes.Add(float64(len(b)))
}

// DialTimeout opens a stream to addr: a POST whose request body carries
// what we write and whose response body carries what the peer writes.
func (t *transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithCancel(t.ctx)
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.scheme+"://"+a.Addr+streamPath, pr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("gossip stream to %s: %w", a.Addr, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(headerFrom, t.advertise.String())
	if t.credential != "" {
		req.Header.Set(headerCredential, t.credential)
	}
	// Only the wait for the response headers is bounded here; memberlist
	// sets deadlines on the connection for the rest.
	timer := time.AfterFunc(timeout, cancel)
	resp, err := t.client.Do(req)
	if !timer.Stop() && err == nil {
		_ = resp.Body.Close()
		err = os.ErrDeadlineExceeded
	}
	if err != nil {
		cancel()
		_ = pr.Close()
		t.refused(a.Addr, err)
		return nil, fmt.Errorf("gossip stream to %s: %w", a.Addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		_ = pr.Close()
		_ = resp.Body.Close()
		return nil, fmt.Errorf("gossip stream to %s: %s", a.Addr, resp.Status)
	}
	if c := resp.Header.Get(headerCredential); c != "" && t.onCredential != nil {
		t.onCredential(c)
	}
	t.metrics.streams.Inc()
	local := net.TCPAddrFromAddrPort(t.advertise)
	remote := parseAddr(a.Addr)
	c := newStreamConn(local, remote, resp.Body, pw.Write, func() {
		_ = pw.Close()
		_ = resp.Body.Close()
		cancel()
		t.metrics.streams.Dec()
	}, func() {
		_ = pr.CloseWithError(os.ErrDeadlineExceeded)
		cancel()
	})
	return c, nil
}

// Shutdown stops the senders and refuses new gossip requests.
func (t *transport) Shutdown() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	t.client.CloseIdleConnections()
	return nil
}

// ServeHTTP serves both gossip routes.
func (t *transport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "gossip routes accept POST only", http.StatusMethodNotAllowed)
		return
	}
	if r.ProtoMajor != 2 {
		http.Error(w, "gossip needs HTTP/2", http.StatusHTTPVersionNotSupported)
		return
	}
	if t.requireClientCert && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
		http.Error(w, "gossip needs a client certificate signed by the cluster CA", http.StatusForbidden)
		return
	}
	if t.ctx.Err() != nil {
		http.Error(w, "gossip transport is shut down", http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case messagePath:
		t.serveMessage(w, r)
	case streamPath:
		t.serveStream(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (t *transport) serveMessage(w http.ResponseWriter, r *http.Request) {
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxPacketSize+1))
	if err != nil {
		http.Error(w, "reading packet: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(buf) > maxPacketSize {
		http.Error(w, "packet too large", http.StatusRequestEntityTooLarge)
		return
	}
	now := time.Now()
	from := senderAddr(r)
	t.metrics.rxPackets.Inc()
	t.metrics.rxBytes.Add(float64(len(buf)))
	p := &memberlist.Packet{Buf: buf, From: from, Timestamp: now}
	for {
		select {
		case t.packetCh <- p:
			w.WriteHeader(http.StatusNoContent)
			return
		default:
		}
		// Full: drop the oldest packet, as a UDP socket buffer would
		// drop the newest, and count it.
		select {
		case <-t.packetCh:
			t.metrics.rxDropped.Inc()
		default:
		}
	}
}

func (t *transport) serveStream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if c := r.Header.Get(headerCredential); c != "" && t.onCredential != nil {
		t.onCredential(c)
	}
	w.Header().Set("Content-Type", contentType)
	if t.credential != "" {
		w.Header().Set(headerCredential, t.credential)
	}
	w.WriteHeader(http.StatusOK)
	// Flush the headers before reading: the client's Dial waits for them.
	if err := rc.Flush(); err != nil {
		return
	}
	t.metrics.streams.Inc()
	defer t.metrics.streams.Dec()

	done := make(chan struct{})
	var once sync.Once
	finish := func() { once.Do(func() { close(done) }) }
	var wmu sync.Mutex // serialises writes with the handler's return
	handlerGone := false
	write := func(p []byte) (int, error) {
		wmu.Lock()
		defer wmu.Unlock()
		if handlerGone {
			return 0, net.ErrClosed
		}
		n, err := w.Write(p)
		if err == nil {
			err = rc.Flush()
		}
		return n, err
	}
	local := net.TCPAddrFromAddrPort(t.advertise)
	// The deadline may fire after the handler returned; the response
	// writer must not be touched then.
	var rcMu sync.Mutex
	returned := false
	c := newStreamConn(local, senderAddr(r), r.Body, write, finish, func() {
		// Unblock a write stuck on flow control, then end the handler.
		rcMu.Lock()
		if !returned {
			_ = rc.SetWriteDeadline(time.Now())
		}
		rcMu.Unlock()
		finish()
	})
	defer func() {
		rcMu.Lock()
		returned = true
		rcMu.Unlock()
		wmu.Lock()
		handlerGone = true
		wmu.Unlock()
	}()
	select {
	case t.streamCh <- c:
	case <-r.Context().Done():
		return
	case <-t.ctx.Done():
		return
	case <-time.After(maxStreamsWaited):
		return
	}
	select {
	case <-done:
	case <-r.Context().Done():
		c.abort()
	case <-t.ctx.Done():
		c.abort()
	}
}

// senderAddr is the advertise address the peer sent, or the connection's
// address when the header is missing or malformed.
func senderAddr(r *http.Request) net.Addr {
	if ap, err := netip.ParseAddrPort(r.Header.Get(headerFrom)); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return parseAddr(r.RemoteAddr)
}

func parseAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return stringAddr(s)
}

// stringAddr is a net.Addr for a host:port that is not a literal IP.
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

// activeSenders is the number of peer sender goroutines, for tests.
func (t *transport) activeSenders() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.senders)
}
