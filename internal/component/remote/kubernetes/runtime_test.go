package kubernetes

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/local/filematch"
	remotehttp "github.com/shoal-dev/shoal/internal/component/remote/http"
	"github.com/shoal-dev/shoal/internal/component/remote/remotetest"
	"github.com/shoal-dev/shoal/internal/runtime"
)

// TestExportsFeedOtherComponentsThroughTheRuntime loads a config in
// which a Secret's value is remote.http's bearer token and a ConfigMap's
// value is local.file_match's label, as a user writes them
// (data.KEY), and checks that the values arrive and that the secret
// shows nowhere in the API or the UI.
func TestExportsFeedOtherComponentsThroughTheRuntime(t *testing.T) {
	const token = "k8s-held-token-9f8e"
	s, api := newAPIServer(t)
	s.secrets["mon/creds"] = map[string]string{"token": token}
	s.configMaps["mon/cfg"] = map[string]string{"job": "from-configmap"}
	var gotAuth atomic.Value
	gotAuth.Store("")
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		w.Write([]byte("ok"))
	}))
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.log"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	src := `remote.kubernetes.secret "creds" {
  namespace = "mon"
  name      = "creds"
  client { api_server = "` + api + `" }
}
remote.kubernetes.configmap "cfg" {
  namespace = "mon"
  name      = "cfg"
  client { api_server = "` + api + `" }
}
remote.http "probe" {
  url = "` + ts.URL + `"
  client { bearer_token = remote.kubernetes.secret.creds.data.token }
}
local.file_match "logs" {
  path_targets = [{"__path__" = "` + dir + `/*.log", "job" = remote.kubernetes.configmap.cfg.data.job}]
}
`
	var logs remotetest.LogBuffer
	rt := runtime.New(runtime.Options{
		Registry: component.NewRegistry(SecretRegistration, ConfigMapRegistration, remotehttp.Registration, filematch.Registration),
		Logger:   logs.Logger(),
	})
	if ds := rt.Validate("cfg.alloy", []byte(src)); len(ds) != 0 {
		t.Fatalf("validate: %v", ds)
	}
	if err := rt.Load("cfg.alloy", []byte(src)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rt.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	if got := gotAuth.Load().(string); got != "Bearer "+token {
		t.Fatalf("remote.http sent Authorization %q, want the Secret's token", got)
	}
	info, _ := rt.Component("local.file_match.logs")
	e, _ := info.Exports.(discovery.Exports)
	if len(e.Targets) != 1 || e.Targets[0]["job"] != "from-configmap" {
		t.Fatalf("local.file_match exports %+v, want the ConfigMap's job", info.Exports)
	}
	discoverytest.Eventually(t, wait, func() bool {
		i, _ := rt.Component("remote.http.probe")
		return i.Health.State == component.HealthHealthy
	}, "remote.http is not healthy")

	for _, id := range []string{"remote.kubernetes.secret.creds", "remote.http.probe"} {
		i, _ := rt.Component(id)
		if served := remotetest.Served(t, id, i.Name, i.Arguments, i.Exports, i.Health); strings.Contains(served, token) {
			t.Errorf("%s: the API or the UI shows the Secret's value:\n%s", id, served)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the Secret's value was logged:\n%s", logs.String())
	}
}
