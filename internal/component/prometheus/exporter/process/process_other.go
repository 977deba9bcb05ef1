//go:build !linux

package process

import (
	"errors"
	"net/http"
)

// Linked reports whether process-exporter's collector is in this build.
const Linked = false

func newHandler(*Arguments) (http.Handler, error) {
	return nil, errors.New("prometheus.exporter.process reads /proc and works only on Linux")
}
