// Package web is shoal's HTTP surface on --server.http.listen-addr: the
// probes (/-/ready, /-/healthy), /-/reload, /metrics, the JSON API under
// /api/v0/web in Alloy's shapes, the server-rendered UI, and the mount point
// of the cluster's gossip transport. It serves HTTP/1.1, HTTP/2 over TLS and
// h2c on one listener, with the TLS and basic-auth settings of the config's
// `http` block.
//
// The pages (ui*.go, templates/, static/) are rendered by the server with
// html/template; a small script (static/live.js) refreshes their live
// regions every few seconds and turns sort links, pagination and the filter
// into in-place updates. Arguments, exports and debug info are rendered from
// the language's typed view of them (internal/syntax/value), as the JSON
// API encodes them, so a secret can only ever print as "(secret)".
//
// It owns no state of its own: everything it shows comes from the Options'
// functions, which the agent wires to the runtime and the cluster. It does
// not evaluate configuration or compute ownership.
package web
