package importsource

import (
	"context"
	"sync"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// StringArguments are import.string's arguments. content takes a string or
// a secret, such as another component's export.
type StringArguments struct {
	Content types.OptionalSecret `alloy:"content,attr"`
}

// Validate accepts any content: an empty module is valid.
func (a *StringArguments) Validate() error { return nil }

// stringName is the one file's name, as in Alloy.
const stringName = "import_string"

type stringSource struct {
	mu      sync.Mutex
	args    StringArguments
	changed chan struct{}
}

func newString(args any, _ Options) (Source, error) {
	a, err := checked[StringArguments]("import.string", args)
	if err != nil {
		return nil, err
	}
	return &stringSource{args: a, changed: make(chan struct{}, 1)}, nil
}

// Run delivers the content, then each new content that Update brings.
func (s *stringSource) Run(ctx context.Context, update func(Content, error)) error {
	out := sink{update: update}
	for {
		s.mu.Lock()
		c := Content{Files: map[string][]byte{stringName: []byte(s.args.Content.Value)}}
		s.mu.Unlock()
		out.content(c)
		select {
		case <-ctx.Done():
			return nil
		case <-s.changed:
		}
	}
}

func (s *stringSource) Update(args any) error {
	a, err := checked[StringArguments]("import.string", args)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.args = a
	s.mu.Unlock()
	signal(s.changed)
	return nil
}
