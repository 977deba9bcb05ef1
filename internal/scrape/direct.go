package scrape

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
)

// directConn scrapes a plain-HTTP target over one kept-alive connection
// from the target's own goroutine. net/http's transport runs two goroutines
// per connection and hands every request and response between three
// goroutines; with hundreds of targets on a short interval those wake-ups,
// and the goroutines' stacks and buffers, cost more than the scrapes'
// parsing. It is used only where it behaves like the configured client:
// http (not https), no proxy, no authentication and no extra headers
// (see directEligible); everything else goes through net/http.
//
// The request is written whole in one write, and the response read with
// http.ReadResponse into a reader borrowed from the engine's pool. A
// connection is kept only when its response was read to the end and
// nothing else arrived; a kept connection the target closed meanwhile is
// redialed once, as net/http does for an idempotent request.
type directConn struct {
	url      string
	addr     string // host:port to dial
	request  []byte // the whole request, written as is
	redirect bool   // follow_redirects: a 3xx goes through net/http
	conn     net.Conn
}

// directEligible reports whether a target with this URL can be scraped by
// a directConn under cfg: the client config adds nothing to a plain GET
// but TLS settings (unused by http) and the redirect and HTTP/2 switches.
func directEligible(u string, cfg *commoncfg.HTTPClientConfig) bool {
	if !strings.HasPrefix(u, "http://") {
		return false
	}
	c := *cfg
	c.TLSConfig = commoncfg.TLSConfig{}
	c.FollowRedirects = commoncfg.DefaultHTTPClientConfig.FollowRedirects
	c.EnableHTTP2 = commoncfg.DefaultHTTPClientConfig.EnableHTTP2
	return reflect.DeepEqual(c, commoncfg.DefaultHTTPClientConfig)
}

// newDirectConn prepares the request of req (a GET without body whose
// headers are final).
func newDirectConn(req *http.Request, followRedirects bool) *directConn {
	host := req.URL.Host
	addr := host
	if req.URL.Port() == "" {
		addr = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	var b strings.Builder
	b.WriteString("GET ")
	b.WriteString(req.URL.RequestURI())
	b.WriteString(" HTTP/1.1\r\nHost: ")
	b.WriteString(host)
	b.WriteString("\r\n")
	_ = req.Header.Write(&b)
	b.WriteString("\r\n")
	return &directConn{url: req.URL.String(), addr: addr, request: []byte(b.String()), redirect: followRedirects}
}

// errRedirect asks the caller to scrape through net/http, which follows
// redirects.
var errRedirect = errors.New("redirected")

// aLongTimeAgo is a deadline in the past, which interrupts a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// do sends the request and returns the response, whose body must be read
// with the returned reader's connection still open; done must be called
// once the body has been read (complete tells whether to the end).
func (d *directConn) do(ctx context.Context, timeout time.Duration, br *bufio.Reader) (resp *http.Response, done func(complete bool), err error) {
	deadline := time.Now().Add(timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	for attempt := 0; ; attempt++ {
		reused := d.conn != nil
		if !reused {
			dctx, cancel := context.WithDeadline(ctx, deadline)
			var dialer net.Dialer
			d.conn, err = dialer.DialContext(dctx, "tcp", d.addr)
			cancel()
			if err != nil {
				d.conn = nil
				return nil, nil, d.wrap(ctx, err)
			}
		}
		conn := d.conn
		_ = conn.SetDeadline(deadline)
		stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
		br.Reset(conn)
		_, err = conn.Write(d.request)
		if err == nil {
			resp, err = http.ReadResponse(br, nil)
			// Informational answers (103 Early Hints) precede the real
			// one; net/http skips them too.
			for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
				resp, err = http.ReadResponse(br, nil)
			}
		}
		if err != nil {
			stop()
			d.close()
			if reused && attempt == 0 && ctx.Err() == nil && time.Now().Before(deadline) && !isTimeout(err) {
				// The target closed the idle connection; try a new one.
				continue
			}
			return nil, nil, d.wrap(ctx, err)
		}
		done = func(complete bool) {
			stop()
			if !complete || resp.Close || br.Buffered() > 0 {
				d.close()
			}
		}
		if d.redirect && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			done(false)
			return nil, nil, errRedirect
		}
		return resp, done, nil
	}
}

// wrap words a failure as net/http would for the same request.
func (d *directConn) wrap(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case isTimeout(err):
		err = context.DeadlineExceeded
	}
	return &url.Error{Op: "Get", URL: d.url, Err: err}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// close closes the connection, if any.
func (d *directConn) close() {
	if d.conn != nil {
		_ = d.conn.Close()
		d.conn = nil
	}
}
