package scrape

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/sample"
)

// errBodySizeLimit fails a scrape whose uncompressed body is larger than
// body_size_limit; the text is Prometheus'.
var errBodySizeLimit = errors.New("body size limit exceeded")

// pools are the body buffers, gzip readers and sample batches shared by
// all targets of an engine, so that an idle target holds none of them:
// scrapes are spread over the tick grid, so few are in flight at once.
type pools struct {
	// buffers are size classes of powers of two from 4 KiB.
	buffers [minBufferShift + 32]sync.Pool
	gzip    sync.Pool
	batches sync.Pool
	readers sync.Pool // *bufio.Reader for directConn
}

func (p *pools) getReader() *bufio.Reader {
	if br, ok := p.readers.Get().(*bufio.Reader); ok {
		return br
	}
	return bufio.NewReaderSize(nil, 4096)
}

func (p *pools) putReader(br *bufio.Reader) {
	br.Reset(nil)
	p.readers.Put(br)
}

// getBatch returns an empty batch.
func (p *pools) getBatch() *sample.Batch {
	if b, ok := p.batches.Get().(*sample.Batch); ok {
		return b
	}
	return &sample.Batch{}
}

// putBatch empties b and keeps it for another scrape. The receiver has
// returned, and receivers keep no slice of a batch (sample.Batch), so no
// sample of this scrape can show in another target's batch.
func (p *pools) putBatch(b *sample.Batch) {
	b.Reset()
	p.batches.Put(b)
}

const minBufferShift = 12

type gzipReader struct {
	br *bufio.Reader
	gz *gzip.Reader
}

// getBuffer returns a buffer with capacity for at least n bytes.
func (p *pools) getBuffer(n int) []byte {
	c := sizeClass(n)
	if v := p.buffers[c].Get(); v != nil {
		return (*v.(*[]byte))[:0]
	}
	return make([]byte, 0, 1<<(c+minBufferShift))
}

// putBuffer returns b to the class it fully covers.
func (p *pools) putBuffer(b []byte) {
	if cap(b) < 1<<minBufferShift {
		return
	}
	c := bits.Len(uint(cap(b))) - 1 - minBufferShift
	if c >= len(p.buffers) {
		return
	}
	b = b[:0]
	p.buffers[c].Put(&b)
}

func sizeClass(n int) int {
	if n <= 1<<minBufferShift {
		return 0
	}
	c := bits.Len(uint(n-1)) - minBufferShift
	if c >= len(pools{}.buffers) {
		c = len(pools{}.buffers) - 1
	}
	return c
}

// fetcher fetches one target's body. It is used by one goroutine at a time.
type fetcher struct {
	client    *http.Client
	req       *http.Request
	timeout   time.Duration
	bodyLimit int64
	pools     *pools
	// lastSize sizes the next buffer, so a steady target reads its body
	// without growing it.
	lastSize int
	// direct, when set, scrapes without net/http (see direct.go).
	direct *directConn
}

func newFetcher(client *http.Client, t *target, cfg *Config, accept string, p *pools) (*fetcher, error) {
	req, err := http.NewRequest(http.MethodGet, t.url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.url, err)
	}
	req.Header.Set("Accept", accept)
	if cfg.EnableCompression {
		req.Header.Set("Accept-Encoding", "gzip")
	} else {
		req.Header.Set("Accept-Encoding", "identity")
	}
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(t.timeout.Seconds(), 'f', -1, 64))
	f := &fetcher{client: client, req: req, timeout: t.timeout, bodyLimit: cfg.BodySizeLimit, pools: p}
	if directEligible(t.url, &cfg.HTTPClient) {
		f.direct = newDirectConn(req, cfg.HTTPClient.FollowRedirects)
	}
	return f, nil
}

// close drops the fetcher's kept connection, if it has its own.
func (f *fetcher) close() {
	if f.direct != nil {
		f.direct.close()
	}
}

// fetch scrapes the target once within its timeout. On success the caller
// owns body and gives it back with release once parsed.
func (f *fetcher) fetch(ctx context.Context) (body []byte, contentType string, err error) {
	if f.direct != nil {
		body, contentType, err = f.fetchDirect(ctx)
		if !errors.Is(err, errRedirect) {
			return body, contentType, err
		}
	}
	return f.fetchHTTP(ctx)
}

func (f *fetcher) fetchDirect(ctx context.Context) (body []byte, contentType string, err error) {
	br := f.pools.getReader()
	defer f.pools.putReader(br)
	resp, done, err := f.direct.do(ctx, f.timeout, br)
	if err != nil {
		return nil, "", err
	}
	complete := false
	defer func() { done(complete) }()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	body, contentType, err = f.readBody(resp)
	complete = err == nil
	return body, contentType, err
}

func (f *fetcher) fetchHTTP(ctx context.Context) (body []byte, contentType string, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, err := f.client.Do(f.req.WithContext(ctx))
	if err != nil {
		return nil, "", err
	}
	defer func() {
		// Drain a little so the connection can be reused, but never an
		// endless body.
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	return f.readBody(resp)
}

// readBody reads a response's body, gunzipped if need be, into a pooled
// buffer.
func (f *fetcher) readBody(resp *http.Response) (body []byte, contentType string, err error) {
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gr, _ := f.pools.gzip.Get().(*gzipReader)
		if gr == nil {
			gr = &gzipReader{br: bufio.NewReader(resp.Body)}
		} else {
			gr.br.Reset(resp.Body)
		}
		if gr.gz == nil {
			gr.gz, err = gzip.NewReader(gr.br)
		} else {
			err = gr.gz.Reset(gr.br)
		}
		if err != nil {
			return nil, "", fmt.Errorf("reading gzip body: %w", err)
		}
		defer func() {
			gr.br.Reset(nil)
			f.pools.gzip.Put(gr)
		}()
		r = gr.gz
	}

	buf := f.pools.getBuffer(f.lastSize + 512)
	buf, err = readLimited(r, buf, f.bodyLimit)
	if err != nil {
		f.pools.putBuffer(buf)
		return nil, "", err
	}
	if len(buf) > 0 {
		f.lastSize = len(buf)
	}
	return buf, resp.Header.Get("Content-Type"), nil
}

// release gives a body back to the pool.
func (f *fetcher) release(body []byte) { f.pools.putBuffer(body) }

// readLimited appends all of r to buf. With limit > 0, a body of more than
// limit bytes fails with errBodySizeLimit as soon as the excess is read, so
// neither a gzip bomb nor an endless stream is read further.
func readLimited(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			grow := max(cap(buf), 4096)
			buf = append(buf, make([]byte, grow)...)[:len(buf)]
		}
		end := cap(buf)
		if limit > 0 && int64(end) > limit+1 {
			// Never read more than one byte past the limit.
			end = int(limit + 1)
		}
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if limit > 0 && int64(len(buf)) > limit {
			return buf, errBodySizeLimit
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
