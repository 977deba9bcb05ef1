package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sendResult classifies a receiver's answer.
type sendResult int

const (
	sendOK     sendResult = iota
	sendRetry             // 5xx, 429 when allowed, or a network error: send again later
	sendBisect            // 400 or 413: some samples are bad; split the request
	sendDrop              // any other 4xx: sending again cannot help
	// sendFallback: the receiver does not speak remote write 2.0 (415,
	// or a 2xx without the ...-Written headers): send again with 1.0.
	sendFallback
)

// postResult is how a receiver answered, and for a 2.0 request what it
// says it wrote (the X-Prometheus-Remote-Write-*-Written headers).
type postResult struct {
	result  sendResult
	written written
}

// written are the counts of the X-Prometheus-Remote-Write-*-Written
// response headers; known is false when the receiver sent none.
type written struct {
	samples, histograms, exemplars int
	known                          bool
}

// Response headers of remote write 2.0.
const (
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
	contentTypeV2           = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
)

// readWritten parses the ...-Written headers. A header that is missing
// or does not parse counts as 0 when another one is present.
func readWritten(h http.Header) written {
	var w written
	for _, f := range []struct {
		name string
		n    *int
	}{{headerSamplesWritten, &w.samples}, {headerHistogramsWritten, &w.histograms}, {headerExemplarsWritten, &w.exemplars}} {
		v := h.Get(f.name)
		if v == "" {
			continue
		}
		w.known = true
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
			*f.n = n
		}
	}
	return w
}

// RedactURL returns s with the password of its user information replaced
// by "xxxxx", as net/url's URL.Redacted does, for everything that shows an
// endpoint's URL: metric labels, logs, errors, the queue's positions
// files. A string that does not parse as a URL has everything between its
// scheme and the last '@' of its authority replaced. A URL without a
// password comes back unchanged, byte for byte.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		if u.User == nil {
			return s
		}
		if _, has := u.User.Password(); !has {
			return s
		}
		return u.Redacted()
	}
	rest := s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	auth := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		auth = rest[:i]
	}
	at := strings.LastIndex(auth, "@")
	if at < 0 {
		return s
	}
	return prefix + "xxxxx" + rest[at:]
}

// client posts encoded requests to one endpoint.
type client struct {
	url        string
	shownURL   string // url, redacted, for errors
	hc         *http.Client
	timeout    time.Duration
	headers    map[string]string
	userAgent  string
	retryOn429 bool
}

// post sends one snappy-compressed WriteRequest (a 2.0 Request when v2).
// It returns how to go on, the receiver's Retry-After if any, and an error
// describing a failure (with the receiver's message, which names the
// reason for a rejection).
func (c *client) post(ctx context.Context, body []byte, v2 bool) (postResult, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return postResult{result: sendDrop}, 0, fmt.Errorf("building request to %s: %v", c.shownURL, redactErr(err, c.url, c.shownURL))
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	if v2 {
		req.Header.Set("Content-Type", contentTypeV2)
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return postResult{result: sendRetry}, 0, fmt.Errorf("sending to %s: %w", c.shownURL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	var wr written
	if v2 {
		wr = readWritten(resp.Header)
	}
	if code/100 == 2 {
		if v2 && !wr.known {
			// A 1.x receiver (Prometheus before 2.54 answers 204 and
			// stores nothing): it did not read the request as 2.0.
			return postResult{result: sendFallback}, 0, fmt.Errorf("%s answered %s to a remote write 2.0 request without the %s header", c.shownURL, resp.Status, headerSamplesWritten)
		}
		return postResult{result: sendOK, written: wr}, 0, nil
	}
	err = fmt.Errorf("%s answered %s: %s", c.shownURL, resp.Status, strings.TrimSpace(string(msg)))
	switch {
	case v2 && code == http.StatusUnsupportedMediaType:
		return postResult{result: sendFallback}, 0, err
	case code/100 == 5 || code == http.StatusTooManyRequests && c.retryOn429:
		return postResult{result: sendRetry, written: wr}, retryAfter(resp.Header.Get("Retry-After")), err
	case code == http.StatusBadRequest || code == http.StatusRequestEntityTooLarge:
		return postResult{result: sendBisect, written: wr}, 0, err
	default:
		return postResult{result: sendDrop, written: wr}, 0, err
	}
}

// redactErr is err's text with the raw URL replaced by the redacted one.
func redactErr(err error, raw, shown string) string {
	if raw == shown {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), raw, shown)
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// rejectReason names why a receiver rejected a single sample, from the
// message of Prometheus, Mimir, Cortex, Thanos or VictoriaMetrics.
func rejectReason(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "out of order"), strings.Contains(m, "out-of-order"):
		return "out_of_order"
	case strings.Contains(m, "duplicate sample for timestamp"), strings.Contains(m, "duplicate"), strings.Contains(m, "conflict"):
		return "duplicate"
	case strings.Contains(m, "too old"), strings.Contains(m, "out of bounds"), strings.Contains(m, "too far in the past"):
		return "too_old"
	default:
		return "other"
	}
}
