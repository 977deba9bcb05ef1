package scrape

import (
	"bytes"
	"math"
	"strconv"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
)

// The known-line fast path of the text format.
//
// textparse lexes every byte of every line, validates label values as
// UTF-8 and builds label offsets, although a steady target sends the same
// series lines scrape after scrape with only the values changing. In the
// text format (unlike OpenMetrics) every line stands alone: the lexer
// starts each line afresh, so a line can be parsed without the ones around
// it. The fast path uses that: it finds a line's series part (the metric
// name and the braces) by a plain scan, and when those exact bytes are in
// the series cache, textparse has already accepted them, so only the value
// and the timestamp are left to read. Comment lines that textparse has
// already accepted are remembered by their hash and skipped.
//
// Anything else — a new series, a new comment, a line the strict scan below
// does not accept, a value that does not parse — is handed, that one line
// alone, to textparse; if textparse does not accept the line alone, the
// rest of the body from that line goes to textparse in one piece, which
// parses it (or fails the scrape with its own error) exactly as it would
// have. The fast path therefore never accepts a line textparse rejects, and
// never reads a value differently; FuzzKnownTextMatchesTextparse checks
// that.

// parseKnownText parses a text-format body line by line, through the fast
// path where it can. It returns the number of bytes handled; the rest, from
// the start of a line, goes to textparse as one piece. It hands over the
// whole body on a first scrape (its lines are all new, which one parser
// reads faster) and when the body holds a NUL byte (which ends a body early
// in textparse's lexer).
func (p *parser) parseKnownText(body []byte, st *emitState) (int, error) {
	if p.cache.len() == 0 || bytes.IndexByte(body, 0) >= 0 {
		return 0, nil
	}
	for i := 0; i < len(body); {
		end := bytes.IndexByte(body[i:], '\n')
		if end < 0 {
			// The last line has no line break; textparse adds one.
			return i, nil
		}
		line := body[i : i+end+1]
		switch line[0] {
		case '\n':
		case '#':
			h := xxhash.Sum64(line)
			if p.cache.knownComment(h) {
				break
			}
			if ok, err := p.parseLine(line, st); !ok || err != nil {
				return i, err
			}
			p.cache.addComment(h)
		default:
			if p.knownSample(line, st) {
				break
			}
			if ok, err := p.parseLine(line, st); !ok || err != nil {
				return i, err
			}
		}
		i += end + 1
	}
	return len(body), nil
}

// parseLine parses one line, line break included, with textparse alone.
// It reports false, having changed nothing, when textparse does not accept
// the line on its own: a quoted string may hold a line break, so only
// textparse reading on from this line can tell. An error is final (a
// limit or an invalid label set).
func (p *parser) parseLine(line []byte, st *emitState) (bool, error) {
	tp := textparse.NewPromParser(line, p.symbols, p.opts.EnableTypeAndUnitLabels)
	et, err := tp.Next()
	if err != nil {
		return false, nil
	}
	// Every entry of the text format ends with its line break, so the
	// line is read whole.
	if et != textparse.EntrySeries {
		p.noteMeta(tp, et)
		return true, nil
	}
	raw, ts, v := tp.Series()
	return true, p.entry(tp, raw, ts, v, nil, nil, st)
}

// knownSample handles a sample line whose series is cached and whose value
// and timestamp read plainly. It reports false, having changed nothing,
// when the line must go to textparse instead.
func (p *parser) knownSample(line []byte, st *emitState) bool {
	n := seriesEnd(line)
	if n <= 0 {
		return false
	}
	e := p.cache.get(line[:n])
	if e == nil {
		return false
	}
	v, ts, hasTS, ok := readValue(line[n:])
	if !ok {
		return false
	}
	st.res.total++
	var tsp *int64
	if hasTS {
		tsp = &ts
	}
	// A text-format sample has neither histogram nor exemplars, and emit
	// fails only on histograms.
	_, _, _ = p.emit(e, false, tsp, v, nil, nil, st)
	return true
}

// seriesEnd returns the length of a line's series part as textparse would
// delimit it for a well-formed line: a metric name, or a metric name or
// nothing followed by braces up to the first '}' outside a quoted string.
// It returns 0 when the line does not have that shape; the caller then
// lets textparse judge the line.
func seriesEnd(line []byte) int {
	i := 0
	if i < len(line) && isNameStart(line[i]) {
		i++
		for i < len(line) && isNameChar(line[i]) {
			i++
		}
		if i == len(line) || line[i] != '{' {
			return i
		}
	}
	if i == len(line) || line[i] != '{' {
		return 0
	}
	for i++; i < len(line); i++ {
		switch line[i] {
		case '\n':
			return 0
		case '}':
			return i + 1
		case '"':
			// Jump to the closing quote; a backslash in between may
			// escape it, so then walk the string byte by byte.
			q := bytes.IndexByte(line[i+1:], '"')
			if q < 0 {
				return 0
			}
			if bytes.IndexByte(line[i+1:i+1+q], '\\') < 0 {
				i += q + 1
				continue
			}
			for i++; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' {
					i++
				}
			}
		}
	}
	return 0
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
}

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// readValue reads what follows the series part of a line: blanks, the
// value, optionally blanks and a timestamp, blanks and the line break. It
// accepts a subset of what textparse accepts, and reads it the same way
// (the float syntax textparse allows, NaN made canonical); ok is false for
// anything else.
func readValue(rest []byte) (v float64, ts int64, hasTS, ok bool) {
	i := skipBlanks(rest, 0)
	if i == 0 {
		// textparse allows a value right after '}', but such lines are
		// rare enough to leave to it.
		return 0, 0, false, false
	}
	start := i
	for ; i < len(rest); i++ {
		c := rest[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '{' {
			break
		}
		if c == 'p' || c == 'P' || c == '_' {
			// Float syntax textparse rejects (hexadecimal exponents,
			// underscores); it says why.
			return 0, 0, false, false
		}
	}
	if i == start {
		return 0, 0, false, false
	}
	v, err := strconv.ParseFloat(unsafe.String(&rest[start], i-start), 64)
	if err != nil {
		return 0, 0, false, false
	}
	if math.IsNaN(v) {
		v = math.Float64frombits(value.NormalNaN)
	}
	j := skipBlanks(rest, i)
	if j < len(rest) && j > i && rest[j] >= '0' && rest[j] <= '9' {
		start = j
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		ts, err = strconv.ParseInt(unsafe.String(&rest[start], j-start), 10, 64)
		if err != nil {
			return 0, 0, false, false
		}
		hasTS = true
		j = skipBlanks(rest, j)
	}
	if j != len(rest)-1 || rest[j] != '\n' {
		return 0, 0, false, false
	}
	return v, ts, hasTS, true
}

func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}
