package file

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestBlockDecodes(t *testing.T) {
	var a Arguments
	src := `local.file "token" {
  filename  = "/var/run/secrets/token"
  is_secret = true
}`
	if err := discoverytest.Decode(t, src, "local.file", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.Filename != "/var/run/secrets/token" || !a.IsSecret || a.Detector != DetectorFSNotify || a.PollFrequency != time.Minute {
		t.Fatalf("decoded %+v", a)
	}
	if err := discoverytest.Decode(t, `local.file "x" {
  filename = "/x"
  detector = "inotify"
}`, "local.file", nil, &a); err == nil {
		t.Fatal("an unknown detector was accepted")
	}
}
