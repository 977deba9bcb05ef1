package agent

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/shoal-dev/shoal/internal/config"
)

// switchHandler is a slog.Handler whose level and format follow the
// config's logging block, changed at each reload without rebuilding the
// loggers handed to components.
type switchHandler struct {
	cur   *atomic.Pointer[slog.Handler]
	attrs []slog.Attr
	group string
}

type logSwitch struct {
	out   io.Writer
	level slog.LevelVar
	cur   atomic.Pointer[slog.Handler]
}

func newLogSwitch(out io.Writer) *logSwitch {
	s := &logSwitch{out: out}
	s.apply(config.DefaultGlobals().Logging)
	return s
}

func (s *logSwitch) apply(l config.Logging) {
	s.level.Set(l.SlogLevel())
	opts := &slog.HandlerOptions{Level: &s.level}
	var h slog.Handler
	if l.Format == "json" {
		h = slog.NewJSONHandler(s.out, opts)
	} else {
		h = slog.NewTextHandler(s.out, opts)
	}
	s.cur.Store(&h)
}

func (s *logSwitch) logger() *slog.Logger { return slog.New(&switchHandler{cur: &s.cur}) }

func (h *switchHandler) inner() slog.Handler {
	in := *h.cur.Load()
	if h.group != "" {
		in = in.WithGroup(h.group)
	}
	if len(h.attrs) > 0 {
		in = in.WithAttrs(h.attrs)
	}
	return in
}

func (h *switchHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return (*h.cur.Load()).Enabled(ctx, l)
}

func (h *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner().Handle(ctx, r)
}

func (h *switchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	cp := *h
	cp.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &cp
}

func (h *switchHandler) WithGroup(name string) slog.Handler {
	cp := *h
	if cp.group != "" {
		name = cp.group + "." + name
	}
	cp.group = name
	return &cp
}
