package importsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/shoal-dev/shoal/internal/component/local/file"
)

// FileArguments are import.file's arguments: a file, or a directory whose
// .alloy files make one module.
type FileArguments struct {
	Filename      string        `alloy:"filename,attr"`
	Detector      file.Detector `alloy:"detector,attr,optional"`
	PollFrequency time.Duration `alloy:"poll_frequency,attr,optional"`
}

// DefaultFileArguments watch with fsnotify and poll every minute, as Alloy
// does.
var DefaultFileArguments = FileArguments{
	Detector:      file.DetectorFSNotify,
	PollFrequency: time.Minute,
}

// SetToDefault sets Alloy's defaults.
func (a *FileArguments) SetToDefault() { *a = DefaultFileArguments }

// Validate checks the detector and the poll frequency.
func (a *FileArguments) Validate() error {
	if a.Filename == "" {
		return errors.New("filename must be set")
	}
	switch a.Detector {
	case file.DetectorFSNotify, file.DetectorPoll:
	default:
		return fmt.Errorf("unknown detector %q, expected fsnotify or poll", a.Detector)
	}
	if a.PollFrequency <= 0 {
		return fmt.Errorf("poll_frequency must be positive, got %s", a.PollFrequency)
	}
	return nil
}

// settleDelay coalesces the several events of one write, and keeps a
// half-written file from being read.
const settleDelay = 50 * time.Millisecond

type fileSource struct {
	opts    Options
	mu      sync.Mutex
	args    FileArguments
	changed chan struct{}
}

func newFile(args any, opts Options) (Source, error) {
	a, err := checked[FileArguments]("import.file", args)
	if err != nil {
		return nil, err
	}
	return &fileSource{opts: opts, args: a, changed: make(chan struct{}, 1)}, nil
}

func (s *fileSource) Update(args any) error {
	a, err := checked[FileArguments]("import.file", args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := a == s.args
	s.args = a
	s.mu.Unlock()
	if !same {
		signal(s.changed)
	}
	return nil
}

func (s *fileSource) Run(ctx context.Context, update func(Content, error)) error {
	out := sink{update: update}
	for {
		s.mu.Lock()
		a := s.args
		s.mu.Unlock()
		s.watch(ctx, a, &out)
		if ctx.Err() != nil {
			return nil
		}
	}
}

// watch delivers the module now and on every change, until ctx is done or
// the arguments change.
func (s *fileSource) watch(ctx context.Context, a FileArguments, out *sink) {
	poll := time.NewTicker(a.PollFrequency)
	defer poll.Stop()
	settle := time.NewTimer(settleDelay)
	settle.Stop()
	defer settle.Stop()

	var (
		w       *fsnotify.Watcher
		events  <-chan fsnotify.Event
		errs    <-chan error
		watched string
	)
	if a.Detector == file.DetectorFSNotify {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			s.opts.Logger.Warn("cannot watch the module, polling only", "filename", a.Filename, "err", err)
		} else {
			defer w.Close()
			events, errs = w.Events, w.Errors
		}
	}
	// rewatch watches the directory that holds the module's files: the
	// directory named, or the file's directory (a watch on a file ends when
	// an editor or Kubernetes replaces it by a rename).
	rewatch := func() {
		if w == nil {
			return
		}
		dir := a.Filename
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			dir = filepath.Dir(dir)
		}
		if dir == watched {
			return
		}
		if watched != "" {
			_ = w.Remove(watched)
			watched = ""
		}
		if err := w.Add(dir); err != nil {
			s.opts.Logger.Debug("cannot watch directory yet", "dir", dir, "err", err)
			return
		}
		watched = dir
	}
	read := func() {
		rewatch()
		c, err := readModule(a.Filename)
		if err != nil {
			s.opts.Logger.Warn("cannot read module", "filename", a.Filename, "err", err)
			out.fail(err)
			return
		}
		out.content(c)
	}
	read()

	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Name == watched && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watched = ""
			}
			settle.Reset(settleDelay)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.opts.Logger.Warn("watching the module", "filename", a.Filename, "err", err)
		case <-settle.C:
			read()
		case <-poll.C:
			read()
		}
	}
}

// readModule reads a file, or the .alloy files of a directory (not of its
// subdirectories), named by their paths.
func readModule(name string) (Content, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return Content{}, err
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(name)
		if err != nil {
			return Content{}, err
		}
		return Content{Files: map[string][]byte{name: b}, ModulePath: filepath.Dir(name)}, nil
	}
	entries, err := os.ReadDir(name)
	if err != nil {
		return Content{}, err
	}
	c := Content{Files: map[string][]byte{}, ModulePath: name}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".alloy") {
			continue
		}
		p := filepath.Join(name, e.Name())
		// Stat follows symbolic links, as in a Kubernetes ConfigMap mount.
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return Content{}, err
			}
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // removed since the listing
			}
			return Content{}, err
		}
		c.Files[p] = b
	}
	return c, nil
}
