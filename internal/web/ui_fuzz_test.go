package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzTableQuery feeds arbitrary query strings to the component page and the
// cluster-wide target list: whatever the query, the page renders, never shows
// more rows than asked for, and never echoes markup unescaped. Seeds are in
// testdata/fuzz/FuzzTableQuery.
func FuzzTableQuery(f *testing.F) {
	for _, s := range []string{"", "q=down", "sort=url&order=desc", "limit=all", "limit=-3&page=99999999999999999999",
		"page=0", "q=%3Cscript%3E", "match=job%3Dlab", "sort=labels&q=zone%3D%22b%22&limit=7&page=3"} {
		f.Add(s)
	}
	h := New(fakeOptions(40)).Handler()
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		tq := parseTableQuery(q)
		if tq.Limit < 0 || tq.Page < 1 {
			t.Fatalf("parseTableQuery(%q) = %+v", raw, tq)
		}
		for _, path := range []string{"/component/prometheus.scrape.default", "/targets"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = q.Encode()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s?%s: %d", path, req.URL.RawQuery, rec.Code)
			}
			body := rec.Body.String()
			if strings.Contains(body, "<script>") {
				t.Fatalf("GET %s?%s: markup from the query reached the page", path, req.URL.RawQuery)
			}
			id := "table-target"
			if path == "/targets" {
				id = "targets"
			}
			rows := bodyRows(t, doc(t, body), id)
			if tq.Limit > 0 && len(rows) > tq.Limit {
				t.Fatalf("GET %s?%s: %d rows for limit %d", path, req.URL.RawQuery, len(rows), tq.Limit)
			}
		}
	})
}
