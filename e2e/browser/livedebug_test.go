package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/livedebug"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/web"
)

// TestLiveDebuggingView opens a component page under a UI path prefix,
// presses Start, and sees samples published by the component appear in the
// live view; Stop detaches the viewer, so the component's publisher goes
// back to costing nothing.
func TestLiveDebuggingView(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped in -short mode")
	}
	browserPath := chromium(t)
	hub := livedebug.NewHub()
	hub.SetEnabled(true)
	const id = "prometheus.scrape.live"
	pub := hub.Publisher(id, "prometheus.scrape")
	srv := httptest.NewServer(web.New(web.Options{
		UIPrefix:  "/ui",
		LiveDebug: hub,
		Components: func() []web.Component {
			return []web.Component{{ID: id, Name: "prometheus.scrape", Label: "live",
				Health: component.Health{State: component.HealthHealthy, Updated: time.Now()}}}
		},
		ClusterStatus: func() web.ClusterStatus { return web.ClusterStatus{Ready: true, Self: "solo"} },
	}).Handler())
	defer srv.Close()

	// The component: a batch every 100ms while watched, bounded in time.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			pub.PublishBatch(&sample.Batch{Samples: []sample.Sample{{
				Labels: labels.FromStrings("__name__", "browser_probe", "i", fmt.Sprint(i)), T: int64(i), V: 7,
			}}})
			time.Sleep(100 * time.Millisecond)
		}
	}()

	p := &page{t: t, ctx: newBrowser(t, browserPath), dir: artifacts(t), step: 30 * time.Second}
	p.open(srv.URL + "/ui/component/" + id)
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.ID("livedebug-toggle"))); err != nil {
		t.Fatal(err)
	}
	if err := p.waitJS(`document.getElementById('livedebug-out').textContent.includes('sample: ts=') && document.getElementById('livedebug-out').textContent.includes('browser_probe')`, 20*time.Second); err != nil {
		t.Fatalf("no sample in the live view: %v (status %q)", err, eval[string](p, `document.getElementById('livedebug-status').textContent`))
	}
	if !pub.Active() {
		t.Fatal("the publisher is not active while the page watches")
	}
	p.screenshot("livedebug")
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.ID("livedebug-toggle"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for pub.Active() {
		if time.Now().After(deadline) {
			t.Fatal("the publisher stays active after Stop")
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(srv.URL + "/ui/static/livedebug.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("livedebug.js under the prefix: %s", resp.Status)
	}
}
