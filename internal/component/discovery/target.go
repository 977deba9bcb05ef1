package discovery

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
)

// Target is one discovered target: its labels by name, such as
// __address__, __meta_kubernetes_pod_name or job. In the config it is an
// element of a list(map(string)).
type Target map[string]string

// Exports is what every discovery component publishes.
type Exports struct {
	Targets []Target `alloy:"targets,attr"`
}

// Labels returns t as sorted prometheus labels.
func (t Target) Labels() labels.Labels {
	b := labels.NewScratchBuilder(len(t))
	for k, v := range t {
		b.Add(k, v)
	}
	b.Sort()
	return b.Labels()
}

// TargetFromLabels is the inverse of Target.Labels.
func TargetFromLabels(ls labels.Labels) Target {
	t := make(Target, ls.Len())
	ls.Range(func(l labels.Label) { t[l.Name] = l.Value })
	return t
}

// SortTargets sorts ts deterministically (by their sorted label pairs,
// as labels.Compare orders them) and removes duplicates (targets
// with equal label sets), returning the shortened slice.
func SortTargets(ts []Target) []Target {
	type keyed struct {
		ls labels.Labels
		t  Target
	}
	ks := make([]keyed, len(ts))
	for i, t := range ts {
		ks[i] = keyed{t.Labels(), t}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return labels.Compare(a.ls, b.ls) })
	out := ts[:0]
	for i, k := range ks {
		if i > 0 && labels.Equal(ks[i-1].ls, k.ls) {
			continue
		}
		out = append(out, k.t)
	}
	clear(ts[len(out):])
	return out
}

// targetsFromGroups flattens target groups into targets: each target gets
// its group's labels, which its own labels override, as Prometheus and
// Alloy do. Groups are visited in the order of their sources so that the
// result does not depend on map iteration; the result is sorted and
// deduplicated.
func targetsFromGroups(groups map[string]*targetgroup.Group) []Target {
	sources := make([]string, 0, len(groups))
	n := 0
	for src, g := range groups {
		sources = append(sources, src)
		n += len(g.Targets)
	}
	slices.SortFunc(sources, strings.Compare)
	out := make([]Target, 0, n)
	for _, src := range sources {
		g := groups[src]
		for _, tls := range g.Targets {
			t := make(Target, len(g.Labels)+len(tls))
			for k, v := range g.Labels {
				t[string(k)] = string(v)
			}
			for k, v := range tls {
				t[string(k)] = string(v)
			}
			out = append(out, t)
		}
	}
	return SortTargets(out)
}

// sameTargets reports whether two sorted target lists are equal.
func sameTargets(a, b []Target) bool {
	return slices.EqualFunc(a, b, func(x, y Target) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || w != v {
				return false
			}
		}
		return true
	})
}
