package web

import (
	"crypto/subtle"
	"crypto/tls"
	"net/http"
	"path"
	"strings"

	"github.com/shoal-dev/shoal/internal/config"
)

type tlsState struct {
	cfg       *tls.Config
	clientCAs bool
}

// Apply installs the config's `http` block: TLS and basic authentication.
// On error nothing changes, so a bad reload leaves the server as it was.
func (s *Server) Apply(h config.HTTP) error {
	var st *tlsState
	if h.TLS != nil {
		cfg, err := h.TLS.Config()
		if err != nil {
			return err
		}
		cfg.NextProtos = []string{"h2", "http/1.1"}
		if cfg.ClientCAs != nil && cfg.ClientAuth < tls.VerifyClientCertIfGiven {
			// The gossip routes demand a verified certificate (see
			// requireClientCert), so certificates that are given must be
			// verified; probes and browsers still need none.
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		}
		st = &tlsState{cfg: cfg, clientCAs: cfg.ClientCAs != nil}
	}
	s.tlsState.Store(st)
	cp := h
	s.settings.Store(&cp)
	return nil
}

// TLSEnabled reports whether the server serves TLS now.
func (s *Server) TLSEnabled() bool { return s.tlsState.Load() != nil }

// authenticate enforces the basic-auth filter of the current settings.
//
// The gossip routes (GossipPrefix) are never behind basic auth: peers
// do not send the UI's password, so a node with `auth { basic { ... } }`
// would refuse every peer and each node would form a cluster of one and
// scrape every target. Gossip is authenticated by the cluster's own means
// instead: mutual TLS (requireClientCert and the transport's check) and
// the gossip key, with which memberlist drops packets it cannot decrypt.
// Alloy applies the same middleware to its cluster routes, which breaks
// clustering under basic auth; shoal differs on purpose.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := s.settings.Load().Auth
		if a.NeedsAuth(r.URL.Path) && !isGossipPath(r.URL.Path) {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(a.Basic.Username)) != 1 ||
				subtle.ConstantTimeCompare([]byte(p), []byte(string(a.Basic.Password))) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="shoal"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requireClientCert rejects gossip requests that did not present a verified
// client certificate when the server has a client CA.
func (s *Server) requireClientCert(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := s.tlsState.Load()
		if st != nil && st.clientCAs {
			if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
				http.Error(w, "gossip requires a verified client certificate", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isGossipPath reports whether path is one of the cluster transport's
// routes. The path is cleaned first, so that "/api/v1/ckit/transport/../x"
// (which the mux would redirect, not serve) is not exempt.
func isGossipPath(p string) bool {
	return strings.HasPrefix(p, GossipPrefix) && path.Clean(p) == strings.TrimSuffix(p, "/")
}
