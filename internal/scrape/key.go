package scrape

import (
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

// metaPrefix starts the discovery labels that never take part in the key.
const metaPrefix = "__meta_"

// Key returns the target key that clustering assigns owners by and that
// places the target on the tick grid.
//
// The encoding is frozen, since rolling upgrades depend on every version
// computing the same key: xxhash64 over the target's labels in ascending
// order of name, skipping every label whose name starts with "__meta_" and
// every label named in excluded, each written as the name, the byte 0xff, the
// value and the byte 0xff. lbls are the labels the scrape component receives
// in its targets argument (after discovery.relabel), including __address__,
// __scheme__, __metrics_path__ and the like. A target with no labels left
// hashes the empty input.
func Key(lbls labels.Labels, excluded []string) uint64 {
	d := xxhash.New()
	sep := []byte{0xff}
	lbls.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, metaPrefix) || contains(excluded, l.Name) {
			return
		}
		_, _ = d.WriteString(l.Name)
		_, _ = d.Write(sep)
		_, _ = d.WriteString(l.Value)
		_, _ = d.Write(sep)
	})
	return d.Sum64()
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
