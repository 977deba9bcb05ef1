package remotewrite

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/sample"
	"github.com/shoal-dev/shoal/internal/syntax/alloyjson"
)

func TestBisectionIsAnOptInEndpointArgument(t *testing.T) {
	for src, want := range map[string]bool{
		`prometheus.remote_write "x" { endpoint { url = "http://h/api/v1/write" } }`:                                       false,
		`prometheus.remote_write "x" { endpoint { url = "http://h/api/v1/write" retry_on_http_400_by_bisection = true } }`: true,
	} {
		src = strings.Replace(src, `" retry`, "\"\n retry", 1)
		a, err := decode(t, "c.alloy", src)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.config()
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Endpoints[0].BisectOn400; got != want {
			t.Errorf("%s: bisection %v, want %v", src, got, want)
		}
	}
}

// TestURLPasswordNeverShows decodes an endpoint whose url holds a password:
// the engine gets it whole, while the arguments as the UI and API encode
// them, the endpoint's default name and error messages show it redacted.
func TestURLPasswordNeverShows(t *testing.T) {
	const pass = "pw-in-the-url-42"
	a, err := decode(t, "c.alloy", `prometheus.remote_write "x" {
  endpoint { url = "https://shoal:`+pass+`@mimir.example/api/v1/push" }
}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cfg.Endpoints[0].URL, pass) {
		t.Errorf("the engine's URL lost its password: %q", cfg.Endpoints[0].URL)
	}
	shown, err := alloyjson.MarshalBody(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(shown), pass) || !strings.Contains(string(shown), "shoal:xxxxx@mimir.example") {
		t.Errorf("the arguments as the API shows them: %s", shown)
	}
	_, err = decode(t, "c.alloy", `prometheus.remote_write "x" {
  endpoint { url = "https://shoal:`+pass+`@mimir.example:bad/api/v1/push" }
}`)
	if err == nil {
		a2, _ := decode(t, "c.alloy", `prometheus.remote_write "x" { endpoint { url = "https://shoal:`+pass+`@mimir.example:bad/x" } }`)
		err = a2.Validate()
	}
	if err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("an invalid URL's error: %v", err)
	}
}

// TestUnwritableQueueMakesTheComponentUnhealthy fills the filesystem of the
// component's queue: receiving still succeeds (the samples are held in
// memory), the component says it is unhealthy, and recovers once space
// returns.
func TestUnwritableQueueMakesTheComponentUnhealthy(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs needs root, and CI must run this test")
		}
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k,nr_inodes=64", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	a, err := decode(t, "c.alloy", `prometheus.remote_write "x" { endpoint { url = "http://127.0.0.1:1/api/v1/write" } }`)
	if err != nil {
		t.Fatal(err)
	}
	var exports Exports
	c, err := New(component.Options{
		ID: "prometheus.remote_write.x", Registerer: prometheus.NewRegistry(), DataPath: dir,
		OnStateChange: func(e component.Exports) { exports = e.(Exports) },
	}, a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.w.Close()
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health before the disk fills: %+v", h)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	b := &sample.Batch{}
	for i := range 500 {
		b.Samples = append(b.Samples, sample.Sample{Labels: labels.FromStrings("__name__", "m", "i", strings.Repeat("x", i%50)+"-"+string(rune('a'+i%26))), T: int64(i), V: 1})
	}
	if err := exports.Receiver.Receive(context.Background(), b); err != nil {
		t.Fatalf("receive on a full disk: %v (want it held in memory)", err)
	}
	h := c.CurrentHealth()
	if h.State != component.HealthUnhealthy || !strings.Contains(h.Message, "500 samples held in memory") {
		t.Fatalf("health on a full disk: %+v", h)
	}
	os.Remove(filler)
	if err := exports.Receiver.Receive(context.Background(), &sample.Batch{Samples: b.Samples[:1]}); err != nil {
		t.Fatal(err)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health after space returned: %+v", h)
	}
}
