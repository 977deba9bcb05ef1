package importsource

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery"
)

// moduleServer serves a module whose body and status the test sets, and
// counts the requests.
type moduleServer struct {
	mu       sync.Mutex
	body     string
	status   int
	requests int
	last     *http.Request
	lastBody string
}

func (m *moduleServer) set(status int, body string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status, m.body = status, body
}

func (m *moduleServer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

func (m *moduleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests++
	m.last, m.lastBody = r, string(b)
	if u, p, ok := r.BasicAuth(); !ok || u != "shoal" || p != "s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(m.status)
	io.WriteString(w, m.body)
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHTTPSource(t *testing.T) {
	m := &moduleServer{}
	m.set(http.StatusOK, "\n  declare \"a\" {}\n")
	srv := httptest.NewServer(m)
	defer srv.Close()

	url := srv.URL + "/modules/math.alloy"
	a := Arguments("import.http").(*HTTPArguments)
	a.URL = url
	a.PollFrequency = 20 * time.Millisecond
	a.Method = http.MethodPost
	a.Body = `{"module":"math"}`
	a.Headers = map[string]string{"X-Tenant": "t1", "User-Agent": "custom/1"}
	a.Client.BasicAuth = &discovery.BasicAuth{Username: "shoal", Password: "s3cret"}
	_, rec := start(t, "import.http", a, testOptions(t))

	// The body is trimmed, as Alloy's remote.http does.
	c := rec.waitFile(t, url, `declare "a" {}`)
	if c.ModulePath != srv.URL+"/modules/" {
		t.Fatalf("module_path %q, want %q", c.ModulePath, srv.URL+"/modules/")
	}
	m.mu.Lock()
	req, body := m.last, m.lastBody
	m.mu.Unlock()
	if req.Method != http.MethodPost || body != a.Body || req.Header.Get("X-Tenant") != "t1" || req.Header.Get("User-Agent") != "custom/1" {
		t.Fatalf("request %s %q with headers %v, want POST %q with X-Tenant and the User-Agent set", req.Method, body, req.Header, a.Body)
	}

	// Unchanged content is not delivered again, however often it is polled.
	n, polled := rec.contents(), m.count()
	waitUntil(t, func() bool { return m.count() >= polled+5 }, "five more polls")
	if got := rec.contents(); got != n {
		t.Fatalf("%d deliveries of unchanged content over five polls", got-n)
	}

	m.set(http.StatusOK, `declare "b" {}`)
	rec.waitFile(t, url, `declare "b" {}`)

	m.set(http.StatusInternalServerError, "boom")
	if err := rec.waitErr(t); !strings.Contains(err.Error(), "500") {
		t.Fatalf("error %v, want one naming the status 500", err)
	}
	// Recovery with the content of before the failure is delivered, so that
	// the caller clears the error.
	m.set(http.StatusOK, `declare "b" {}`)
	rec.waitFile(t, url, `declare "b" {}`)
}

// TestHTTPSourceRedactsPassword writes the password in the URL: the module
// is named, and errors cite it, without it.
func TestHTTPSourceRedactsPassword(t *testing.T) {
	m := &moduleServer{}
	m.set(http.StatusOK, "m")
	srv := httptest.NewServer(m)
	defer srv.Close()
	a := Arguments("import.http").(*HTTPArguments)
	a.URL = strings.Replace(srv.URL, "http://", "http://shoal:s3cret@", 1) + "/m.alloy"
	a.PollFrequency = 20 * time.Millisecond
	_, rec := start(t, "import.http", a, testOptions(t))
	c := rec.waitFile(t, strings.Replace(srv.URL, "http://", "http://shoal:xxxxx@", 1)+"/m.alloy", "m")
	if len(c.Files) != 1 {
		t.Fatalf("delivered %s", describe(result{c: c}))
	}
	m.set(http.StatusNotFound, "")
	if err := rec.waitErr(t); strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("error %q, want a 404 without the password", err)
	}
}

func TestHTTPSourceUpdateAndTimeout(t *testing.T) {
	slow := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/one.alloy", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "one") })
	mux.HandleFunc("/two.alloy", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "two") })
	mux.HandleFunc("/slow.alloy", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-slow:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(slow)

	a := Arguments("import.http").(*HTTPArguments)
	a.URL = srv.URL + "/one.alloy"
	a.PollFrequency = time.Hour // only Update can make it fetch again
	src, rec := start(t, "import.http", a, testOptions(t))
	rec.waitFile(t, a.URL, "one")

	b := *a
	b.URL = srv.URL + "/two.alloy"
	if err := src.Update(&b); err != nil {
		t.Fatal(err)
	}
	rec.waitFile(t, b.URL, "two")

	c := b
	c.URL = srv.URL + "/slow.alloy"
	c.PollTimeout = 50 * time.Millisecond
	if err := src.Update(c); err != nil {
		t.Fatal(err)
	}
	if err := rec.waitErr(t); !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("error %v, want the poll timeout", err)
	}

	bad := c
	bad.URL = "ftp://x"
	if err := src.Update(bad); err == nil {
		t.Fatal("Update accepted an ftp URL")
	}
}
