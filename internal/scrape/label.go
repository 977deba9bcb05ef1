package scrape

import (
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// labeler turns the labels a target exposes for a series into the labels
// shoal sends, as Prometheus does: the target's labels are added; with
// honor_labels the exposed value wins a conflict, otherwise the exposed
// label is kept as exported_<name> (exported_exported_<name> if that is
// taken too); then metric relabeling runs. It reuses its builder and is not
// safe for concurrent use.
type labeler struct {
	target    labels.Labels
	honor     bool
	relabel   []*relabel.Config
	lb        *labels.Builder
	conflicts []labels.Label
}

func newLabeler(target labels.Labels, honor bool, rc []*relabel.Config) *labeler {
	return &labeler{target: target, honor: honor, relabel: rc, lb: labels.NewBuilder(labels.EmptyLabels())}
}

// apply returns the final labels of a series, or empty labels when metric
// relabeling drops it.
func (l *labeler) apply(exposed labels.Labels) labels.Labels {
	lb := l.lb
	lb.Reset(exposed)
	if l.honor {
		l.target.Range(func(t labels.Label) {
			if !exposed.Has(t.Name) {
				lb.Set(t.Name, t.Value)
			}
		})
	} else {
		l.conflicts = l.conflicts[:0]
		l.target.Range(func(t labels.Label) {
			if v := exposed.Get(t.Name); v != "" {
				l.conflicts = append(l.conflicts, labels.Label{Name: t.Name, Value: v})
			}
			lb.Set(t.Name, t.Value)
		})
		// Shorter names first, so that exported_a is claimed by a before
		// exported_a could be claimed by anything longer.
		slices.SortStableFunc(l.conflicts, func(a, b labels.Label) int { return len(a.Name) - len(b.Name) })
		for _, c := range l.conflicts {
			name := c.Name
			for {
				name = model.ExportedLabelPrefix + name
				if lb.Get(name) == "" {
					lb.Set(name, c.Value)
					break
				}
			}
		}
	}
	if len(l.relabel) > 0 && !relabel.ProcessBuilder(lb, l.relabel...) {
		return labels.EmptyLabels()
	}
	return lb.Labels()
}
