package importsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/config"

	"github.com/shoal-dev/shoal/internal/component/discovery"
)

// HTTPArguments are import.http's arguments, those of Alloy's remote.http
// but is_secret.
type HTTPArguments struct {
	URL           string        `alloy:"url,attr"`
	PollFrequency time.Duration `alloy:"poll_frequency,attr,optional"`
	PollTimeout   time.Duration `alloy:"poll_timeout,attr,optional"`

	Method  string            `alloy:"method,attr,optional"`
	Headers map[string]string `alloy:"headers,attr,optional"`
	Body    string            `alloy:"body,attr,optional"`

	Client discovery.HTTPClientConfig `alloy:"client,block,optional"`
}

// DefaultHTTPArguments poll with GET every minute, with a 10s timeout, as
// Alloy does.
var DefaultHTTPArguments = HTTPArguments{
	PollFrequency: time.Minute,
	PollTimeout:   10 * time.Second,
	Method:        http.MethodGet,
	Client:        discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *HTTPArguments) SetToDefault() { *a = DefaultHTTPArguments }

// Validate checks the URL, the method, the durations and the client block.
func (a *HTTPArguments) Validate() error {
	if a.PollFrequency <= 0 {
		return fmt.Errorf("poll_frequency must be positive, got %s", a.PollFrequency)
	}
	if a.PollTimeout <= 0 {
		return fmt.Errorf("poll_timeout must be positive, got %s", a.PollTimeout)
	}
	u, err := url.Parse(a.URL)
	if err != nil {
		return fmt.Errorf("invalid url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid url %q: the scheme must be http or https", a.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("invalid url %q: no host", a.URL)
	}
	if _, err := http.NewRequest(a.Method, a.URL, nil); err != nil {
		return fmt.Errorf("invalid method %q: %w", a.Method, err)
	}
	if err := a.Client.Validate(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// modulePath is the URL without its last element, as in Alloy.
func (a *HTTPArguments) modulePath() string {
	dir, _ := path.Split(a.URL)
	return dir
}

// maxModuleSize bounds a response: a module is a config file, not a
// download.
const maxModuleSize = 16 << 20

type httpSource struct {
	opts    Options
	mu      sync.Mutex
	args    HTTPArguments
	client  *http.Client
	changed chan struct{}
}

func newHTTP(args any, opts Options) (Source, error) {
	s := &httpSource{opts: opts, changed: make(chan struct{}, 1)}
	if err := s.set(args); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *httpSource) set(args any) error {
	a, err := checked[HTTPArguments]("import.http", args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := s.client != nil && reflect.DeepEqual(a, s.args)
	s.mu.Unlock()
	if same {
		return nil
	}
	pc, err := a.Client.Prometheus()
	if err != nil {
		return fmt.Errorf("import.http: client: %w", err)
	}
	ua := "shoal"
	for k, v := range a.Headers {
		if http.CanonicalHeaderKey(k) == "User-Agent" {
			ua = v
		}
	}
	client, err := config.NewClientFromConfig(pc, "import.http", config.WithUserAgent(ua))
	if err != nil {
		return fmt.Errorf("import.http: client: %w", err)
	}
	s.mu.Lock()
	old := s.client
	s.args, s.client = a, client
	s.mu.Unlock()
	if old != nil {
		old.CloseIdleConnections()
		signal(s.changed)
	}
	return nil
}

func (s *httpSource) Update(args any) error { return s.set(args) }

// Run polls now, then every poll_frequency, and at once after an Update.
func (s *httpSource) Run(ctx context.Context, update func(Content, error)) error {
	out := sink{update: update}
	for {
		s.mu.Lock()
		a, client := s.args, s.client
		s.mu.Unlock()
		c, err := fetchHTTP(ctx, client, a)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.opts.Logger.Warn("cannot fetch module", "url", redactURL(a.URL), "err", err)
			out.fail(err)
		} else {
			out.content(c)
		}
		t := time.NewTimer(a.PollFrequency)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// fetchHTTP makes one request. The body, trimmed of surrounding white
// space as Alloy's remote.http does, is the module, named by its URL
// without any password in it.
func fetchHTTP(ctx context.Context, client *http.Client, a HTTPArguments) (Content, error) {
	ctx, cancel := context.WithTimeout(ctx, a.PollTimeout)
	defer cancel()
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, a.URL, body)
	if err != nil {
		return Content{}, fmt.Errorf("building request: %w", err)
	}
	for k, v := range a.Headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Content{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxModuleSize+1))
	if err != nil {
		return Content{}, fmt.Errorf("reading the response from %s: %w", redactURL(a.URL), err)
	}
	if resp.StatusCode != http.StatusOK {
		return Content{}, fmt.Errorf("unexpected status %s from %s", resp.Status, redactURL(a.URL))
	}
	if len(b) > maxModuleSize {
		return Content{}, errors.New("the response is larger than 16MiB")
	}
	return Content{
		Files:      map[string][]byte{redactURL(a.URL): []byte(strings.TrimSpace(string(b)))},
		ModulePath: a.modulePath(),
	}, nil
}
