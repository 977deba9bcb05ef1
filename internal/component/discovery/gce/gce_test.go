package gce

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// The discoverer looks up Google's Application Default Credentials when it
// is built, which off GCP may ask the metadata server (169.254.169.254):
// these tests build none; gce_api_test.go builds one with a key file.

func TestArgumentsMapping(t *testing.T) {
	src := `
discovery.gce "example" {
  project          = "shop-prod"
  zone             = "europe-west1-b"
  filter           = "labels.team = shop"
  port             = 9100
  tag_separator    = ";"
  refresh_interval = "2m"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.gce", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Project != "shop-prod" || sd.Zone != "europe-west1-b" || sd.Filter != "labels.team = shop" || sd.Port != 9100 ||
		sd.TagSeparator != ";" || time.Duration(sd.RefreshInterval) != 2*time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}

func TestDefaults(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, "discovery.gce \"x\" {\n  project = \"p\"\n  zone = \"z\"\n}\n", "discovery.gce", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Port != 80 || sd.TagSeparator != "," || time.Duration(sd.RefreshInterval) != time.Minute || sd.Filter != "" {
		t.Fatalf("defaults not Alloy's: %+v", sd)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no project", func(a *Arguments) { a.Project = "" }, "project"},
		{"no zone", func(a *Arguments) { a.Zone = "" }, "zone"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Project, a.Zone = "p", "z"
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	var missing Arguments
	err := discoverytest.Decode(t, "discovery.gce \"x\" {\n  project = \"p\"\n}\n", "discovery.gce", nil, &missing)
	if err == nil || !strings.Contains(err.Error(), "zone") {
		t.Fatalf("a block without zone decoded: %v", err)
	}
}
