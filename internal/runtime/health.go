package runtime

import (
	"time"

	"github.com/shoal-dev/shoal/internal/component"
)

// healthRank orders states from best to worst, as Alloy does: a component
// is as healthy as the worst of what is known about it.
func healthRank(s component.HealthState) int {
	switch s {
	case component.HealthHealthy:
		return 0
	case component.HealthUnknown, "":
		return 1
	case component.HealthUnhealthy:
		return 2
	case component.HealthExited:
		return 3
	}
	return 1
}

// leastHealthy returns the worst of hs; among equally bad ones, the most
// recently updated, so that the message shown is the freshest reason.
func leastHealthy(hs ...component.Health) component.Health {
	var worst component.Health
	found := false
	for _, h := range hs {
		if h.State == "" {
			continue
		}
		if !found {
			worst, found = h, true
			continue
		}
		rh, rw := healthRank(h.State), healthRank(worst.State)
		if rh > rw || (rh == rw && h.Updated.After(worst.Updated)) {
			worst = h
		}
	}
	if !found {
		return component.Health{State: component.HealthUnknown}
	}
	return worst
}

func healthy(msg string, now time.Time) component.Health {
	return component.Health{State: component.HealthHealthy, Message: msg, Updated: now}
}

func unhealthy(msg string, now time.Time) component.Health {
	return component.Health{State: component.HealthUnhealthy, Message: msg, Updated: now}
}
