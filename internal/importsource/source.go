// Package importsource fetches the text of Alloy modules for the import.file,
// import.string, import.http and import.git blocks, and tells the runtime
// each time it changes. It knows nothing of the language: the runtime parses
// what it delivers, keeps the last good module when a new one fails, and
// reports errors on the importing block's health.
package importsource

import (
	"context"
	"log/slog"
	"time"
)

// Kinds lists the import blocks, by block name.
var Kinds = []string{"import.file", "import.string", "import.http", "import.git"}

// Content is one version of a module's source: its .alloy files by name.
// import.string and import.http give one file; import.file of a directory
// and import.git of a directory give every .alloy file in it.
type Content struct {
	Files map[string][]byte
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
	Run(ctx context.Context, update func(Content, error)) error
	// Update applies new arguments of the same kind in place.
	Update(args any) error
}
