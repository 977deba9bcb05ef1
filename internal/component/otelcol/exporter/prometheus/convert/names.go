package convert

import (
	"slices"
	"strings"
	"unicode"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The Prometheus names of OTLP's UCUM units, as the OpenTelemetry
// Collector's Prometheus translator (and so Alloy) spells them.
var mainUnits = map[string]string{
	"d": "days", "h": "hours", "min": "minutes", "s": "seconds",
	"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds",
	"By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes", "GiBy": "gibibytes",
	"TiBy": "tibibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes",
	"TBy": "terabytes",
	"m":   "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts", "g": "grams",
	"Cel": "celsius", "Hz": "hertz", "1": "", "%": "percent",
}

// perUnits name the denominator of a rate unit ("By/s": bytes_per_second).
var perUnits = map[string]string{
	"s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month", "y": "year",
}

func notAlphanumeric(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// words splits s at every run of characters that are neither letters nor
// digits.
func words(s string) []string { return strings.FieldsFunc(s, notAlphanumeric) }

// unitWord is the Prometheus word for one side of an OTLP unit: "" for an
// empty side or one in {braces} (an annotation, not a unit).
func unitWord(side string, table map[string]string) string {
	side = strings.TrimSpace(side)
	if side == "" || strings.ContainsAny(side, "{}") {
		return ""
	}
	if w, ok := table[side]; ok {
		side = w
	}
	return strings.Join(words(side), "_")
}

// MetricName is the Prometheus name of m. With suffixes, the name is split
// into words, the unit is appended unless a word already spells it ("By/s"
// becomes bytes_per_second), monotonic sums end in _total and gauges of
// unit "1" in _ratio. Without, characters outside [A-Za-z0-9_:] become
// underscores. A name starting with a digit gets a leading underscore.
func MetricName(m pmetric.Metric, suffixes bool) string {
	var name string
	if !suffixes {
		name = strings.Join(strings.FieldsFunc(m.Name(), func(r rune) bool {
			return notAlphanumeric(r) && r != '_' && r != ':'
		}), "_")
	} else {
		toks := words(m.Name())
		unit, per, _ := strings.Cut(m.Unit(), "/")
		if w := unitWord(unit, mainUnits); w != "" && !slices.Contains(toks, w) {
			toks = append(toks, w)
		}
		if w := unitWord(per, perUnits); w != "" && !slices.Contains(toks, w) {
			toks = append(toks, "per", w)
		}
		if m.Type() == pmetric.MetricTypeSum && m.Sum().IsMonotonic() {
			toks = append(slices.DeleteFunc(toks, func(s string) bool { return s == "total" }), "total")
		}
		if m.Unit() == "1" && m.Type() == pmetric.MetricTypeGauge {
			toks = append(slices.DeleteFunc(toks, func(s string) bool { return s == "ratio" }), "ratio")
		}
		name = strings.Join(toks, "_")
	}
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	return name
}

// LabelName is the Prometheus label name of the attribute key k: every
// character that is not a letter or digit becomes an underscore, a name
// starting with a digit gets "key_" in front and one starting with a single
// underscore "key".
func LabelName(k string) string {
	if k == "" {
		return k
	}
	k = strings.Map(func(r rune) rune {
		if notAlphanumeric(r) {
			return '_'
		}
		return r
	}, k)
	switch {
	case k[0] >= '0' && k[0] <= '9':
		return "key_" + k
	case k[0] == '_' && !strings.HasPrefix(k, "__"):
		return "key" + k
	}
	return k
}
