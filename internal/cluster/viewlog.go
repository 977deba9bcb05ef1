package cluster

import (
	"strings"
	"time"
)

// describeView renders the epochs of a view from the one in force at now
// on, for the log line that records each change of eligibility: when a
// handoff goes wrong, these lines say which nodes each node counted and
// from when.
func describeView(v *view, now int64) string {
	var b strings.Builder
	first := v.index(now)
	for i := first; i < len(v.epochs); i++ {
		e := v.epochs[i]
		if i > first {
			b.WriteString("; ")
		}
		if i == first {
			b.WriteString("now")
		} else {
			b.WriteString("from ")
			b.WriteString(time.UnixMilli(e.start).UTC().Format("15:04:05.000"))
		}
		b.WriteString(": ")
		if len(e.names) == 0 {
			b.WriteString("none")
		}
		b.WriteString(strings.Join(e.names, ","))
	}
	return b.String()
}
