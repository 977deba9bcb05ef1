package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shoal-dev/shoal/internal/livedebug"
)

// LiveDebugDelimiter ends every line of a live debugging stream, as in
// Alloy, whose UI splits the chunked body on it.
const LiveDebugDelimiter = "|;|"

// apiLiveDebug streams what flows out of one component as chunked text,
// one line per sample or target, each ended by LiveDebugDelimiter: the
// protocol of Alloy's /api/v0/web/debug/{id}. ?sampleProb= keeps each line
// with that probability. Lines the watcher's rate limit or buffer dropped
// are announced once a second. The stream ends when the client goes away,
// the component is removed, live debugging is turned off or the server
// shuts down.
func (s *Server) apiLiveDebug(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	prob := 1.0
	if v := r.URL.Query().Get("sampleProb"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p <= 0 || p > 1 {
			http.Error(w, fmt.Sprintf("sampleProb %q must be a number in (0, 1]", v), http.StatusBadRequest)
			return
		}
		prob = p
	}
	watcher, err := s.opts.LiveDebug.Watch(id, prob)
	var unsupported livedebug.ErrUnsupported
	switch {
	case errors.Is(err, livedebug.ErrDisabled):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	case errors.Is(err, livedebug.ErrUnknown):
		http.Error(w, fmt.Sprintf("there is no component %q in the loaded configuration", id), http.StatusNotFound)
		return
	case errors.As(err, &unsupported):
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer watcher.Close()

	flusher, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case line := <-watcher.C:
			if _, err := fmt.Fprint(w, line, LiveDebugDelimiter); err != nil {
				return
			}
			// Write what is queued, then flush once: a busy component
			// does not cost a flush per line.
			for drained := false; !drained; {
				select {
				case line := <-watcher.C:
					if _, err := fmt.Fprint(w, line, LiveDebugDelimiter); err != nil {
						return
					}
				default:
					drained = true
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
		case <-tick.C:
			if n := watcher.Dropped(); n > 0 {
				if _, err := fmt.Fprintf(w, "dropped: %d lines over the live debugging limit of %d a second per viewer; lower the sample rate to see a fair sample%s", n, livedebug.RatePerSecond, LiveDebugDelimiter); err != nil {
					return
				}
				if flusher != nil {
					flusher.Flush()
				}
			}
		case <-watcher.Done():
			return
		case <-s.closing:
			return
		case <-r.Context().Done():
			return
		}
	}
}
