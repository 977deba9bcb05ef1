package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// The fakes mirror the shapes of the real components' arguments, exports
// and debug info, with secrets in several places.

const fakeSecret = "hunter2-s3cr3t-p4ss"

type fakeBasicAuth struct {
	Username string       `alloy:"username,attr"`
	Password types.Secret `alloy:"password,attr"`
}

type fakeEndpoint struct {
	URL       string            `alloy:"url,attr"`
	Name      string            `alloy:"name,attr,optional"`
	Timeout   time.Duration     `alloy:"remote_timeout,attr,optional"`
	Headers   map[string]string `alloy:"headers,attr,optional"`
	BasicAuth *fakeBasicAuth    `alloy:"basic_auth,block,optional"`
}

type fakeRemoteWriteArgs struct {
	ExternalLabels map[string]string `alloy:"external_labels,attr,optional"`
	Endpoints      []fakeEndpoint    `alloy:"endpoint,block"`
}

type fakeRemoteWriteExports struct {
	Receiver sample.Receiver `alloy:"receiver,attr"`
}

type fakeScrapeArgs struct {
	Targets        []map[string]string  `alloy:"targets,attr"`
	ForwardTo      []sample.Receiver    `alloy:"forward_to,attr"`
	JobName        string               `alloy:"job_name,attr,optional"`
	ScrapeInterval time.Duration        `alloy:"scrape_interval,attr,optional"`
	BearerToken    types.Secret         `alloy:"bearer_token,attr,optional"`
	Authorization  types.OptionalSecret `alloy:"credentials,attr,optional"`
}

type fakeTarget struct {
	Job                string            `alloy:"job,attr"`
	URL                string            `alloy:"url,attr"`
	Health             string            `alloy:"health,attr"`
	Labels             map[string]string `alloy:"labels,attr"`
	LastError          string            `alloy:"last_error,attr,optional"`
	LastScrape         time.Time         `alloy:"last_scrape,attr"`
	LastScrapeDuration time.Duration     `alloy:"last_scrape_duration,attr,optional"`
	Key                string            `alloy:"key,attr"`
}

type fakeScrapeDebug struct {
	Targets []fakeTarget `alloy:"target,block"`
}

type fakeFileArgs struct {
	Files           []string      `alloy:"files,attr"`
	RefreshInterval time.Duration `alloy:"refresh_interval,attr,optional"`
}

type fakeFileExports struct {
	Targets []map[string]string `alloy:"targets,attr"`
}

func fakeTargets(n int, now time.Time) []fakeTarget {
	out := make([]fakeTarget, n)
	for i := range out {
		health, lastErr := "up", ""
		if i%7 == 3 {
			health, lastErr = "down", fmt.Sprintf("Get \"http://127.0.0.1:%d/metrics\": connection refused", 20000+i)
		}
		out[i] = fakeTarget{
			Job:    "lab",
			URL:    fmt.Sprintf("http://127.0.0.1:%d/metrics", 20000+i),
			Health: health,
			Labels: map[string]string{
				"instance": fmt.Sprintf("127.0.0.1:%d", 20000+i), "job": "lab",
				"zone": []string{"a", "b", "c"}[i%3], "team": "metrics",
			},
			LastError:          lastErr,
			LastScrape:         now.Add(-time.Duration(i%5) * time.Second),
			LastScrapeDuration: time.Duration(1+i%97) * 137 * time.Microsecond,
			Key:                fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
		}
	}
	return out
}

// fakeOptions is a node "node-a" of a three-node cluster with a scrape
// component holding nTargets targets of which it owns every one.
func fakeOptions(nTargets int) Options {
	now := time.Now()
	recv := sample.ReceiverFunc(func(context.Context, *sample.Batch) error { return nil })
	targets := fakeTargets(nTargets, now)
	scrapeTargets := make([]map[string]string, 0, 3)
	for _, t := range targets[:min(3, len(targets))] {
		scrapeTargets = append(scrapeTargets, t.Labels)
	}
	comps := []Component{
		{
			ID: "discovery.file.targets", Name: "discovery.file", Label: "targets",
			Health:       component.Health{State: component.HealthHealthy, Message: "refreshed", Updated: now.Add(-time.Minute)},
			Arguments:    fakeFileArgs{Files: []string{"/etc/targets.json"}, RefreshInterval: 5 * time.Minute},
			Exports:      fakeFileExports{Targets: scrapeTargets},
			ReferencedBy: []string{"prometheus.scrape.default"},
		},
		{
			ID: "prometheus.scrape.default", Name: "prometheus.scrape", Label: "default",
			Health: component.Health{State: component.HealthHealthy, Message: "targets are scraped", Updated: now.Add(-30 * time.Second)},
			Arguments: fakeScrapeArgs{
				Targets: scrapeTargets, ForwardTo: []sample.Receiver{recv}, JobName: "lab",
				ScrapeInterval: 15 * time.Second, BearerToken: fakeSecret,
				Authorization: types.OptionalSecret{Value: fakeSecret, IsSecret: true},
			},
			DebugInfo:    fakeScrapeDebug{Targets: targets},
			ReferencesTo: []string{"discovery.file.targets", "prometheus.remote_write.rx"},
		},
		{
			ID: "prometheus.remote_write.rx", Name: "prometheus.remote_write", Label: "rx",
			Health: component.Health{State: component.HealthUnhealthy, Message: "endpoint rx: 3 retries: 503 Service Unavailable <script>alert(1)</script>", Updated: now.Add(-5 * time.Second)},
			Arguments: fakeRemoteWriteArgs{
				ExternalLabels: map[string]string{"cluster": "lab"},
				Endpoints: []fakeEndpoint{{
					URL: "http://127.0.0.1:9009/api/v1/push", Name: "rx", Timeout: 30 * time.Second,
					Headers:   map[string]string{"X-Scope-OrgID": "tenant-1"},
					BasicAuth: &fakeBasicAuth{Username: "shoal", Password: fakeSecret},
				}},
			},
			Exports:      fakeRemoteWriteExports{Receiver: recv},
			ReferencedBy: []string{"prometheus.scrape.default"},
		},
	}
	peers := []Peer{
		{Name: "node-a", Addr: "127.0.0.1:12345", State: "participant", Self: true, Alive: true, Since: now.Add(-time.Hour),
			ConfigFingerprint: "abc123", FingerprintMatch: true, TargetsOwned: map[string]int{"prometheus.scrape.default": 40}},
		{Name: "node-b", Addr: "127.0.0.2:12345", State: "participant", Alive: true, Since: now.Add(-time.Hour),
			ConfigFingerprint: "abc123", FingerprintMatch: true, TargetsOwned: map[string]int{"prometheus.scrape.default": 35}, ClockOffset: 1500 * time.Microsecond},
		{Name: "node-c", Addr: "127.0.0.3:12345", State: "participant", Alive: true, Since: now.Add(-time.Hour),
			ConfigFingerprint: "def456", FingerprintMatch: false, TargetsOwned: map[string]int{"prometheus.scrape.default": 25}},
		{Name: "node-d", Addr: "127.0.0.4:12345", State: "participant", Alive: false, Since: now.Add(-2 * time.Hour),
			ConfigFingerprint: "abc123", FingerprintMatch: true, TargetsOwned: map[string]int{"prometheus.scrape.default": 0}},
		{Name: "node-e", Addr: "127.0.0.5:12345", State: "viewer", Alive: true, Since: now.Add(-time.Minute),
			ConfigFingerprint: "abc123", FingerprintMatch: true, TargetsOwned: map[string]int{"prometheus.scrape.default": 0}},
	}
	var owners []TargetOwner
	for i := range 100 {
		owner := "node-a"
		switch {
		case i%20 >= 15:
			owner = "node-c"
		case i%20 >= 8:
			owner = "node-b"
		}
		owners = append(owners, TargetOwner{
			Component: "prometheus.scrape.default", Key: uint64(i) * 0x9e3779b97f4a7c15,
			URL:    fmt.Sprintf("http://127.0.0.1:%d/metrics", 30000+i),
			Labels: map[string]string{"instance": fmt.Sprintf("127.0.0.1:%d", 30000+i), "job": "lab"},
			Owner:  owner,
		})
	}
	return Options{
		Version:       "v0.1.0-test",
		Components:    func() []Component { return comps },
		Peers:         func() []Peer { return peers },
		Targets:       func() []TargetOwner { return owners },
		ClusterStatus: func() ClusterStatus { return ClusterStatus{Enabled: true, Ready: true, Self: "node-a"} },
		Ready:         func() (bool, string) { return true, "" },
	}
}

// get serves one request through the whole handler and returns the status
// and body.
func get(t testing.TB, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// doc parses a page.
func doc(t testing.TB, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("the page is not HTML: %v", err)
	}
	return n
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// find returns the elements below n for which match is true.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byID(n *html.Node, id string) *html.Node {
	if f := find(n, func(e *html.Node) bool { return attr(e, "id") == id }); len(f) > 0 {
		return f[0]
	}
	return nil
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

// text is the text content of n with runs of white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		switch n.Data {
		case "th", "td", "li", "p", "div", "tr", "caption", "h1", "h2", "h3", "section":
			b.WriteString(" ")
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// bodyRows returns the rows of the body of the table with the id.
func bodyRows(t testing.TB, page *html.Node, id string) []*html.Node {
	t.Helper()
	tbl := byID(page, id)
	if tbl == nil {
		t.Fatalf("no table #%s on the page", id)
	}
	var rows []*html.Node
	for _, tb := range find(tbl, tag("tbody")) {
		for c := tb.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "tr" && len(find(c, func(n *html.Node) bool { return attr(n, "class") == "empty" })) == 0 {
				rows = append(rows, c)
			}
		}
	}
	return rows
}
