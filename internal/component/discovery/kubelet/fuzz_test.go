package kubelet

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzPodGroups feeds arbitrary /pods answers through the decoding and the
// labelling: nothing may panic, every target has an address, and a pod
// list decoded twice leaves nothing to remove.
func FuzzPodGroups(f *testing.F) {
	f.Add(podsJSON)
	f.Add(emptyJSON)
	f.Fuzz(func(t *testing.T, body string) {
		var pods corev1.PodList
		if err := json.NewDecoder(strings.NewReader(body)).Decode(&pods); err != nil {
			return
		}
		d := &discoverer{}
		first := d.groups(pods)
		for _, g := range first {
			for _, tg := range g.Targets {
				if tg["__address__"] == "" {
					t.Fatalf("target without an address: %v", tg)
				}
			}
		}
		again := d.groups(pods)
		if len(again) != len(first) {
			t.Fatalf("the same list twice gave %d then %d groups", len(first), len(again))
		}
	})
}
