package types_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

const password = "hunter2-do-not-print"

type withSecret struct {
	User     string        `json:"user" yaml:"user"`
	Password types.Secret  `json:"password" yaml:"password"`
	Ptr      *types.Secret `json:"ptr" yaml:"ptr"`
}

func TestSecretNeverPrints(t *testing.T) {
	s := types.Secret(password)
	v := withSecret{User: "u", Password: s, Ptr: &s}
	var outputs []string
	for _, verb := range []string{"%v", "%s", "%q", "%x", "%X", "%d", "%#v", "%+v", "%10s", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, v))
	}
	outputs = append(outputs, fmt.Sprint(s), fmt.Sprintln(v), s.String())
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(j))
	y, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(y))
	text, _ := s.MarshalText()
	outputs = append(outputs, string(text))
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "password", s, "args", v)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "password", s, "args", v)
	outputs = append(outputs, logs.String())

	for _, out := range outputs {
		if strings.Contains(out, password) || strings.Contains(out, fmt.Sprintf("%x", password)) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if got := fmt.Sprintf("%v", s); got != "(secret)" {
		t.Errorf("%%v = %q, want (secret)", got)
	}
	if !strings.Contains(string(j), `"password":"(secret)"`) {
		t.Errorf("JSON = %s", j)
	}
	if string(s) != password {
		t.Error("the value itself must stay usable")
	}
}

func TestOptionalSecret(t *testing.T) {
	plain := types.OptionalSecret{Value: "admin"}
	secret := types.OptionalSecret{IsSecret: true, Value: password}
	if got := fmt.Sprintf("%v|%s|%q", plain, plain, plain); got != `admin|admin|"admin"` {
		t.Errorf("plain prints as %s", got)
	}
	j, _ := json.Marshal(map[string]any{"a": plain, "b": secret})
	if string(j) != `{"a":"admin","b":"(secret)"}` {
		t.Errorf("JSON = %s", j)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "content", secret)
	for _, out := range []string{fmt.Sprintf("%v %s %q %x %#v %+v", secret, secret, secret, secret, secret, secret), logs.String()} {
		if strings.Contains(out, password) {
			t.Errorf("secret leaked: %s", out)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want types.Size
	}{
		{"0", 0},
		{"1024", 1024},
		{"100B", 100},
		{"1KB", 1024},
		{"512KiB", 512 << 10},
		{"10MB", 10 << 20},
		{"10MiB", 10 << 20},
		{"1GB", 1 << 30},
		{"1.5GB", 3 << 29},
		{"1GB512MB", 1<<30 + 512<<20},
		{"2TiB", 2 << 40},
		{" 4MB ", 4 << 20},
	}
	for _, tt := range tests {
		got, err := types.ParseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "MB", "10XB", "10kB", "-1", "-1MB", "1.2.3MB", "10 MB", "99999999EiB"} {
		if _, err := types.ParseSize(bad); err == nil || !strings.Contains(err.Error(), "invalid size") {
			t.Errorf("ParseSize(%q) error = %v, want invalid size", bad, err)
		}
	}
}

func TestSizeString(t *testing.T) {
	for size, want := range map[types.Size]string{
		0:                   "0B",
		100:                 "100B",
		10 << 20:            "10MiB",
		1<<30 + 512<<20:     "1GiB512MiB",
		1<<30 + 512<<20 + 3: "1GiB512MiB3B",
	} {
		if got := size.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(size), got, want)
		}
		back, err := types.ParseSize(size.String())
		if err != nil || back != size {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", size.String(), back, err, int64(size))
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"15s", 15 * time.Second},
		{"1m30s", 90 * time.Second},
		{"5m", 5 * time.Minute},
		{"1d", 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"300ms", 300 * time.Millisecond},
		{"0", 0},
		{"1y", 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		got, err := types.ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "5", "5 minutes", "1x", "s", "1d-1h"} {
		_, err := types.ParseDuration(bad)
		if err == nil || err.Error() != fmt.Sprintf("invalid duration %q", bad) {
			t.Errorf("ParseDuration(%q) error = %v", bad, err)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"10MB", "1.5GB", "1GB512MB", "0", "-1", "9EiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		size, err := types.ParseSize(s)
		if err != nil {
			return
		}
		if size < 0 {
			t.Fatalf("ParseSize(%q) = %d, negative", s, int64(size))
		}
		back, err := types.ParseSize(size.String())
		if err != nil || back != size {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, int64(size), size.String(), int64(back), err)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"15s", "1m30s", "1d", "1.5h", "0", "1y2w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := types.ParseDuration(s)
		if err != nil {
			if err.Error() != fmt.Sprintf("invalid duration %q", s) {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		back, err := types.ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %v, %v", s, d, back, err)
		}
	})
}
