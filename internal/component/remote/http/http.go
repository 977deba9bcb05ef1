// Package http is the remote.http component: it polls a URL and exports
// the body of its answer, as a secret when is_secret is set, so that it
// never shows in the UI, the API or logs.
//
// It owns the request and the arguments; the polling loop and the health
// are the parent remote package's.
package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/config"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/remote"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Arguments are remote.http's arguments.
type Arguments struct {
	URL           string        `alloy:"url,attr"`
	PollFrequency time.Duration `alloy:"poll_frequency,attr,optional"`
	PollTimeout   time.Duration `alloy:"poll_timeout,attr,optional"`
	IsSecret      bool          `alloy:"is_secret,attr,optional"`

	Method  string            `alloy:"method,attr,optional"`
	Headers map[string]string `alloy:"headers,attr,optional"`
	Body    string            `alloy:"body,attr,optional"`

	Client discovery.HTTPClientConfig `alloy:"client,block,optional"`
}

// DefaultArguments are Alloy's: GET every minute with a 10s timeout.
var DefaultArguments = Arguments{
	PollFrequency: time.Minute,
	PollTimeout:   10 * time.Second,
	Method:        http.MethodGet,
	Client:        discovery.DefaultHTTPClientConfig,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the arguments as Alloy does: positive durations, a
// timeout shorter than the period, a valid method and URL, and a valid
// client block.
func (a *Arguments) Validate() error {
	if a.PollFrequency <= 0 {
		return errors.New("poll_frequency must be greater than 0")
	}
	if a.PollTimeout <= 0 {
		return errors.New("poll_timeout must be greater than 0")
	}
	if a.PollTimeout >= a.PollFrequency {
		return errors.New("poll_timeout must be less than poll_frequency")
	}
	if _, err := http.NewRequest(a.Method, a.URL, nil); err != nil {
		return err
	}
	if _, err := a.Client.Prometheus(); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// Exports are remote.http's exports.
type Exports struct {
	Content types.OptionalSecret `alloy:"content,attr"`
}

// Component is a running remote.http.
type Component struct {
	*remote.Poller
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// New polls the URL once and fails if that poll fails, so that dependants
// never start with empty content.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{Poller: remote.NewPoller(opts)}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	return c, nil
}

// Update applies new arguments and polls with them at once; a failed poll
// is an error and the previous arguments stay in force.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	pc, err := a.Client.Prometheus()
	if err != nil {
		return err
	}
	ua := "shoal"
	if v, ok := a.Headers["User-Agent"]; ok {
		ua = v
	}
	cli, err := config.NewClientFromConfig(pc, "remote.http", config.WithUserAgent(ua))
	if err != nil {
		return err
	}
	return c.Poller.Update(remote.Settings{
		Frequency: a.PollFrequency,
		Timeout:   a.PollTimeout,
		Fetch: func(ctx context.Context) (component.Exports, error) {
			return fetch(ctx, cli, a)
		},
	})
}

// fetch makes one request. Only a 200 answer counts; its body, trimmed of
// surrounding white space as Alloy does, is the content.
func fetch(ctx context.Context, cli *http.Client, a Arguments) (component.Exports, error) {
	var body io.Reader
	if a.Body != "" {
		body = strings.NewReader(a.Body)
	}
	req, err := http.NewRequestWithContext(ctx, a.Method, a.URL, body)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	for name, value := range a.Headers {
		req.Header.Set(name, value)
	}
	resp, err := cli.Do(req)
	if err != nil {
		return nil, fmt.Errorf("performing request: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("unexpected status code %s", resp.Status)
	}
	return Exports{Content: types.OptionalSecret{IsSecret: a.IsSecret, Value: strings.TrimSpace(string(b))}}, nil
}

// Registration registers remote.http.
var Registration = component.Registration{
	Name:      "remote.http",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
