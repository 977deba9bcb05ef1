package http

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/remote/remotetest"
)

const wait = 15 * time.Second

// server answers with body and status, and records the last request.
type server struct {
	mu      sync.Mutex
	status  int
	body    string
	method  string
	reqBody string
	header  http.Header
	n       int
}

func (s *server) set(status int, body string) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.method, s.reqBody, s.header = r.Method, string(b), r.Header.Clone()
	s.n++
	w.WriteHeader(s.status)
	io.WriteString(w, s.body)
}

func (s *server) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func newServer(t *testing.T, body string) (*server, string) {
	s := &server{status: http.StatusOK, body: body}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func args(url string) Arguments {
	a := DefaultArguments
	a.URL = url
	return a
}

func content(rec *discoverytest.Recorder) string {
	e, _ := rec.Last().(Exports)
	return e.Content.Value
}

func TestContentIsExportedAtOnceWithMethodHeadersAndBody(t *testing.T) {
	s, url := newServer(t, "  token-value\n")
	a := args(url)
	a.Method = http.MethodPost
	a.Headers = map[string]string{"X-Tenant": "team-a", "User-Agent": "custom/1"}
	a.Body = `{"q":1}`
	opts, rec, _ := discoverytest.Options(t, "remote.http.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	if got := content(rec); got != "token-value" {
		t.Fatalf("content = %q, want the trimmed body", got)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.method != http.MethodPost || s.reqBody != `{"q":1}` || s.header.Get("X-Tenant") != "team-a" || s.header.Get("User-Agent") != "custom/1" {
		t.Fatalf("request: method %s body %q headers %v", s.method, s.reqBody, s.header)
	}
}

func TestFailedPollKeepsTheContentAndIsUnhealthyUntilItRecovers(t *testing.T) {
	s, url := newServer(t, "one")
	a := args(url)
	a.PollFrequency = 20 * time.Millisecond
	a.PollTimeout = 10 * time.Millisecond
	opts, rec, _ := discoverytest.Options(t, "remote.http.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)

	s.set(http.StatusOK, "two")
	discoverytest.Eventually(t, wait, func() bool { return content(rec) == "two" }, "polling missed a change: %q", content(rec))

	s.set(http.StatusServiceUnavailable, "down")
	discoverytest.Eventually(t, wait, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "503")
	}, "a 503 did not turn unhealthy: %+v", c.CurrentHealth())
	if got := content(rec); got != "two" {
		t.Fatalf("content = %q after a failed poll, want the last content kept", got)
	}

	s.set(http.StatusOK, "three")
	discoverytest.Eventually(t, wait, func() bool {
		return content(rec) == "three" && c.CurrentHealth().State == component.HealthHealthy
	}, "no recovery: %q %+v", content(rec), c.CurrentHealth())
}

func TestUnchangedContentIsNotRepublished(t *testing.T) {
	s, url := newServer(t, "same")
	a := args(url)
	a.PollFrequency = 10 * time.Millisecond
	a.PollTimeout = 5 * time.Millisecond
	opts, rec, _ := discoverytest.Options(t, "remote.http.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, wait, func() bool { return s.requests() >= 5 }, "no polling: %d requests", s.requests())
	if n := rec.Count(); n != 1 {
		t.Fatalf("published %d times for unchanged content, want 1", n)
	}
}

func TestFirstPollFailingFailsNewAndUpdateKeepsTheOldURL(t *testing.T) {
	s, url := newServer(t, "x")
	s.set(http.StatusNotFound, "")
	opts, rec, _ := discoverytest.Options(t, "remote.http.test")
	if _, err := New(opts, args(url)); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("New = %v, want the 404", err)
	}

	s.set(http.StatusOK, "good")
	c, err := New(opts, args(url))
	if err != nil {
		t.Fatal(err)
	}
	_, empty := newServer(t, "")
	if err := c.Update(args(empty)); err != nil {
		t.Fatalf("a 200 with an empty body is a success: %v", err)
	}
	if got := content(rec); got != "" {
		t.Fatalf("content = %q, want the empty body", got)
	}
	s2, other := newServer(t, "")
	s2.set(http.StatusInternalServerError, "")
	if err := c.Update(args(other)); err == nil {
		t.Fatal("Update to a failing URL succeeded")
	}
	if h := c.CurrentHealth(); h.State != component.HealthUnhealthy {
		t.Fatalf("health after a failed Update = %+v", h)
	}
}

func TestSecretContentNeverShowsInTheAPIOrLogs(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	_, url := newServer(t, secret)
	var logs remotetest.LogBuffer
	opts, rec, _ := discoverytest.Options(t, "remote.http.token")
	opts.Logger = logs.Logger()
	a := args(url)
	a.IsSecret = true
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.Last().(Exports)
	if !e.Content.IsSecret || e.Content.Value != secret {
		t.Fatalf("exports = %+v, want the body as a secret", e.Content)
	}
	served := remotetest.Served(t, "remote.http.token", "remote.http", a, e, c.CurrentHealth())
	if strings.Contains(served, secret) {
		t.Fatalf("the API or the UI shows the secret:\n%s", served)
	}
	if !strings.Contains(served, "(secret)") {
		t.Fatalf("the API does not show the export as a secret:\n%s", served)
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatalf("the secret was logged:\n%s", logs.String())
	}

	// Without is_secret the same content is plain text, in the API too.
	a.IsSecret = false
	if err := c.Update(a); err != nil {
		t.Fatal(err)
	}
	e = rec.Last().(Exports)
	if served := remotetest.Served(t, "remote.http.token", "remote.http", a, e, c.CurrentHealth()); !strings.Contains(served, secret) {
		t.Fatalf("a plain content is not shown:\n%s", served)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"zero poll frequency", func(a *Arguments) { a.PollFrequency = 0 }, "poll_frequency must be greater than 0"},
		{"zero poll timeout", func(a *Arguments) { a.PollTimeout = 0 }, "poll_timeout must be greater than 0"},
		{"timeout not below frequency", func(a *Arguments) { a.PollTimeout = a.PollFrequency }, "poll_timeout must be less than poll_frequency"},
		{"bad method", func(a *Arguments) { a.Method = "GE T" }, "invalid method"},
		{"bad url", func(a *Arguments) { a.URL = "http://[::1" }, "missing ']'"},
		{"two auths", func(a *Arguments) { a.Client.BearerToken = "x"; a.Client.BearerTokenFile = "/f" }, "client:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args("http://127.0.0.1/x")
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBlockDecodes(t *testing.T) {
	var a Arguments
	src := `remote.http "token" {
  url       = "http://127.0.0.1:1/token"
  is_secret = true
  headers   = { "X-A" = "b" }
  client {
    bearer_token = "t"
  }
}`
	if err := discoverytest.Decode(t, src, "remote.http", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.URL != "http://127.0.0.1:1/token" || !a.IsSecret || a.Method != "GET" || a.PollFrequency != time.Minute ||
		a.PollTimeout != 10*time.Second || a.Headers["X-A"] != "b" || a.Client.BearerToken != "t" || !a.Client.FollowRedirects || !a.Client.EnableHTTP2 {
		t.Fatalf("decoded %+v", a)
	}
	if err := discoverytest.Decode(t, `remote.http "x" {
  url          = "http://127.0.0.1:1/"
  poll_timeout = "2m"
}`, "remote.http", nil, &a); err == nil {
		t.Fatal("a poll_timeout above poll_frequency was accepted")
	}
}
