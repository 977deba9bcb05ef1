package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/shoal-dev/shoal/internal/component"
)

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if ok, why := s.opts.Ready(); !ok {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprintln(w, "shoal is ready.")
}

// handleHealthy answers 500 listing the unhealthy components, as Alloy does.
func (s *Server) handleHealthy(w http.ResponseWriter, r *http.Request) {
	var bad []string
	for _, c := range s.components() {
		if c.Health.State == component.HealthUnhealthy || c.Health.State == component.HealthExited {
			bad = append(bad, fmt.Sprintf("%s: %s", c.ID, c.Health.Message))
		}
	}
	if len(bad) > 0 {
		http.Error(w, "unhealthy components:\n"+strings.Join(bad, "\n"), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "All shoal components are healthy.")
}

// handleReload re-reads the config. A refused config answers 400 with the
// diagnostics, and the running pipeline is untouched.
func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	if s.opts.Reload == nil {
		http.Error(w, "reload is not available", http.StatusNotImplemented)
		return
	}
	if err := s.opts.Reload(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "config reloaded")
}
