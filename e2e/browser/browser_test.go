// Package browser tests shoal's web UI in a real headless Chromium against a
// real three-node fleet started by internal/lab: what each node's pages
// show, how they agree with each other, that they update without a reload,
// and that secrets appear nowhere. It saves a screenshot of every page under
// $SHOAL_ARTIFACTS (default: testdata-artifacts/ at the repository root).
//
// Chromium is Debian's /usr/bin/chromium (or $SHOAL_CHROMIUM). Without it
// the tests skip, unless CI=true, where they fail.
package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shoal-dev/shoal/internal/lab"
)

// secret is the basic_auth password of the remote_write endpoint: it must
// not appear in any page or API answer.
const secret = "e2e-basic-auth-pw-7c1f93"

const scrapeID = lab.ScrapeComponent

// withSecret adds a basic_auth block with the secret to the lab's
// remote_write endpoint (the lab's receiver does not check it).
func withSecret(cfg string) string {
	i := strings.Index(cfg, "prometheus.remote_write")
	j := strings.Index(cfg[i:], "url = ")
	if i < 0 || j < 0 {
		panic("lab config has no remote_write url")
	}
	end := i + j + strings.Index(cfg[i+j:], "\n")
	return cfg[:end+1] + "    basic_auth {\n      username = \"shoal\"\n      password = \"" + secret + "\"\n    }\n" + cfg[end+1:]
}

// chromium returns the browser to run, or skips (fails with CI=true) when
// there is none.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("SHOAL_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no Chromium to run the UI tests: %v", err)
		}
		t.Skipf("no Chromium to run the UI tests (%v); install Debian's chromium or set $SHOAL_CHROMIUM", err)
	}
	return path
}

// newBrowser starts a headless Chromium with a fresh profile; the returned
// context runs actions in one tab.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first action starts the browser; it gets no deadline of its own
	// (a deadline would end the browser with it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// artifacts is the directory for screenshots.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SHOAL_ARTIFACTS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "testdata-artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// page drives one tab with a deadline per step.
type page struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	step time.Duration
}

func (p *page) open(u string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.step)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("main"))); err != nil {
		p.t.Fatalf("open %s: %v", u, err)
	}
}

func eval[T any](p *page, js string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is truthy, polling in the page.
func (p *page) waitJS(js string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(p.ctx, within+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(within)))
	return err
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// hostOf turns a scrape URL into the target's host:port.
func hostOf(t *testing.T, s string) string {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("a URL cell holds %q: %v", s, err)
	}
	return u.Host
}

// scrapedBy reads the debug table of each running node's scrape component
// page: the targets each node says it scrapes now.
func scrapedBy(t *testing.T, p *page, nodes []*lab.Node) map[string][]string {
	out := map[string][]string{}
	for _, n := range nodes {
		p.open(n.URL("/component/" + scrapeID + "?limit=all"))
		cells := eval[[]string](p, `Array.from(document.querySelectorAll('#table-target tbody td.k-url')).map(td => td.textContent.trim())`)
		hosts := make([]string, 0, len(cells))
		for _, c := range cells {
			hosts = append(hosts, hostOf(t, c))
		}
		sort.Strings(hosts)
		out[n.Name] = hosts
	}
	return out
}

// splitProblem says what is wrong with a split of the targets, or "".
func splitProblem(all []string, by map[string][]string) string {
	claims := map[string][]string{}
	for node, hosts := range by {
		for _, h := range hosts {
			claims[h] = append(claims[h], node)
		}
	}
	var twice, none []string
	for _, a := range all {
		switch len(claims[a]) {
		case 0:
			none = append(none, a)
		case 1:
		default:
			twice = append(twice, fmt.Sprintf("%s on %v", a, claims[a]))
		}
	}
	counts := map[string]int{}
	idle := 0
	for n, h := range by {
		counts[n] = len(h)
		if len(h) == 0 {
			idle++
		}
	}
	// With dozens of targets a participant that owns none has not taken
	// its share yet (it joined, or rejoined, less than Δ ago).
	if len(twice)+len(none)+idle == 0 {
		return ""
	}
	return fmt.Sprintf("tables %v: %d targets on two nodes (%v), %d on none (%v), %d nodes with none", counts, len(twice), first(twice), len(none), first(none), idle)
}

func first(s []string) []string { return s[:min(3, len(s))] }

// with is the page for a subtest: failures are reported to t.
func (p *page) with(t *testing.T) *page {
	q := *p
	q.t = t
	return &q
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func TestUIOnAThreeNodeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node fleet and a browser; skipped in -short mode")
	}
	browserPath := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Targets:  45,
		Series:   3,
		Progress: testWriter{t},
		Config:   func(r *lab.Rig, node string) string { return withSecret(r.Config()) },
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, rig.Fleet.Logs(30))
	}
	if err := rig.WaitConverged(ctx); err != nil {
		t.Fatalf("%v\n%s", err, rig.Fleet.Logs(30))
	}
	nodes := rig.Fleet.Running()
	if len(nodes) != 3 {
		t.Fatalf("%d nodes run, want 3", len(nodes))
	}
	all := rig.Targets.Addrs()
	sort.Strings(all)

	p := &page{t: t, ctx: newBrowser(t, browserPath), dir: artifacts(t), step: 30 * time.Second}

	// Each node's component page lists only its own targets: the three
	// tables are disjoint, together cover every target, and each has some.
	// Ownership may still settle after convergence, so the check is retried
	// until a deadline.
	var owners map[string][]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		owners = scrapedBy(t, p, nodes)
		problem := splitProblem(all, owners)
		if problem == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the component pages do not split the targets: %s", problem)
		}
	}
	ownerOf := map[string]string{}
	for node, hosts := range owners {
		for _, h := range hosts {
			ownerOf[h] = node
		}
	}
	for _, n := range nodes {
		p.open(n.URL("/component/" + scrapeID))
		p.screenshot("component-scrape-" + n.Name)
	}

	// The clustering page of every node names all three as participants.
	t.Run("clustering names every node", func(t *testing.T) {
		p := p.with(t)
		for _, n := range nodes {
			p.open(n.URL("/clustering"))
			states := eval[map[string]string](p, `Object.fromEntries(Array.from(document.querySelectorAll('#peers tbody tr[data-node]')).map(tr => [tr.dataset.node, tr.dataset.state]))`)
			want := map[string]string{}
			for _, m := range nodes {
				want[m.Name] = "participant"
			}
			if fmt.Sprint(states) != fmt.Sprint(want) {
				t.Errorf("%s's clustering page shows %v, want %v", n.Name, states, want)
			}
			p.screenshot("clustering-" + n.Name)
		}
	})

	// "Who scrapes X" on every node: typing a target's address into the
	// search box narrows the table, live, to that target, and its owner is
	// the node whose component page lists it.
	t.Run("targets page finds the owner", func(t *testing.T) {
		p := p.with(t)
		target := all[len(all)/2]
		if body, err := httpGet(ctx, rig.Fleet.Client(), nodes[0].URL("/api/v0/web/targets")); err != nil || strings.TrimSpace(body) == "[]" {
			t.Fatalf("/api/v0/web/targets lists no target (%v): the node cannot reach its scrape components' target lists, so neither the API nor the page can say who scrapes what", err)
		}
		for _, n := range nodes {
			p.open(n.URL("/targets"))
			if n == nodes[0] {
				p.screenshot("targets-" + n.Name)
			}
			if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.ID("search-targets"), target)); err != nil {
				t.Fatalf("typing into the search box: %v", err)
			}
			js := fmt.Sprintf(`(() => { const rows = document.querySelectorAll('#targets tbody tr[data-owner]'); return rows.length === 1 && rows[0].textContent.includes(%q); })()`, target)
			if err := p.waitJS(js, 10*time.Second); err != nil {
				got := eval[string](p, `document.querySelector('#targets tbody').innerText`)
				t.Fatalf("%s: searching %s does not narrow the table to it: %v\n%s", n.Name, target, err, got)
			}
			owner := eval[string](p, `document.querySelector('#targets tbody tr[data-owner]').dataset.owner`)
			if owner != ownerOf[target] {
				t.Errorf("%s's targets page says %s scrapes %s; the component pages say %s", n.Name, owner, target, ownerOf[target])
			}
			if loc := eval[string](p, `location.search`); !strings.Contains(loc, "match=") {
				t.Errorf("%s: the search is not in the address (%q), so it cannot be shared or reloaded", n.Name, loc)
			}
			if n == nodes[0] {
				p.screenshot("targets-search-" + n.Name)
			}
		}
	})

	// The secret appears nowhere: not in any page (as the browser sees it
	// after scripts ran) nor in any API answer.
	t.Run("no secret anywhere", func(t *testing.T) {
		p := p.with(t)
		pages := []string{"/", "/component/prometheus.remote_write.rx", "/component/" + scrapeID + "?limit=all",
			"/component/discovery.file.targets", "/clustering", "/graph", "/targets?limit=all"}
		apis := []string{"/api/v0/web/components", "/api/v0/web/components/prometheus.remote_write.rx",
			"/api/v0/web/components/" + scrapeID, "/api/v0/web/peers", "/api/v0/web/targets", "/metrics", "/-/ready", "/-/healthy"}
		for _, n := range nodes {
			for _, path := range pages {
				p.open(n.URL(path))
				html := eval[string](p, `document.documentElement.outerHTML`)
				if strings.Contains(html, secret) {
					t.Errorf("%s %s shows the basic_auth password", n.Name, path)
				}
				if strings.HasPrefix(path, "/component/prometheus.remote_write") && !strings.Contains(html, "(secret)") {
					t.Errorf("%s %s does not show the password as (secret)", n.Name, path)
				}
			}
			for _, path := range apis {
				body, err := httpGet(ctx, rig.Fleet.Client(), n.URL(path))
				if err != nil {
					t.Errorf("%s GET %s: %v", n.Name, path, err)
				}
				if strings.Contains(body, secret) {
					t.Errorf("%s GET %s holds the basic_auth password", n.Name, path)
				}
			}
		}
		for _, shot := range []struct{ path, name string }{
			{"/", "components"}, {"/graph", "graph"}, {"/component/prometheus.remote_write.rx", "component-remote-write"},
			{"/component/discovery.file.targets", "component-discovery"},
		} {
			p.open(nodes[0].URL(shot.path))
			p.screenshot(shot.name + "-" + nodes[0].Name)
		}
	})

	// Kill a node while node-0's clustering page is open: without a
	// reload, the page shows it dead or drops it within seconds.
	watcher, victim := nodes[0], nodes[2]
	p.open(watcher.URL("/clustering"))
	// A reload would drop this marker.
	eval[bool](p, `window.shoalTestMarker = true`)
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	js := fmt.Sprintf(`(() => { const tr = document.querySelector('#peers tbody tr[data-node=%q]'); return !tr || tr.dataset.state === 'dead' || tr.dataset.state === 'left'; })()`, victim.Name)
	if err := p.waitJS(js, 20*time.Second); err != nil {
		t.Fatalf("%s's clustering page still shows %s alive %s after it was killed: %v\n%s", watcher.Name, victim.Name,
			time.Since(killed).Round(time.Second), err, eval[string](p, `document.querySelector('#peers').innerText`))
	}
	t.Logf("the clustering page showed %s gone %s after the kill, without a reload", victim.Name, time.Since(killed).Round(100*time.Millisecond))
	if !eval[bool](p, `window.shoalTestMarker === true`) {
		t.Error("the page was reloaded; it should have updated in place")
	}
	p.screenshot("clustering-after-kill-" + watcher.Name)
}

func httpGet(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
