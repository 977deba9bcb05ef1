package scrape

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Health is a target's health as the debug page shows it.
type Health string

// The target healths, named as Prometheus and Alloy name them.
const (
	HealthUnknown Health = "unknown"
	HealthUp      Health = "up"
	HealthDown    Health = "down"
)

// TargetStatus is what the engine knows of one target, for debug info.
type TargetStatus struct {
	// Key is the cluster key.
	Key    uint64
	Job    string
	URL    string
	Labels labels.Labels
	Health Health
	// LastScrape is when the last scrape started; zero before the first.
	LastScrape         time.Time
	LastScrapeDuration time.Duration
	LastError          string
	// Owned is whether this node scrapes the target now.
	Owned bool
	// Collision is set when another, different target has the same key.
	Collision bool
}

// Problems are the engine's component-level troubles, for health.
type Problems struct {
	// Invalid counts targets that cannot be scraped (no address, bad
	// interval); FirstInvalid is one of their errors.
	Invalid      int
	FirstInvalid string
	// Collisions describes targets that share a key with another target.
	Collisions []string
	// TargetLimit is the target_limit error while it applies.
	TargetLimit string
}
