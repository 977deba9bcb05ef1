// Package file is the local.file component: it exports the content of a
// file, such as a password or a token, and exports it again whenever the
// file changes. The content is a secret when is_secret is set, so that it
// never shows in the UI, the API or logs.
//
// It owns reading and watching one file. It does not parse the content;
// the components that reference it do.
package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/stability"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// Detector is how changes to the file are noticed.
type Detector string

const (
	// DetectorFSNotify watches the file's directory for filesystem events
	// (which also catches atomic renames and Kubernetes' symlink swaps),
	// and polls as a safety net.
	DetectorFSNotify Detector = "fsnotify"
	// DetectorPoll re-reads the file every poll_frequency.
	DetectorPoll Detector = "poll"
)

// Arguments are local.file's arguments.
type Arguments struct {
	Filename      string        `alloy:"filename,attr"`
	Detector      Detector      `alloy:"detector,attr,optional"`
	PollFrequency time.Duration `alloy:"poll_frequency,attr,optional"`
	IsSecret      bool          `alloy:"is_secret,attr,optional"`
}

// DefaultArguments watch with fsnotify and poll every minute.
var DefaultArguments = Arguments{
	Detector:      DetectorFSNotify,
	PollFrequency: time.Minute,
}

// SetToDefault sets Alloy's defaults.
func (a *Arguments) SetToDefault() { *a = DefaultArguments }

// Validate checks the detector and the poll frequency.
func (a *Arguments) Validate() error {
	if a.Filename == "" {
		return errors.New("filename must be set")
	}
	switch a.Detector {
	case DetectorFSNotify, DetectorPoll:
	default:
		return fmt.Errorf("unknown detector %q, expected fsnotify or poll", a.Detector)
	}
	if a.PollFrequency <= 0 {
		return fmt.Errorf("poll_frequency must be positive, got %s", a.PollFrequency)
	}
	return nil
}

// Exports are local.file's exports.
type Exports struct {
	Content types.OptionalSecret `alloy:"content,attr"`
}

// debounce coalesces the several events of one write.
const debounce = 50 * time.Millisecond

// Component is a running local.file. It implements component.Component and
// component.HealthComponent.
type Component struct {
	opts     component.Options
	reconfig chan struct{}

	// pub orders publications: a read racing an Update never publishes
	// older content after newer.
	pub sync.Mutex

	mu     sync.Mutex
	args   Arguments
	sent   *Exports // last published
	health component.Health
}

var (
	_ component.Component       = (*Component)(nil)
	_ component.HealthComponent = (*Component)(nil)
)

// New reads the file and exports its content. A file that cannot be read
// fails the component, so that dependants never start with an empty
// secret.
func New(opts component.Options, args Arguments) (*Component, error) {
	c := &Component{opts: opts, reconfig: make(chan struct{}, 1)}
	if err := c.Update(args); err != nil {
		return nil, err
	}
	return c, nil
}

// Update applies new arguments. A new filename is read at once and an
// unreadable one is an error (the previous arguments stay in force).
func (c *Component) Update(args component.Arguments) error {
	a := args.(Arguments)
	if err := a.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	prev := c.args
	c.mu.Unlock()
	if a == prev {
		return nil
	}
	content, err := os.ReadFile(a.Filename)
	if err != nil {
		return fmt.Errorf("reading %s: %w", a.Filename, err)
	}
	c.mu.Lock()
	c.args = a
	c.mu.Unlock()
	c.set(string(content), nil)
	restart := a.Filename != prev.Filename || a.Detector != prev.Detector || a.PollFrequency != prev.PollFrequency
	if prev.Filename != "" && restart {
		select {
		case c.reconfig <- struct{}{}:
		default:
		}
	}
	return nil
}

// CurrentHealth is unhealthy, with the error, while the file cannot be
// read; the last content read stays exported.
func (c *Component) CurrentHealth() component.Health {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.health
}

// Run watches the file until ctx is cancelled.
func (c *Component) Run(ctx context.Context) error {
	for {
		c.mu.Lock()
		a := c.args
		c.mu.Unlock()
		c.watch(ctx, a)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// watch re-reads the file on changes until ctx is cancelled or the
// arguments change.
func (c *Component) watch(ctx context.Context, a Arguments) {
	poll := time.NewTicker(a.PollFrequency)
	defer poll.Stop()
	settle := time.NewTimer(debounce)
	settle.Stop()
	defer settle.Stop()

	var (
		events  <-chan fsnotify.Event
		errs    <-chan error
		w       *fsnotify.Watcher
		watched bool
		dir     = filepath.Dir(a.Filename)
	)
	if a.Detector == DetectorFSNotify {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			c.opts.Logger.Warn("cannot watch the file, polling only", "file", a.Filename, "err", err)
		} else {
			defer w.Close()
			events, errs = w.Events, w.Errors
		}
	}
	addWatch := func() {
		if w == nil || watched {
			return
		}
		// The directory, not the file: editors and Kubernetes replace
		// files by renaming, which ends a watch on the file itself.
		if err := w.Add(dir); err != nil {
			c.opts.Logger.Debug("cannot watch directory yet", "dir", dir, "err", err)
			return
		}
		watched = true
	}
	addWatch()
	// The file may have changed while nothing watched it.
	c.read(a.Filename)

	for {
		select {
		case <-ctx.Done():
			return
		case <-c.reconfig:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Name == dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watched = false
			}
			settle.Reset(debounce)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			c.opts.Logger.Warn("watching file", "file", a.Filename, "err", err)
		case <-settle.C:
			c.read(a.Filename)
		case <-poll.C:
			addWatch()
			c.read(a.Filename)
		}
	}
}

// read reads the file and publishes its content if it changed.
func (c *Component) read(filename string) {
	content, err := os.ReadFile(filename)
	if err != nil {
		c.set("", fmt.Errorf("reading %s: %w", filename, err))
		return
	}
	c.set(string(content), nil)
}

// set records the outcome of a read: the health, and on success the
// content, published if the exports changed.
func (c *Component) set(content string, err error) {
	c.pub.Lock()
	defer c.pub.Unlock()
	c.mu.Lock()
	now := time.Now()
	if err != nil {
		if c.health.State != component.HealthUnhealthy || c.health.Message != err.Error() {
			c.health = component.Health{State: component.HealthUnhealthy, Message: err.Error(), Updated: now}
			c.opts.Logger.Warn("cannot read file, keeping its last content", "err", err)
		}
		c.mu.Unlock()
		return
	}
	if c.health.State != component.HealthHealthy {
		c.health = component.Health{State: component.HealthHealthy, Updated: now}
	}
	e := Exports{Content: types.OptionalSecret{IsSecret: c.args.IsSecret, Value: content}}
	if c.sent != nil && *c.sent == e {
		c.mu.Unlock()
		return
	}
	c.sent = &e
	c.mu.Unlock()
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(e)
	}
}

// Registration registers local.file.
var Registration = component.Registration{
	Name:      "local.file",
	Stability: stability.GenerallyAvailable,
	Args:      Arguments{},
	Exports:   Exports{},
	Build: func(opts component.Options, args component.Arguments) (component.Component, error) {
		return New(opts, args.(Arguments))
	},
}
