package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/shoal-dev/shoal/internal/component"
)

func TestEveryPageRenders(t *testing.T) {
	h := New(fakeOptions(50)).Handler()
	for _, path := range []string{"/", "/component/prometheus.scrape.default", "/component/prometheus.remote_write.rx",
		"/component/discovery.file.targets", "/clustering", "/graph", "/targets"} {
		code, body := get(t, h, path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", path, code, body)
			continue
		}
		page := doc(t, body)
		current := find(page, func(n *html.Node) bool { return n.Data == "a" && attr(n, "aria-current") == "page" })
		if len(current) != 1 {
			t.Errorf("GET %s: the nav bar marks %d links as the current page, want 1", path, len(current))
		}
		if !strings.Contains(body, "node-a") {
			t.Errorf("GET %s: the page does not name the node serving it", path)
		}
		for _, tbl := range find(page, tag("table")) {
			if len(find(tbl, tag("caption"))) != 1 {
				t.Errorf("GET %s: a table has no caption", path)
			}
			for _, th := range find(tbl, tag("th")) {
				if attr(th, "scope") == "" {
					t.Errorf("GET %s: header cell %q has no scope", path, text(th))
				}
			}
		}
		for _, live := range find(page, func(n *html.Node) bool { return hasAttr(n, "data-live") }) {
			if attr(live, "id") == "" {
				t.Errorf("GET %s: a live region has no id, so the page cannot update it", path)
			}
		}
	}
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

func TestComponentListShowsHealthAndLinks(t *testing.T) {
	h := New(fakeOptions(5)).Handler()
	_, body := get(t, h, "/")
	page := doc(t, body)
	want := map[string]string{
		"discovery.file.targets":     "healthy",
		"prometheus.scrape.default":  "healthy",
		"prometheus.remote_write.rx": "unhealthy",
	}
	for _, row := range find(page, tag("tr")) {
		links := find(row, tag("a"))
		if len(links) == 0 {
			continue
		}
		id := text(links[0])
		state, ok := want[id]
		if !ok {
			t.Errorf("unexpected component %q", id)
			continue
		}
		delete(want, id)
		if href := attr(links[0], "href"); href != "/component/"+id {
			t.Errorf("%s links to %q", id, href)
		}
		badges := find(row, func(n *html.Node) bool { return strings.HasPrefix(attr(n, "class"), "badge ") })
		if len(badges) != 1 || text(badges[0]) != state {
			t.Errorf("%s: health badge %v, want the text %q", id, badges, state)
			continue
		}
		wantClass := map[string]string{"healthy": "badge ok", "unhealthy": "badge bad"}[state]
		if attr(badges[0], "class") != wantClass {
			t.Errorf("%s: badge class %q, want %q", id, attr(badges[0], "class"), wantClass)
		}
	}
	for id := range want {
		t.Errorf("component %s is not listed", id)
	}
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a health message is written into the page unescaped")
	}
}

func TestComponentPageShowsArgumentsExportsAndReferences(t *testing.T) {
	h := New(fakeOptions(5)).Handler()

	_, body := get(t, h, "/component/prometheus.remote_write.rx")
	page := doc(t, body)
	all := text(page)
	for _, want := range []string{
		`"http://127.0.0.1:9009/api/v1/push"`, `"30s"`, `"X-Scope-OrgID" = "tenant-1"`, `cluster = "lab"`,
		"basic_auth", `username "shoal"`, "password (secret)", `receiver capsule("sample.Receiver")`,
		"endpoint rx: 3 retries: 503 Service Unavailable", "unhealthy",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the remote_write page lacks %q", want)
		}
	}
	if usedBy := hrefs(page, "/component/prometheus.scrape.default"); usedBy == 0 {
		t.Error("the remote_write page does not link to the scrape component that uses it")
	}

	_, body = get(t, h, "/component/prometheus.scrape.default")
	page = doc(t, body)
	for _, ref := range []string{"/component/discovery.file.targets", "/component/prometheus.remote_write.rx"} {
		if hrefs(page, ref) == 0 {
			t.Errorf("the scrape page does not link to %s, which it references", ref)
		}
	}
	all = text(page)
	for _, want := range []string{"bearer_token (secret)", "credentials (secret)", `scrape_interval "15s"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the scrape page lacks %q", want)
		}
	}
}

func hrefs(page *html.Node, href string) int {
	return len(find(page, func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == href }))
}

// debugURLs returns the URL column of the debug table.
func debugURLs(t *testing.T, page *html.Node) []string {
	t.Helper()
	var out []string
	for _, row := range bodyRows(t, page, "table-target") {
		for _, td := range find(row, tag("td")) {
			if attr(td, "class") == "k-url" {
				out = append(out, text(td))
			}
		}
	}
	return out
}

func TestDebugTablePagesSortsAndFilters(t *testing.T) {
	const n = 1200
	h := New(fakeOptions(n)).Handler()
	all := make([]string, n)
	down := 0
	for i := range all {
		all[i] = fmt.Sprintf("http://127.0.0.1:%d/metrics", 20000+i)
		if i%7 == 3 {
			down++
		}
	}
	sort.Strings(all)
	const path = "/component/prometheus.scrape.default"

	_, body := get(t, h, path)
	page := doc(t, body)
	urls := debugURLs(t, page)
	if len(urls) != defaultPageSize {
		t.Fatalf("the first page shows %d rows, want %d", len(urls), defaultPageSize)
	}
	if urls[0] != all[0] || urls[499] != all[499] {
		t.Errorf("the first page runs from %s to %s, want %s to %s (sorted by URL)", urls[0], urls[499], all[0], all[499])
	}
	if c := text(page); !strings.Contains(c, "Showing 1–500 of 1200 targets") || !strings.Contains(c, "Page 1 of 3") {
		t.Errorf("the count or page line is missing:\n%s", c)
	}
	if hrefs(page, "?page=2") == 0 || hrefs(page, "?limit=all") == 0 {
		t.Error("no link to the next page or to every row")
	}

	_, body = get(t, h, path+"?page=3")
	urls = debugURLs(t, doc(t, body))
	if len(urls) != 200 || urls[0] != all[1000] {
		t.Errorf("page 3 shows %d rows from %v, want 200 from %s", len(urls), urls[:min(1, len(urls))], all[1000])
	}

	_, body = get(t, h, path+"?limit=all")
	if urls = debugURLs(t, doc(t, body)); len(urls) != n {
		t.Errorf("?limit=all shows %d rows, want %d", len(urls), n)
	}

	_, body = get(t, h, path+"?limit=all&q=DOWN")
	page = doc(t, body)
	rows := bodyRows(t, page, "table-target")
	if len(rows) != down {
		t.Errorf("filtering on DOWN shows %d rows, want the %d targets that are down", len(rows), down)
	}
	for _, r := range rows {
		if !strings.Contains(text(r), "down") {
			t.Errorf("a filtered row is not down: %s", text(r))
		}
	}
	if !strings.Contains(text(page), fmt.Sprintf("of %d targets matching “DOWN” (of %d)", down, n)) {
		t.Errorf("the count does not say how many rows match: %s", text(page))
	}

	_, body = get(t, h, path+"?q="+url.QueryEscape("127.0.0.1:20005/"))
	if urls = debugURLs(t, doc(t, body)); len(urls) != 1 || urls[0] != "http://127.0.0.1:20005/metrics" {
		t.Errorf("filtering on one target's address shows %v", urls)
	}
	_, body = get(t, h, path+"?q=zone%3D%22b%22")
	if rows := bodyRows(t, doc(t, body), "table-target"); len(rows) != n/3 {
		t.Errorf("filtering on a label pair shows %d rows, want the %d targets in zone b", len(rows), n/3)
	}

	_, body = get(t, h, path+"?sort=last_scrape_duration&order=desc")
	page = doc(t, body)
	rows = bodyRows(t, page, "table-target")
	first := find(rows[0], func(n *html.Node) bool { return attr(n, "class") == "k-duration" })
	if len(first) != 1 || text(first[0]) != fmtDuration(97*137*time.Microsecond) {
		t.Errorf("sorted by duration, descending, the first row's duration is %v, want %s", first, fmtDuration(97*137*time.Microsecond))
	}
	sorted := find(page, func(n *html.Node) bool { return n.Data == "th" && attr(n, "aria-sort") != "" })
	if len(sorted) != 1 || attr(sorted[0], "aria-sort") != "descending" || !strings.Contains(text(sorted[0]), "last scrape duration") {
		t.Errorf("the sorted column is not marked with aria-sort=descending: %v", sorted)
	}
}

func TestDebugInfoAsABareSliceIsATargetTable(t *testing.T) {
	opts := fakeOptions(0)
	comps := opts.Components()
	comps[1].DebugInfo = fakeTargets(12, time.Now())
	h := New(opts).Handler()
	_, body := get(t, h, "/component/prometheus.scrape.default")
	if rows := bodyRows(t, doc(t, body), "table-target"); len(rows) != 12 {
		t.Errorf("a slice of 12 targets shows %d rows in the target table", len(rows))
	}
}

func TestEmptyTargetTableSaysSo(t *testing.T) {
	h := New(fakeOptions(0)).Handler()
	_, body := get(t, h, "/component/prometheus.scrape.default")
	page := doc(t, body)
	if rows := bodyRows(t, page, "table-target"); len(rows) != 0 {
		t.Errorf("%d rows for no targets", len(rows))
	}
	if !strings.Contains(text(page), "No targets.") {
		t.Errorf("the page does not say there are no targets: %s", text(page))
	}
}

func TestUnknownComponentIsNotFound(t *testing.T) {
	h := New(fakeOptions(1)).Handler()
	code, body := get(t, h, "/component/prometheus.scrape.nope")
	if code != http.StatusNotFound || !strings.Contains(body, "prometheus.scrape.nope") {
		t.Errorf("GET an unknown component: %d\n%s", code, body)
	}
}

func TestClusteringPage(t *testing.T) {
	h := New(fakeOptions(1)).Handler()
	_, body := get(t, h, "/clustering")
	page := doc(t, body)
	rows := bodyRows(t, page, "peers")
	got := map[string]string{}
	for _, r := range rows {
		got[attr(r, "data-node")] = attr(r, "data-state")
	}
	want := map[string]string{"node-a": "participant", "node-b": "participant", "node-c": "participant", "node-d": "dead", "node-e": "viewer"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("peers and states: %v, want %v", got, want)
	}
	for _, r := range rows {
		cells := text(r)
		switch attr(r, "data-node") {
		case "node-a":
			if !strings.Contains(cells, "this node") || !strings.Contains(cells, "40") {
				t.Errorf("node-a's row: %s", cells)
			}
		case "node-c":
			if !strings.Contains(cells, "differs") || !strings.Contains(cells, "25") {
				t.Errorf("node-c's row does not show its different config: %s", cells)
			}
		case "node-b":
			if !strings.Contains(cells, "matches") || !strings.Contains(cells, "+1.5 ms") || !strings.Contains(cells, "35") {
				t.Errorf("node-b's row: %s", cells)
			}
		}
	}
	bal := bodyRows(t, page, "balance")
	if len(bal) != 1 {
		t.Fatalf("%d balance rows, want 1", len(bal))
	}
	// 100 targets over 3 participants; the largest share is 40.
	if c := text(bal[0]); !strings.Contains(c, "100 3 40 33.3 1.20") {
		t.Errorf("balance row: %s", c)
	}
	if !strings.Contains(text(page), "node-c loads a different configuration") {
		t.Error("no banner about node-c's configuration drift")
	}
}

func TestClusteringBanners(t *testing.T) {
	for _, tc := range []struct {
		status ClusterStatus
		want   string
	}{
		{ClusterStatus{Enabled: false, Ready: true, Self: "solo", Message: "Clustering is disabled: this node scrapes every target."}, "Clustering is disabled."},
		{ClusterStatus{Enabled: true, Ready: false, Self: "node-a", Message: "This node is viewer and does not own targets yet."}, "The cluster is not ready. This node is viewer"},
	} {
		opts := fakeOptions(1)
		opts.ClusterStatus = func() ClusterStatus { return tc.status }
		_, body := get(t, New(opts).Handler(), "/clustering")
		page := doc(t, body)
		banners := find(page, func(n *html.Node) bool { return strings.HasPrefix(attr(n, "class"), "banner") })
		found := false
		for _, b := range banners {
			found = found || strings.Contains(text(b), tc.want)
		}
		if !found {
			t.Errorf("status %+v: no banner saying %q", tc.status, tc.want)
		}
	}
}

func TestTargetsPageFindsTheOwner(t *testing.T) {
	h := New(fakeOptions(1)).Handler()
	_, body := get(t, h, "/targets?match="+url.QueryEscape("127.0.0.1:30009"))
	page := doc(t, body)
	rows := bodyRows(t, page, "targets")
	if len(rows) != 1 {
		t.Fatalf("searching one target finds %d rows", len(rows))
	}
	if attr(rows[0], "data-owner") != "node-b" {
		t.Errorf("the owner of 127.0.0.1:30009 is shown as %q, want node-b", attr(rows[0], "data-owner"))
	}
	link := find(rows[0], func(n *html.Node) bool { return n.Data == "a" && text(n) == "node-b" })
	wantHref := "http://127.0.0.2:12345/component/prometheus.scrape.default?q=" + url.QueryEscape("http://127.0.0.1:30009/metrics")
	if len(link) != 1 || attr(link[0], "href") != wantHref {
		t.Errorf("the owner does not link to its own component page filtered to the target: %v", link)
	}
	counts := bodyRows(t, page, "owner-counts")
	if len(counts) != 1 || !strings.Contains(text(counts[0]), "node-b 1 100.0%") {
		t.Errorf("per-node counts for the search: %v", texts(counts))
	}

	_, body = get(t, h, "/targets")
	page = doc(t, body)
	if got := texts(bodyRows(t, page, "owner-counts")); fmt.Sprint(got) != "[node-a this node 40 40.0% node-b 35 35.0% node-c 25 25.0%]" {
		t.Errorf("per-node counts: %v", got)
	}

	_, body = get(t, h, "/targets?limit=30&page=4")
	page = doc(t, body)
	if rows := bodyRows(t, page, "targets"); len(rows) != 10 || !strings.Contains(text(page), "Page 4 of 4") {
		t.Errorf("page 4 of 30 rows: %d rows; %s", len(rows), text(page))
	}
}

func texts(ns []*html.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = text(n)
	}
	return out
}

// TestTargetsPageMatchesLikeTheAPI checks that the search box and
// /api/v0/web/targets?match= find the same targets.
func TestTargetsPageMatchesLikeTheAPI(t *testing.T) {
	h := New(fakeOptions(1)).Handler()
	for _, q := range []string{"", "node-c", "30017", "instance=127.0.0.1:30042", "job=lab", "9e3779b9", "nothing-like-this"} {
		_, body := get(t, h, "/api/v0/web/targets?match="+url.QueryEscape(q))
		var api []targetJSON
		if err := json.Unmarshal([]byte(body), &api); err != nil {
			t.Fatal(err)
		}
		_, body = get(t, h, "/targets?limit=all&match="+url.QueryEscape(q))
		rows := bodyRows(t, doc(t, body), "targets")
		if len(rows) != len(api) {
			t.Errorf("match %q: the page lists %d targets, the API %d", q, len(rows), len(api))
			continue
		}
		for i, r := range rows {
			if u := text(find(r, tag("th"))[0]); u != api[i].URL || attr(r, "data-owner") != api[i].Owner {
				t.Errorf("match %q: row %d is %s owned by %s, the API says %s owned by %s", q, i, u, attr(r, "data-owner"), api[i].URL, api[i].Owner)
			}
		}
	}
}

func TestGraphPage(t *testing.T) {
	h := New(fakeOptions(1)).Handler()
	_, body := get(t, h, "/graph")
	page := doc(t, body)
	svg := find(page, tag("svg"))
	if len(svg) != 1 {
		t.Fatalf("%d SVGs on the graph page", len(svg))
	}
	boxes := map[string]float64{}
	for _, a := range find(svg[0], func(n *html.Node) bool { return n.Data == "a" }) {
		id := strings.TrimPrefix(attr(a, "href"), "/component/")
		rect := find(a, tag("rect"))
		if len(rect) != 1 {
			t.Fatalf("the box of %s has %d rects", id, len(rect))
		}
		x, _ := strconv.ParseFloat(attr(rect[0], "x"), 64)
		boxes[id] = x
		st := map[string]string{"prometheus.remote_write.rx": "unhealthy"}[id]
		if st == "" {
			st = "healthy"
		}
		if !strings.Contains(text(a), st) || !strings.Contains(attr(a, "class"), healthClass(st)) {
			t.Errorf("the box of %s does not show %q in text and colour: %q %q", id, st, text(a), attr(a, "class"))
		}
	}
	if len(boxes) != 3 {
		t.Fatalf("boxes: %v", boxes)
	}
	// Data flows from discovery to scrape to remote_write.
	if !(boxes["discovery.file.targets"] < boxes["prometheus.scrape.default"] && boxes["prometheus.scrape.default"] < boxes["prometheus.remote_write.rx"]) {
		t.Errorf("the boxes do not follow the data from left to right: %v", boxes)
	}
	all := text(page)
	for _, want := range []string{
		"prometheus.scrape.default uses the exports of discovery.file.targets",
		"prometheus.scrape.default forwards samples to prometheus.remote_write.rx",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the graph page does not say %q", want)
		}
	}
	if edges := find(svg[0], func(n *html.Node) bool { return n.Data == "path" && attr(n, "class") == "edge" }); len(edges) != 2 {
		t.Errorf("%d arrows, want 2 (one per reference)", len(edges))
	}
}

func TestGraphLayersByDepth(t *testing.T) {
	cs := []Component{
		{ID: "a"}, {ID: "b", ReferencesTo: []string{"a"}}, {ID: "c", ReferencesTo: []string{"b", "a"}},
		{ID: "d"}, {ID: "e", ReferencesTo: []string{"missing"}},
	}
	layers := layoutGraph(cs, flowEdges(cs))
	depth := map[string]int{}
	for d, l := range layers {
		for _, p := range l {
			depth[p.c.ID] = d
		}
	}
	if want := map[string]int{"a": 0, "b": 1, "c": 2, "d": 0, "e": 0}; fmt.Sprint(depth) != fmt.Sprint(want) {
		t.Errorf("depths %v, want %v", depth, want)
	}
}

func TestHealthUnknownWhenUnset(t *testing.T) {
	opts := fakeOptions(1)
	comps := opts.Components()
	comps[0].Health = component.Health{}
	_, body := get(t, New(opts).Handler(), "/")
	if !strings.Contains(text(doc(t, body)), "discovery.file.targets unknown") {
		t.Error("a component without health is not shown as unknown")
	}
}

// TestSecretsNeverAppear puts secrets into arguments (attributes, nested
// blocks, optional secrets) and reads every page and API answer, with the
// query parameters that change what is rendered.
func TestSecretsNeverAppear(t *testing.T) {
	h := New(fakeOptions(600)).Handler()
	paths := []string{
		"/", "/clustering", "/graph", "/targets", "/targets?limit=all", "/targets?match=secret",
		"/api/v0/web/components", "/api/v0/web/peers", "/api/v0/web/targets",
		"/static/style.css", "/static/live.js", "/-/ready", "/-/healthy",
	}
	for _, c := range fakeOptions(1).Components() {
		paths = append(paths,
			"/component/"+c.ID, "/component/"+c.ID+"?limit=all", "/component/"+c.ID+"?q=secret",
			"/component/"+c.ID+"?sort=labels&order=desc", "/api/v0/web/components/"+c.ID)
	}
	for _, p := range paths {
		code, body := get(t, h, p)
		if code >= 500 && p != "/-/healthy" {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
		if strings.Contains(body, fakeSecret) {
			t.Errorf("GET %s: the answer holds a secret", p)
		}
	}
}
