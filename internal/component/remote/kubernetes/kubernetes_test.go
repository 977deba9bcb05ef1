package kubernetes

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/remote/remotetest"
)

const wait = 15 * time.Second

// apiServer serves Secrets and ConfigMaps as the Kubernetes API does on
// the wire: JSON objects, Secret data in base64, and a Status object
// with the right code for a missing object.
type apiServer struct {
	mu         sync.Mutex
	secrets    map[string]map[string]string // "ns/name" -> data
	configMaps map[string]map[string]string
	fail       bool
	paths      []string
	auth       string
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, r.Method+" "+r.URL.Path)
	s.auth = r.Header.Get("Authorization")
	w.Header().Set("Content-Type", "application/json")
	if s.fail {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "etcd is sad", "reason": "InternalError", "code": 500})
		return
	}
	var ns, kind, name string
	if n, _ := fmt.Sscanf(strings.ReplaceAll(r.URL.Path, "/", " "), " api v1 namespaces %s %s %s", &ns, &kind, &name); n != 3 || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	var obj map[string]any
	meta := map[string]any{"name": name, "namespace": ns, "resourceVersion": "1"}
	switch kind {
	case "secrets":
		if d, ok := s.secrets[ns+"/"+name]; ok {
			enc := map[string]string{}
			for k, v := range d {
				enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
			}
			obj = map[string]any{"kind": "Secret", "apiVersion": "v1", "metadata": meta, "type": "Opaque", "data": enc}
		}
	case "configmaps":
		if d, ok := s.configMaps[ns+"/"+name]; ok {
			obj = map[string]any{"kind": "ConfigMap", "apiVersion": "v1", "metadata": meta, "data": d,
				"binaryData": map[string]string{"blob": base64.StdEncoding.EncodeToString([]byte{0, 1})}}
		}
	}
	if obj == nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
			"message": fmt.Sprintf("%s %q not found", kind, name), "reason": "NotFound", "code": 404,
			"details": map[string]any{"name": name, "kind": kind}})
		return
	}
	json.NewEncoder(w).Encode(obj)
}

func (s *apiServer) set(f func(s *apiServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func newAPIServer(t *testing.T) (*apiServer, string) {
	s := &apiServer{secrets: map[string]map[string]string{}, configMaps: map[string]map[string]string{}}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func args(apiServer, ns, name string) Arguments {
	a := DefaultArguments
	a.Namespace, a.Name = ns, name
	a.Client.APIServer = apiServer
	return a
}

func data(rec *discoverytest.Recorder) map[string]string {
	e, _ := rec.Last().(Exports)
	out := map[string]string{}
	for k, v := range e.Data {
		out[k] = v.Value
	}
	return out
}

func TestSecretDataIsExportedAsSecretsAndNeverShown(t *testing.T) {
	const password = "hunter2-very-secret"
	s, url := newAPIServer(t)
	s.secrets["monitoring/creds"] = map[string]string{"password": password, "username": "admin"}
	var logs remotetest.LogBuffer
	opts, rec, _ := discoverytest.Options(t, "remote.kubernetes.secret.creds")
	opts.Logger = logs.Logger()
	a := args(url, "monitoring", "creds")
	a.Client.HTTPClientConfig.BearerToken = "sa-token"
	c, err := New(opts, a, KindSecret)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.Last().(Exports)
	if len(e.Data) != 2 || e.Data["password"].Value != password || !e.Data["password"].IsSecret || !e.Data["username"].IsSecret {
		t.Fatalf("exports = %+v, want both values as secrets", e.Data)
	}
	s.mu.Lock()
	if len(s.paths) == 0 || s.paths[0] != "GET /api/v1/namespaces/monitoring/secrets/creds" || s.auth != "Bearer sa-token" {
		t.Fatalf("requests %v with Authorization %q", s.paths, s.auth)
	}
	s.mu.Unlock()

	served := remotetest.Served(t, "remote.kubernetes.secret.creds", "remote.kubernetes.secret", a, e, c.CurrentHealth())
	for _, leak := range []string{password, "sa-token"} {
		if strings.Contains(served, leak) {
			t.Errorf("the API or the UI shows %q:\n%s", leak, served)
		}
	}
	if !strings.Contains(served, "password") || !strings.Contains(served, "(secret)") {
		t.Errorf("the API does not show the keys with secret values:\n%s", served)
	}
	if strings.Contains(logs.String(), password) {
		t.Errorf("the secret was logged:\n%s", logs.String())
	}
}

func TestConfigMapDataIsPlainAndFollowsChanges(t *testing.T) {
	s, url := newAPIServer(t)
	s.configMaps["default/app"] = map[string]string{"url": "http://a"}
	opts, rec, _ := discoverytest.Options(t, "remote.kubernetes.configmap.app")
	a := args(url, "default", "app")
	a.PollFrequency = 20 * time.Millisecond
	a.PollTimeout = time.Second
	c, err := New(opts, a, KindConfigMap)
	if err != nil {
		t.Fatal(err)
	}
	e := rec.Last().(Exports)
	if len(e.Data) != 1 || e.Data["url"].Value != "http://a" || e.Data["url"].IsSecret {
		t.Fatalf("exports = %+v, want the data only (no binaryData), as strings", e.Data)
	}
	served := remotetest.Served(t, "remote.kubernetes.configmap.app", "remote.kubernetes.configmap", a, e, c.CurrentHealth())
	if !strings.Contains(served, "http://a") {
		t.Fatalf("a ConfigMap value is not shown:\n%s", served)
	}
	discoverytest.Run(t, c)

	s.set(func(s *apiServer) { s.configMaps["default/app"] = map[string]string{"url": "http://b", "extra": "1"} })
	discoverytest.Eventually(t, wait, func() bool { d := data(rec); return d["url"] == "http://b" && d["extra"] == "1" }, "a change was missed: %v", data(rec))

	s.set(func(s *apiServer) { s.fail = true })
	discoverytest.Eventually(t, wait, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "etcd is sad")
	}, "a failing API server did not turn unhealthy: %+v", c.CurrentHealth())
	if d := data(rec); d["url"] != "http://b" {
		t.Fatalf("data = %v after a failed poll, want the last data kept", d)
	}
	s.set(func(s *apiServer) { s.fail = false })
	discoverytest.Eventually(t, wait, func() bool { return c.CurrentHealth().State == component.HealthHealthy }, "no recovery: %+v", c.CurrentHealth())
}

func TestMissingObjectFailsNewAndUpdate(t *testing.T) {
	s, url := newAPIServer(t)
	opts, rec, _ := discoverytest.Options(t, "remote.kubernetes.secret.x")
	if _, err := New(opts, args(url, "ns", "nope"), KindSecret); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("New = %v, want not found", err)
	}
	s.set(func(s *apiServer) { s.secrets["ns/yes"] = map[string]string{"k": "v"} })
	c, err := New(opts, args(url, "ns", "yes"), KindSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(args(url, "ns", "nope")); err == nil {
		t.Fatal("Update to a missing Secret succeeded")
	}
	if d := data(rec); d["k"] != "v" {
		t.Fatalf("data = %v, want the last data kept", d)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"zero poll frequency", func(a *Arguments) { a.PollFrequency = 0 }, "poll_frequency must be greater than 0"},
		{"zero poll timeout", func(a *Arguments) { a.PollTimeout = 0 }, "poll_timeout must be greater than 0"},
		{"api_server and kubeconfig", func(a *Arguments) { a.Client.KubeConfig = "/k" }, "only one of api_server and kubeconfig_file"},
		{"http settings without api_server", func(a *Arguments) {
			a.Client.APIServer = ""
			a.Client.HTTPClientConfig.BearerToken = "t"
		}, "api_server must be set"},
		{"bad api_server", func(a *Arguments) { a.Client.APIServer = "no-scheme" }, "invalid api_server"},
		{"two auths", func(a *Arguments) {
			a.Client.HTTPClientConfig.BearerToken = "t"
			a.Client.HTTPClientConfig.BearerTokenFile = "/f"
		}, "client:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args("https://127.0.0.1:6443", "ns", "n")
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBlockDecodes(t *testing.T) {
	var a Arguments
	src := `remote.kubernetes.secret "creds" {
  namespace = "monitoring"
  name      = "creds"
  client {
    api_server   = "https://127.0.0.1:6443"
    bearer_token = "t"
    tls_config {
      insecure_skip_verify = true
    }
  }
}`
	if err := discoverytest.Decode(t, src, "remote.kubernetes.secret", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.Namespace != "monitoring" || a.Name != "creds" || a.PollFrequency != time.Minute || a.PollTimeout != 15*time.Second ||
		a.Client.APIServer != "https://127.0.0.1:6443" || a.Client.HTTPClientConfig.BearerToken != "t" ||
		!a.Client.HTTPClientConfig.TLSConfig.InsecureSkipVerify || !a.Client.HTTPClientConfig.FollowRedirects {
		t.Fatalf("decoded %+v", a)
	}
	if err := discoverytest.Decode(t, `remote.kubernetes.configmap "x" {
  namespace = "a"
  name      = "b"
  client {
    bearer_token = "t"
  }
}`, "remote.kubernetes.configmap", nil, &a); err == nil || !strings.Contains(err.Error(), "api_server must be set") {
		t.Fatalf("HTTP settings without api_server: %v", err)
	}
}

// TestKubeconfigFileIsUsed reaches an HTTPS API server through a
// kubeconfig file: its server, CA and token.
func TestKubeconfigFileIsUsed(t *testing.T) {
	s := &apiServer{secrets: map[string]map[string]string{}, configMaps: map[string]map[string]string{}}
	s.configMaps["team/settings"] = map[string]string{"level": "debug"}
	ts := httptest.NewTLSServer(s)
	t.Cleanup(ts.Close)
	url := ts.URL
	ca := base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}))
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ` + url + `
    certificate-authority-data: ` + ca + `
users:
- name: me
  user:
    token: kubeconfig-token
contexts:
- name: fake
  context:
    cluster: fake
    user: me
current-context: fake
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a := DefaultArguments
	a.Namespace, a.Name = "team", "settings"
	a.Client.KubeConfig = kubeconfig
	opts, rec, _ := discoverytest.Options(t, "remote.kubernetes.configmap.settings")
	if _, err := New(opts, a, KindConfigMap); err != nil {
		t.Fatal(err)
	}
	if d := data(rec); d["level"] != "debug" {
		t.Fatalf("data = %v", d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auth != "Bearer kubeconfig-token" {
		t.Fatalf("Authorization = %q, want the kubeconfig's token", s.auth)
	}
}
