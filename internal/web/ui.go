package web

import "net/http"

// uiRoutes mounts the server-rendered pages. The pages themselves are built
// in ui_*.go files.
func (s *Server) uiRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api/v0/web/components", http.StatusFound)
	})
}
