//go:build !linux || shoal_lean

package unix

import (
	"errors"
	"net/http"

	"github.com/shoal-dev/shoal/internal/component"
)

// Linked reports whether node_exporter's collectors are in this build.
const Linked = false

func newHandler(component.Options, *Arguments) (http.Handler, error) {
	return nil, errors.New("this shoal was built without node_exporter's collectors (they are linked only on Linux, without the shoal_lean build tag)")
}
