package browser

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/web"
)

// liveTarget and liveDebug have the shape of prometheus.scrape's debug info.
type liveTarget struct {
	URL    string            `alloy:"url,attr"`
	Health string            `alloy:"health,attr"`
	Labels map[string]string `alloy:"labels,attr"`
}

type liveDebug struct {
	Targets []liveTarget `alloy:"target,block"`
}

func liveComponents(down int) []web.Component {
	ts := make([]liveTarget, 600)
	for i := range ts {
		ts[i] = liveTarget{
			URL:    fmt.Sprintf("http://127.0.0.1:%d/metrics", 20000+i),
			Health: "up",
			Labels: map[string]string{"zone": []string{"a", "b", "c"}[i%3]},
		}
	}
	ts[down].Health = "down"
	return []web.Component{{
		ID: "prometheus.scrape.live", Name: "prometheus.scrape", Label: "live",
		Health:    component.Health{State: component.HealthHealthy, Message: "targets are scraped", Updated: time.Now()},
		DebugInfo: liveDebug{Targets: ts},
	}}
}

// TestLiveUpdatesKeepFilterSortAndScroll filters and sorts the debug table
// with the page's own controls, scrolls, and then changes the data behind
// the page: the next live update shows the change while the filter text,
// the focus, the sort, the address and the scroll position stay as they
// were.
func TestLiveUpdatesKeepFilterSortAndScroll(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser; skipped in -short mode")
	}
	browserPath := chromium(t)
	var comps atomic.Pointer[[]web.Component]
	first := liveComponents(1) // zone b
	comps.Store(&first)
	srv := httptest.NewServer(web.New(web.Options{
		Components:    func() []web.Component { return *comps.Load() },
		ClusterStatus: func() web.ClusterStatus { return web.ClusterStatus{Ready: true, Self: "solo"} },
	}).Handler())
	defer srv.Close()

	p := &page{t: t, ctx: newBrowser(t, browserPath), dir: artifacts(t), step: 30 * time.Second}
	p.open(srv.URL + "/component/prometheus.scrape.live?limit=all")

	// Sort by health with clicks on the header: ascending, descending,
	// and ascending again, which puts targets that are down first.
	for i, order := range []string{"ascending", "descending", "ascending"} {
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`#table-target th a[data-key="sort-health"]`))); err != nil {
			t.Fatal(err)
		}
		js := fmt.Sprintf(`location.search.includes('sort=health') && document.querySelector('#table-target th[aria-sort=%q] a[data-key="sort-health"]') !== null`, order)
		if err := p.waitJS(js, 5*time.Second); err != nil {
			t.Fatalf("click %d on the health header does not sort %s: %v", i+1, order, err)
		}
	}
	// Filter to zone b by typing.
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.ID("filter-debug"), `zone="b"`)); err != nil {
		t.Fatal(err)
	}
	if err := p.waitJS(`document.querySelectorAll('#table-target tbody tr').length === 200`, 5*time.Second); err != nil {
		t.Fatalf("typing a filter does not narrow the table to the 200 targets of zone b: %v (%d rows)", err,
			eval[int](p, `document.querySelectorAll('#table-target tbody tr').length`))
	}
	// The one target that is down (in zone b) comes first.
	if err := p.waitJS(`document.querySelector('#table-target tbody tr').textContent.includes(':20001/')`, 5*time.Second); err != nil {
		t.Fatalf("the down target is not first: %v", err)
	}
	eval[bool](p, `window.scrollTo(0, 1200), document.getElementById('filter-debug').focus(), true`)
	scroll := eval[float64](p, `window.scrollY`)
	if scroll < 1000 {
		t.Fatalf("the page does not scroll (scrollY %v); it should be long", scroll)
	}
	search := eval[string](p, `location.search`)

	// Another target of zone b goes down, and the first comes back up.
	next := liveComponents(4)
	comps.Store(&next)
	if err := p.waitJS(`document.querySelector('#table-target tbody tr').textContent.includes(':20004/')`, 15*time.Second); err != nil {
		t.Fatalf("the page did not update by itself: %v", err)
	}
	if got := eval[int](p, `document.querySelectorAll('#table-target tbody tr').length`); got != 200 {
		t.Errorf("after the update the table has %d rows, want the 200 of the filter", got)
	}
	if got := eval[string](p, `document.getElementById('filter-debug').value`); got != `zone="b"` {
		t.Errorf("the filter box holds %q after the update", got)
	}
	if got := eval[string](p, `document.activeElement && document.activeElement.id`); got != "filter-debug" {
		t.Errorf("the filter box lost the focus to %q", got)
	}
	if got := eval[string](p, `location.search`); got != search {
		t.Errorf("the address changed from %q to %q", search, got)
	}
	if got := eval[float64](p, `window.scrollY`); got != scroll {
		t.Errorf("the page scrolled from %v to %v", scroll, got)
	}
	if got := eval[string](p, `document.querySelector('#table-target th[aria-sort]').textContent`); !strings.Contains(got, "health") {
		t.Errorf("the sort column is now %q", got)
	}
	p.screenshot("live-filter-sort")

	// Without JavaScript the controls are plain links and forms: the same
	// address renders the same table from the server alone.
	ctx, cancel := context.WithTimeout(p.ctx, p.step)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	if got := eval[int](p, `document.querySelectorAll('#table-target tbody tr').length`); got != 200 {
		t.Errorf("the reloaded address shows %d rows, want 200", got)
	}
}
