package relabel

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// FuzzRelabel builds a rule from arbitrary fields and applies it to
// arbitrary labels. Conversion may reject the rule, but a rule it accepts
// must never panic when applied, and must produce valid, sorted labels.
func FuzzRelabel(f *testing.F) {
	f.Add("replace", "a;b", ";", "(.*)", "x", "$1", uint64(0), "a=1,b=2")
	f.Add("hashmod", "__address__", ";", "(.*)", "shard", "$1", uint64(3), "__address__=h:1")
	f.Add("labelmap", "", ";", "__meta_(.+)", "", "$1", uint64(0), "__meta_k=v,__meta_=e")
	f.Add("keepequal", "a", ";", "(.*)", "b", "$1", uint64(0), "a=1,b=1")
	f.Add("labeldrop", "", ";", ".*", "", "$1", uint64(0), "a=1")
	f.Add("replace", "a", ";", "(.*)", "${1}_x", "v", uint64(0), "a=ä,b=")
	f.Fuzz(func(t *testing.T, action, src, sep, regex, target, repl string, mod uint64, in string) {
		c := Config{
			Separator:   sep,
			Regex:       regex,
			Modulus:     mod,
			TargetLabel: target,
			Replacement: repl,
			Action:      Action(action),
		}
		if src != "" {
			c.SourceLabels = strings.Split(src, ";")
		}
		pc, err := c.Prometheus()
		if err != nil {
			return
		}
		b := labels.NewScratchBuilder(0)
		for _, kv := range strings.Split(in, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k != "" {
				b.Add(k, v)
			}
		}
		b.Sort()
		lb := labels.NewBuilder(b.Labels())
		if relabel.ProcessBuilder(lb, pc) {
			out := lb.Labels()
			prev := ""
			out.Range(func(l labels.Label) {
				if l.Name == "" || l.Value == "" {
					t.Fatalf("result has an empty name or value: %s", out)
				}
				if l.Name < prev {
					t.Fatalf("result not sorted: %s", out)
				}
				prev = l.Name
			})
		}
	})
}
