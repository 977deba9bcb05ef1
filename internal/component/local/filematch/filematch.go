// Package filematch is the local.file_match component: it expands the
// doublestar glob patterns in the __path__ label of its path_targets into
// one target per matching file, every sync_period and whenever its
// arguments change.
//
// It owns the globbing (github.com/bmatcuk/doublestar/v4, the library
// Alloy uses, so that the same patterns match the same files), the
// __path_exclude__ filter and the ignore_older_than filter. Reading the
// files is the job of whatever consumes the targets.
package filematch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/stability"
)

// Arguments are local.file_match's arguments.
type Arguments struct {
	PathTargets     []discovery.Target `alloy:"path_targets,attr"`
	SyncPeriod      time.Duration      `alloy:"sync_period,attr,optional"`
	IgnoreOlderThan time.Duration      `alloy:"ignore_older_than,attr,optional"`
}

// DefaultArguments sync every 10s and ignore no file for its age.
var DefaultArguments = Arguments{SyncPeriod: 10 * time.Second}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the durations. (Alloy does not, and a sync_period of 0
// panics there.)
func (a *Arguments) Validate() error {
	if a.SyncPeriod <= 0 {
		return errors.New("sync_period must be greater than 0")
	}
	if a.IgnoreOlderThan < 0 {
		return errors.New("ignore_older_than must not be negative")
	}
	return nil
}

// Component is a running local.file_match.
type Component struct {
	opts     component.Options
	reconfig chan struct{}

	// pub serialises syncs, so that they never publish out of order.
	pub  sync.Mutex
	sent []discovery.Target
	has  bool

	mu   sync.Mutex
	args Arguments
}

var _ component.Component = (*Component)(nil)

// New expands the patterns once, so that dependants start with the
// files that exist.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts, reconfig: make(chan struct{}, 1)}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	return c, nil
}

// Update applies new arguments and expands them at once.
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.args = a
	c.mu.Unlock()
	c.sync()
	select {
	case c.reconfig <- struct{}{}:
	default:
	}
	return nil
}

// Run expands the patterns every sync_period until ctx is cancelled.
func (c *Component) Run(ctx context.Context) error {
	for {
		c.mu.Lock()
		period := c.args.SyncPeriod
		c.mu.Unlock()
		t := time.NewTicker(period)
	loop:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-c.reconfig:
				break loop
			case <-t.C:
				c.sync()
			}
		}
		t.Stop()
	}
}

// sync expands the patterns and publishes the targets if they changed.
func (c *Component) sync() {
	c.pub.Lock()
	defer c.pub.Unlock()
	c.mu.Lock()
	a := c.args
	c.mu.Unlock()
	targets := expand(a, time.Now(), c.opts)
	if c.has && sameTargets(c.sent, targets) {
		return
	}
	c.sent, c.has = targets, true
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(discovery.Exports{Targets: targets})
	}
}

// expand returns one target per regular file matching a path target's
// __path__ and not its __path_exclude__, with the path target's labels and
// __path__ set to the file's absolute path; sorted and deduplicated.
func expand(a Arguments, now time.Time, opts component.Options) []discovery.Target {
	out := []discovery.Target{}
	for _, pt := range a.PathTargets {
		pattern := pt["__path__"]
		exclude := pt["__path_exclude__"]
		matches, err := doublestar.FilepathGlob(pattern)
		if err != nil {
			opts.Logger.Error("error getting paths", "path", pattern, "excluded", exclude, "err", err)
			continue
		}
		for _, m := range matches {
			if exclude != "" {
				if ok, _ := doublestar.PathMatch(filepath.FromSlash(exclude), m); ok {
					continue
				}
			}
			abs, err := filepath.Abs(m)
			if err != nil {
				opts.Logger.Error("error getting absolute path", "path", m, "err", err)
				continue
			}
			fi, err := os.Stat(abs)
			if err != nil {
				// Gone since the glob, or not accessible now: the next
				// sync sees it again.
				opts.Logger.Debug("cannot stat a matched path", "path", abs, "err", err)
				continue
			}
			if fi.IsDir() {
				continue
			}
			if a.IgnoreOlderThan != 0 && fi.ModTime().Before(now.Add(-a.IgnoreOlderThan)) {
				continue
			}
			t := make(discovery.Target, len(pt))
			for k, v := range pt {
				t[k] = v
			}
			t["__path__"] = abs
			out = append(out, t)
		}
	}
	return discovery.SortTargets(out)
}

func sameTargets(a, b []discovery.Target) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k, v := range a[i] {
			if w, ok := b[i][k]; !ok || w != v {
				return false
			}
		}
	}
	return true
}

// Registration registers local.file_match.
var Registration = component.Registration{
	Name:      "local.file_match",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   discovery.Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
