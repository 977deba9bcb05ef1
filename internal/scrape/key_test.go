package scrape

import (
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/model/labels"
)

func TestKeyEncodingIsFrozen(t *testing.T) {
	lbls := labels.FromStrings(
		"__address__", "10.0.0.1:9100",
		"__meta_kubernetes_pod_name", "pod-a",
		"__metrics_path__", "/metrics",
		"job", "node",
	)
	// The documented encoding, written out by hand.
	want := xxhash.Sum64String("__address__\xff10.0.0.1:9100\xff__metrics_path__\xff/metrics\xffjob\xffnode\xff")
	if got := Key(lbls, nil); got != want {
		t.Fatalf("Key = %016x, want %016x", got, want)
	}
	// A fixed value, so that a change of encoding cannot pass unnoticed.
	if got := Key(lbls, nil); got != 0xd23a2a2a2f144070 {
		t.Fatalf("Key changed: %016x", got)
	}
}

func TestKeyIgnoresMetaLabelsAndExcludedLabels(t *testing.T) {
	base := labels.FromStrings("__address__", "a:1", "job", "j", "host", "node-1")
	withMeta := labels.FromStrings("__address__", "a:1", "job", "j", "host", "node-1", "__meta_x", "y")
	if Key(base, nil) != Key(withMeta, nil) {
		t.Fatal("__meta_* labels changed the key")
	}
	other := labels.FromStrings("__address__", "a:1", "job", "j", "host", "node-2")
	if Key(base, nil) == Key(other, nil) {
		t.Fatal("a differing label did not change the key")
	}
	if Key(base, []string{"host"}) != Key(other, []string{"host"}) {
		t.Fatal("an excluded label changed the key")
	}
}

func TestKeyOfNoLabelsIsTheEmptyHash(t *testing.T) {
	if Key(labels.EmptyLabels(), nil) != xxhash.Sum64(nil) {
		t.Fatal("empty key is not xxhash64 of nothing")
	}
}
