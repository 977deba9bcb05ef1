package cluster

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// streamConn is one end of a gossip stream, an HTTP/2 request and its
// response, seen as the net.Conn memberlist expects of TCP. Deadlines are
// coarse: memberlist sets one per exchange and never reuses a connection
// after it expires, so an expired deadline aborts the stream for good.
type streamConn struct {
	local, remote net.Addr
	r             io.Reader
	write         func([]byte) (int, error)

	closeOnce sync.Once
	closeFn   func()
	abortFn   func()

	mu       sync.Mutex
	timer    *time.Timer
	timedOut bool
	closed   bool
}

func newStreamConn(local, remote net.Addr, r io.Reader, write func([]byte) (int, error), closeFn, abortFn func()) *streamConn {
	return &streamConn{local: local, remote: remote, r: r, write: write, closeFn: closeFn, abortFn: abortFn}
}

func (c *streamConn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = c.wrapErr(err)
	}
	return n, err
}

func (c *streamConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	closed, timedOut := c.closed, c.timedOut
	c.mu.Unlock()
	if timedOut {
		return 0, os.ErrDeadlineExceeded
	}
	if closed {
		return 0, net.ErrClosed
	}
	n, err := c.write(p)
	if err != nil {
		err = c.wrapErr(err)
	}
	return n, err
}

// wrapErr reports a failure caused by an expired deadline as a timeout,
// which memberlist logs differently from a broken peer.
func (c *streamConn) wrapErr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timedOut {
		return os.ErrDeadlineExceeded
	}
	return err
}

func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		c.closeFn()
	})
	return nil
}

// abort ends the stream at once, as an expired deadline does.
func (c *streamConn) abort() {
	c.mu.Lock()
	c.timedOut = true
	c.mu.Unlock()
	c.abortFn()
}

func (c *streamConn) LocalAddr() net.Addr  { return c.local }
func (c *streamConn) RemoteAddr() net.Addr { return c.remote }

func (c *streamConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if t.IsZero() || c.closed {
		return nil
	}
	c.timer = time.AfterFunc(time.Until(t), c.abort)
	return nil
}

func (c *streamConn) SetReadDeadline(t time.Time) error  { return c.SetDeadline(t) }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return c.SetDeadline(t) }
