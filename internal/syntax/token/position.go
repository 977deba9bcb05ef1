package token

import (
	"fmt"
	"sort"
)

// Position is a human-readable source position.
type Position struct {
	Filename string // may be empty
	Offset   int    // byte offset, starting at 0
	Line     int    // line number, starting at 1
	Column   int    // column number in bytes, starting at 1
}

// IsValid reports whether the position is known.
func (p Position) IsValid() bool { return p.Line > 0 }

// String returns "file:line:col", "line:col" without a file name, "file"
// without a line, or "-" when nothing is known.
func (p Position) String() string {
	s := p.Filename
	if p.IsValid() {
		if s != "" {
			s += ":"
		}
		s += fmt.Sprintf("%d:%d", p.Line, p.Column)
	}
	if s == "" {
		s = "-"
	}
	return s
}

// File records the line starts of one source file so that a Pos can be
// turned into a Position. Files are immutable once the scanner has finished
// with them; a File is safe for concurrent readers after that.
type File struct {
	name  string
	lines []int // offsets of the first byte of each line; lines[0] == 0
}

// NewFile returns a File named filename with one line starting at offset 0.
func NewFile(filename string) *File {
	return &File{name: filename, lines: []int{0}}
}

// Name returns the file name given to NewFile.
func (f *File) Name() string { return f.name }

// AddLine records that a new line starts at offset. Offsets must increase;
// others are ignored, so rescanning a prefix is harmless.
func (f *File) AddLine(offset int) {
	if n := len(f.lines); n == 0 || f.lines[n-1] < offset {
		f.lines = append(f.lines, offset)
	}
}

// LineCount returns the number of lines recorded.
func (f *File) LineCount() int { return len(f.lines) }

// LineStart returns the offset of the first byte of line (1-based), or -1.
func (f *File) LineStart(line int) int {
	if line < 1 || line > len(f.lines) {
		return -1
	}
	return f.lines[line-1]
}

// Pos returns the Pos of the byte at offset in f.
func (f *File) Pos(offset int) Pos { return Pos{file: f, off: offset} }

// Position returns the Position of offset in f.
func (f *File) Position(offset int) Position {
	i := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > offset }) - 1
	if i < 0 {
		i = 0
	}
	return Position{
		Filename: f.name,
		Offset:   offset,
		Line:     i + 1,
		Column:   offset - f.lines[i] + 1,
	}
}

// Pos is a compact position: a byte offset in a File. The zero Pos is NoPos.
// Pos values carry their File, so any stage can report Position() without
// a separate file set.
type Pos struct {
	file *File
	off  int
}

// NoPos is the unknown position.
var NoPos = Pos{}

// IsValid reports whether p is a known position.
func (p Pos) IsValid() bool { return p.file != nil }

// File returns the file p belongs to, or nil.
func (p Pos) File() *File { return p.file }

// Offset returns p's byte offset in its file.
func (p Pos) Offset() int { return p.off }

// Add returns the position n bytes after p.
func (p Pos) Add(n int) Pos {
	if p.file == nil {
		return p
	}
	return Pos{file: p.file, off: p.off + n}
}

// Before reports whether p comes before q in the same file.
func (p Pos) Before(q Pos) bool { return p.off < q.off }

// Position expands p into a Position; NoPos gives the zero Position.
func (p Pos) Position() Position {
	if p.file == nil {
		return Position{}
	}
	return p.file.Position(p.off)
}

// String returns p.Position().String().
func (p Pos) String() string { return p.Position().String() }
