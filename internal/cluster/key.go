package cluster

import (
	"slices"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// TargetKey is a target's ownership key: xxhash64 over its labels other
// than __meta_* and the excluded ones, sorted by name, each written as
// name 0xff value 0xff. This is the encoding Alloy uses, and it is frozen:
// nodes of different versions must agree on every key during a rolling
// upgrade.
func TargetKey(lbls labels.Labels, excluded []string) uint64 {
	d := xxhash.New()
	sep := []byte{0xff}
	lbls.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, "__meta_") || slices.Contains(excluded, l.Name) {
			return
		}
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write(sep)
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write(sep)
	})
	return d.Sum64()
}
