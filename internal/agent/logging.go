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
// loggers handed to components. It replays its WithAttrs and WithGroup
// calls, in order, on whichever handler is current.
type switchHandler struct {
	cur *atomic.Pointer[slog.Handler]
	ops []func(slog.Handler) slog.Handler
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
	for _, op := range h.ops {
		in = op(in)
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
	return h.with(func(in slog.Handler) slog.Handler { return in.WithAttrs(as) })
}

func (h *switchHandler) WithGroup(name string) slog.Handler {
	return h.with(func(in slog.Handler) slog.Handler { return in.WithGroup(name) })
}

func (h *switchHandler) with(op func(slog.Handler) slog.Handler) slog.Handler {
	return &switchHandler{cur: h.cur, ops: append(h.ops[:len(h.ops):len(h.ops)], op)}
}
