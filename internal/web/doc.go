// Package web is shoal's HTTP surface on --server.http.listen-addr: the
// probes (/-/ready, /-/healthy), /-/reload, /metrics, the JSON API under
// /api/v0/web in Alloy's shapes, the server-rendered UI, and the mount point
// of the cluster's gossip transport. It serves HTTP/1.1, HTTP/2 over TLS and
// h2c on one listener, with the TLS and basic-auth settings of the config's
// `http` block.
//
// It owns no state of its own: everything it shows comes from the Options'
// functions, which the agent wires to the runtime and the cluster. It does
// not evaluate configuration or compute ownership.
package web
