package lab

import (
	"os"
	"testing"
	"time"
)

func TestParseTargetStatusReadsTheComponentPage(t *testing.T) {
	body, err := os.ReadFile("testdata/scrape-component.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTargetStatus(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d targets, want the 2 target blocks (other blocks ignored)", len(got))
	}
	down, up := got[0], got[1]
	if down.Health != "down" || down.URL != "http://127.0.0.1:1/metrics" || down.Job != "prometheus.scrape.lab" || !down.Owned {
		t.Errorf("first target: %+v", down)
	}
	if want := `Get "http://127.0.0.1:1/metrics": dial tcp 127.0.0.1:1: connect: connection refused`; down.LastError != want {
		t.Errorf("last_error %q, want %q", down.LastError, want)
	}
	if down.Labels["instance"] != "127.0.0.1:1" || down.Labels["a"] != "b" || len(down.Labels) != 3 {
		t.Errorf("labels %v", down.Labels)
	}
	if want := time.Date(2026, 11, 25, 4, 25, 23, 957827399, time.UTC); !down.LastScrape.Equal(want) {
		t.Errorf("last_scrape %s, want %s", down.LastScrape, want)
	}
	if up.Health != "up" || up.LastError != "" || up.Owned || up.Key != "0000000000000fa1" {
		t.Errorf("second target: %+v", up)
	}
}

func TestParseTargetStatusRejectsMalformedValues(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":      `{"debugInfo": [`,
		"number as url": `{"debugInfo":[{"name":"target","type":"block","body":[{"name":"url","type":"attr","value":{"type":"number","value":5}}]}]}`,
		"bad time":      `{"debugInfo":[{"name":"target","type":"block","body":[{"name":"last_scrape","type":"attr","value":{"type":"string","value":"yesterday"}}]}]}`,
	} {
		if _, err := ParseTargetStatus([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGridOffsetIsTheKeyModuloTheInterval(t *testing.T) {
	for _, c := range []struct {
		key      string
		interval time.Duration
		want     int64
	}{
		{"0000000000000fa1", 2 * time.Second, 4001 % 2000},
		{"6f0807d015208164", 2 * time.Second, int64(0x6f0807d015208164 % 2000)},
		{"ffffffffffffffff", time.Minute, int64(uint64(0xffffffffffffffff) % 60000)},
	} {
		got, err := GridOffset(c.key, c.interval)
		if err != nil || got != c.want {
			t.Errorf("GridOffset(%s, %s) = %d, %v; want %d", c.key, c.interval, got, err, c.want)
		}
	}
	if _, err := GridOffset("not hex", time.Second); err == nil {
		t.Error("a key that is not hex: no error")
	}
	if _, err := GridOffset("01", time.Microsecond); err == nil {
		t.Error("an interval under a millisecond: no error")
	}
}

func FuzzParseTargetStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := ParseTargetStatus(body)
		if err != nil && got != nil {
			t.Fatalf("error %v with %d targets", err, len(got))
		}
	})
}
