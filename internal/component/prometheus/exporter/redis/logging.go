package redis

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"
)

// redis_exporter logs through logrus's global logger. Its lines are sent
// to the logger of the most recently built prometheus.exporter.redis
// instead of logrus's own stderr output, so that they take the node's
// format and --log.level (with several redis components, a line may carry
// another one's component ID). logrus stays at info: redis_exporter's
// debug lines include its options, password and all.
var (
	logrusOnce sync.Once
	logTo      atomic.Pointer[slog.Logger]
)

func routeLogrus(l *slog.Logger) {
	logTo.Store(l)
	logrusOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.SetLevel(logrus.InfoLevel)
		logrus.AddHook(hook{})
	})
}

type hook struct{}

func (hook) Levels() []logrus.Level { return logrus.AllLevels }

func (hook) Fire(e *logrus.Entry) error {
	l := logTo.Load()
	if l == nil {
		return nil
	}
	lvl := slog.LevelInfo
	switch {
	case e.Level <= logrus.ErrorLevel:
		lvl = slog.LevelError
	case e.Level == logrus.WarnLevel:
		lvl = slog.LevelWarn
	case e.Level >= logrus.DebugLevel:
		lvl = slog.LevelDebug
	}
	attrs := make([]any, 0, 2*len(e.Data)+2)
	attrs = append(attrs, "source", "redis_exporter")
	for k, v := range e.Data {
		attrs = append(attrs, k, v)
	}
	l.Log(context.Background(), lvl, e.Message, attrs...)
	return nil
}
