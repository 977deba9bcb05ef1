package discovery

import "testing"

// FuzzDecodeTargets: a shared list's payload either fails to decode or
// gives sorted targets with valid label names that encode back to a
// payload which decodes to the same.
func FuzzDecodeTargets(f *testing.F) {
	f.Add([]byte(`[{"__address__":"a:1","job":"x"},{"__address__":"b:1"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[null]`))
	f.Add([]byte(`[{"1bad":"x"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := decodeTargets(b)
		if err != nil {
			return
		}
		for _, tg := range ts {
			for k := range tg {
				if !validLabelName(k) {
					t.Fatalf("accepted label name %q", k)
				}
			}
		}
		again, err := decodeTargets(encodeTargets(ts))
		if err != nil || !sameTargets(ts, again) {
			t.Fatalf("round trip changed %v into %v (%v)", ts, again, err)
		}
	})
}
