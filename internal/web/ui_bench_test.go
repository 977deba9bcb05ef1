package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkComponentPage10kTargets renders the page of a scrape component
// with 10,000 targets: the default page (500 rows), a filtered page and
// every row.
func BenchmarkComponentPage10kTargets(b *testing.B) {
	h := New(fakeOptions(10000)).Handler()
	for _, bc := range []struct{ name, query string }{
		{"default", ""},
		{"sorted-filtered", "?sort=last_scrape&order=desc&q=zone%3D%22b%22"},
		{"all-rows", "?limit=all"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/component/prometheus.scrape.default"+bc.query, nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				b.SetBytes(int64(rec.Body.Len()))
			}
		})
	}
}
