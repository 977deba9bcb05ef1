// Package importsource fetches the text of Alloy modules for the import.file,
// import.string, import.http and import.git blocks, and tells the runtime
// each time it changes. It knows nothing of the language: the runtime parses
// what it delivers, keeps the last good module when a new one fails, and
// reports errors on the importing block's health.
//
// Arguments gives the arguments struct of a kind, for the runtime to decode
// the block into; New builds the Source that runs it.
package importsource

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Kinds lists the import blocks, by block name.
var Kinds = []string{"import.file", "import.string", "import.http", "import.git"}

// Content is one version of a module's source: its .alloy files by name.
// import.string and import.http give one file; import.file of a directory
// and import.git of a directory give every .alloy file in it (not those of
// subdirectories).
//
// The names are what errors should cite: the path on disk for import.file
// and import.git (the file in the local clone), the URL for import.http
// (without any password written in it), and "import_string" for
// import.string.
type Content struct {
	Files map[string][]byte
	// ModulePath is the value of module_path inside the module, as in
	// Alloy: the directory of the file (or the directory itself) for
	// import.file, the local clone for import.git, the URL without its
	// last element for import.http. It is empty for import.string, whose
	// module inherits the importer's module_path.
	ModulePath string
}

// Equal reports whether c and o have the same files, byte for byte, and the
// same module path.
func (c Content) Equal(o Content) bool {
	if c.ModulePath != o.ModulePath || len(c.Files) != len(o.Files) {
		return false
	}
	for name, b := range c.Files {
		ob, ok := o.Files[name]
		if !ok || !bytes.Equal(b, ob) {
			return false
		}
	}
	return true
}

// Options are what a Source is built with besides its arguments.
type Options struct {
	Logger *slog.Logger
	// DataPath is a directory the source may use (import.git clones here).
	DataPath string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Source is one running import block.
type Source interface {
	// Run delivers the content, then keeps polling or watching, calling
	// update with each new content (only when it changed) or with each
	// failure, until ctx is done. The first call to update happens before
	// Run returns for the first time only if the caller waits for it.
	//
	// After a failure, the next success is delivered even if the content
	// is what it was before the failure, so that the caller can clear the
	// error. update is never called concurrently with itself.
	Run(ctx context.Context, update func(Content, error)) error
	// Update applies new arguments of the same kind in place. Arguments
	// that differ make Run fetch again at once; a refused update leaves
	// the previous arguments in force.
	Update(args any) error
}

// Arguments returns a pointer to a fresh arguments struct for kind, with
// Alloy's defaults set, for the runtime to decode the block into; nil for
// an unknown kind.
func Arguments(kind string) any {
	switch kind {
	case "import.file":
		a := &FileArguments{}
		a.SetToDefault()
		return a
	case "import.string":
		return &StringArguments{}
	case "import.http":
		a := &HTTPArguments{}
		a.SetToDefault()
		return a
	case "import.git":
		a := &GitArguments{}
		a.SetToDefault()
		return a
	}
	return nil
}

// New builds the Source for kind from args, as returned by Arguments (a
// pointer) or the struct itself. It validates the arguments and does no
// I/O: the first fetch happens in Run.
func New(kind string, args any, opts Options) (Source, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	switch kind {
	case "import.file":
		return newFile(args, opts)
	case "import.string":
		return newString(args, opts)
	case "import.http":
		return newHTTP(args, opts)
	case "import.git":
		return newGit(args, opts)
	}
	return nil, fmt.Errorf("unknown import block %q", kind)
}

// argsOf returns args as a T, from a T or a *T.
func argsOf[T any](kind string, args any) (T, error) {
	switch a := args.(type) {
	case T:
		return a, nil
	case *T:
		if a != nil {
			return *a, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("%s: arguments of type %T, expected %T", kind, args, &zero)
}

// validator is the arguments structs' Validate.
type validator interface{ Validate() error }

// checked returns args as a T, validated.
func checked[T any, PT interface {
	*T
	validator
}](kind string, args any) (T, error) {
	a, err := argsOf[T](kind, args)
	if err != nil {
		return a, err
	}
	if err := PT(&a).Validate(); err != nil {
		return a, fmt.Errorf("%s: %w", kind, err)
	}
	return a, nil
}

// sink delivers to update: content only when it differs from the last
// content delivered, or when the last delivery was a failure.
type sink struct {
	update func(Content, error)
	last   Content
	good   bool
}

func (s *sink) content(c Content) {
	if s.good && s.last.Equal(c) {
		return
	}
	s.last, s.good = c, true
	s.update(c, nil)
}

func (s *sink) fail(err error) {
	s.good = false
	s.update(Content{}, err)
}

// signal wakes Run after an Update without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
