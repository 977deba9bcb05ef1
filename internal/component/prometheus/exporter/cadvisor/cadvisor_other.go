//go:build !linux

package cadvisor

import (
	"errors"
	"net/http"

	"github.com/shoal-dev/shoal/internal/component"
)

// Linked reports whether cAdvisor is in this build.
const Linked = false

func create(component.Options, component.Arguments) (http.Handler, string, error) {
	return nil, "", errors.New("prometheus.exporter.cadvisor runs only on Linux")
}

// Validate checks nothing beyond decoding where cAdvisor is not linked.
func (a *Arguments) Validate() error { return nil }
