package stability

import (
	"strings"
	"testing"
)

func TestParseRoundTrips(t *testing.T) {
	for _, l := range []Level{Experimental, PublicPreview, GenerallyAvailable} {
		got, err := Parse(l.String())
		if err != nil || got != l {
			t.Fatalf("Parse(%q) = %v, %v; want %v", l.String(), got, err, l)
		}
	}
	if _, err := Parse("beta"); err == nil {
		t.Fatal("Parse(beta) accepted")
	}
}

func TestPermits(t *testing.T) {
	cases := []struct {
		min, have Level
		want      bool
	}{
		{GenerallyAvailable, Experimental, false},
		{GenerallyAvailable, PublicPreview, false},
		{GenerallyAvailable, GenerallyAvailable, true},
		{GenerallyAvailable, Undefined, true},
		{PublicPreview, Experimental, false},
		{PublicPreview, PublicPreview, true},
		{Experimental, Experimental, true},
		{Experimental, GenerallyAvailable, true},
	}
	for _, c := range cases {
		if got := c.min.Permits(c.have); got != c.want {
			t.Errorf("%v.Permits(%v) = %v, want %v", c.min, c.have, got, c.want)
		}
	}
	err := Check(GenerallyAvailable, Experimental, `function "array.group_by"`)
	if err == nil || !strings.Contains(err.Error(), "--stability.level=experimental") {
		t.Fatalf("Check error = %v", err)
	}
}
