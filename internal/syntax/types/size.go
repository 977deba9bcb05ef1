package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Size is a number of bytes, such as body_size_limit. It is written as a
// plain number of bytes or as a number with a unit: "512KiB", "10MB",
// "1.5GB", or a sum such as "1GB512MB". As in Prometheus (units.Base2Bytes),
// every unit is a power of two whether or not it has the "i": KB and KiB are
// both 1024 bytes, MB and MiB both 2^20. "kB" and other lower-case SI
// spellings are rejected rather than silently taken as base 2.
type Size int64

// The units of Size.
const (
	Byte Size = 1
	KiB       = 1024 * Byte
	MiB       = 1024 * KiB
	GiB       = 1024 * MiB
	TiB       = 1024 * GiB
	PiB       = 1024 * TiB
	EiB       = 1024 * PiB
)

var sizeUnits = [...]struct {
	name string
	size Size
}{{"EiB", EiB}, {"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}}

func sizeUnit(u string) (Size, bool) {
	switch u {
	case "B":
		return Byte, true
	case "KB", "KiB":
		return KiB, true
	case "MB", "MiB":
		return MiB, true
	case "GB", "GiB":
		return GiB, true
	case "TB", "TiB":
		return TiB, true
	case "PB", "PiB":
		return PiB, true
	case "EB", "EiB":
		return EiB, true
	}
	return 0, false
}

// ParseSize parses a byte size (see Size). The error reads
// `invalid size "10XB"`.
func ParseSize(s string) (Size, error) {
	bad := func() (Size, error) { return 0, fmt.Errorf("invalid size %q", s) }
	rest := strings.TrimSpace(s)
	if rest == "" {
		return bad()
	}
	if n, err := strconv.ParseInt(rest, 10, 64); err == nil {
		if n < 0 {
			return bad()
		}
		return Size(n), nil
	}
	var total float64
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] == '.' || ('0' <= rest[i] && rest[i] <= '9')) {
			i++
		}
		if i == 0 {
			return bad()
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return bad()
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && ('a' <= rest[j] && rest[j] <= 'z' || 'A' <= rest[j] && rest[j] <= 'Z') {
			j++
		}
		unit, ok := sizeUnit(rest[:j])
		if !ok {
			return bad()
		}
		rest = rest[j:]
		total += num * float64(unit)
	}
	if total >= math.MaxInt64 {
		return bad()
	}
	return Size(total), nil
}

// String writes the size with the largest units that divide it, as
// Prometheus does: "10MiB", "1GiB512MiB", "100B"; zero is "0B".
func (s Size) String() string {
	if s == 0 {
		return "0B"
	}
	var b strings.Builder
	n := s
	if n < 0 {
		b.WriteByte('-')
		if n == math.MinInt64 {
			return "-8EiB"
		}
		n = -n
	}
	for _, u := range sizeUnits {
		if q := n / u.size; q > 0 {
			b.WriteString(strconv.FormatInt(int64(q), 10))
			b.WriteString(u.name)
			n -= q * u.size
		}
	}
	if n > 0 {
		b.WriteString(strconv.FormatInt(int64(n), 10))
		b.WriteByte('B')
	}
	return b.String()
}

// Bytes returns s as a plain int64.
func (s Size) Bytes() int64 { return int64(s) }

// MarshalText writes s as String does.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a size as ParseSize does.
func (s *Size) UnmarshalText(text []byte) error {
	v, err := ParseSize(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
