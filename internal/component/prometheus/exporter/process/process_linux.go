//go:build linux

package process

import (
	"fmt"
	"net/http"

	"github.com/ncabatoff/process-exporter/collector"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Linked reports whether process-exporter's collector is in this build.
const Linked = true

func newHandler(a *Arguments) (http.Handler, error) {
	cfg, err := a.rules().ToConfig()
	if err != nil {
		return nil, fmt.Errorf("matcher: %w", err)
	}
	pc, err := collector.NewProcessCollector(collector.ProcessCollectorOption{
		ProcFSPath:        a.ProcFSPath,
		Children:          a.Children,
		Threads:           a.Threads,
		GatherSMaps:       a.SMaps,
		Namer:             cfg.MatchNamers,
		Recheck:           a.Recheck,
		RemoveEmptyGroups: a.RemoveEmptyGroups,
	})
	if err != nil {
		return nil, fmt.Errorf("process-exporter: %w", err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(pc); err != nil {
		return nil, fmt.Errorf("registering process-exporter's collector: %w", err)
	}
	if err := reg.Register(version.NewCollector("process_exporter")); err != nil {
		return nil, fmt.Errorf("registering process_exporter_build_info: %w", err)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}), nil
}
