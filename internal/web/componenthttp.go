package web

import (
	"net/http"
	"strings"

	"github.com/shoal-dev/shoal/internal/component"
)

// componentHTTP routes /api/v0/component/<id>/<rest> to the handler of the
// component id, with the request's path cut to /<rest>. An ID may contain
// slashes (components inside modules), so the longest prefix of the path
// that names a component serving HTTP wins.
func (s *Server) componentHTTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookup := s.opts.ComponentHandler
		if lookup == nil {
			http.NotFound(w, r)
			return
		}
		id, rest, h, ok := resolveComponentPath(strings.TrimPrefix(r.URL.Path, component.HTTPPathPrefix), lookup)
		if !ok {
			http.Error(w, "no component serving HTTP at "+r.URL.Path, http.StatusNotFound)
			return
		}
		if h == nil {
			http.Error(w, "component "+id+" has nothing to serve yet", http.StatusServiceUnavailable)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		r2.URL.RawPath = ""
		h.ServeHTTP(w, r2)
	})
}

// resolveComponentPath splits p ("<id>/<rest>", without the route's prefix)
// into the longest component ID that lookup knows and the remaining path,
// which always starts with a slash.
func resolveComponentPath(p string, lookup func(id string) (http.Handler, bool)) (id, rest string, h http.Handler, ok bool) {
	if p != "" {
		if h, ok = lookup(p); ok {
			return p, "/", h, true
		}
	}
	for end := strings.LastIndexByte(p, '/'); end > 0; end = strings.LastIndexByte(p[:end], '/') {
		if h, ok = lookup(p[:end]); ok {
			return p[:end], p[end:], h, true
		}
	}
	return "", "", nil, false
}
