package component

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPComponent is implemented by components that serve HTTP on the node's
// own server, such as the prometheus.exporter.* family. The handler is
// mounted under HTTPPath(ID): a request for
// /api/v0/component/<ID>/metrics reaches it with the path "/metrics".
// Handler may return nil while the component has nothing to serve yet; the
// request is then answered 503.
type HTTPComponent interface {
	Handler() http.Handler
}

// HTTPPathPrefix is where the node routes requests to HTTPComponents, as
// in Alloy.
const HTTPPathPrefix = "/api/v0/component/"

// HTTPPath is the path, ending in a slash, under which the component id
// serves its Handler. IDs of components inside modules contain slashes
// ("custom.app/prometheus.exporter.self.x"); they are kept as they are.
func HTTPPath(id string) string { return HTTPPathPrefix + id + "/" }

// Host is what the node offers its components beyond their own options: the
// address of its HTTP server and its own metrics. The zero value offers
// nothing (unit tests, validation).
type Host struct {
	// HTTPAddr is host:port at which this node's HTTP server is reached,
	// from this node: an exporter's target dials it. Empty when the node
	// serves no HTTP.
	HTTPAddr string
	// Gatherer is the node's own registry, the one /metrics serves.
	Gatherer prometheus.Gatherer
}
