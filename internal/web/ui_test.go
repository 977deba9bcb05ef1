package web

import (
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
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
		if len(find(page, func(n *html.Node) bool { return n.Data == "a" && attr(n, "aria-current") == "page" })) != 1 {
			t.Errorf("GET %s: the nav bar does not mark exactly one current page", path)
		}
		if !strings.Contains(body, "node-a") {
			t.Errorf("GET %s: the page does not name the node serving it", path)
		}
	}
}
