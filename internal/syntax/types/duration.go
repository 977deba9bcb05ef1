package types

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// ParseDuration parses a duration as configuration files write it: Go's
// syntax ("1m30s", "1.5h", "300ms") or Prometheus' ("1d", "2w", "1y",
// "1h30m"), so that values copied from either kind of config work. The
// error reads `invalid duration "5 minutes"`.
//
// Every time.Duration field of a configuration struct decodes through this
// function.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if d, err := time.ParseDuration(t); err == nil {
		return d, nil
	}
	if d, err := model.ParseDuration(t); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("invalid duration %q", s)
}
