package kubernetes

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 20 * time.Second

// fakeAPI serves the pods list of a Kubernetes API server and watches that
// stay open with nothing to say. It records the selectors it was asked for.
type fakeAPI struct {
	pods string // JSON items

	mu        sync.Mutex
	selectors []string
	lists     int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !strings.HasSuffix(r.URL.Path, "/pods") {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	if s := q.Get("labelSelector"); s != "" {
		f.selectors = append(f.selectors, s)
	}
	f.mu.Unlock()
	if q.Get("watch") == "true" || q.Get("watch") == "1" {
		if q.Get("sendInitialEvents") == "true" {
			// Too old for streaming lists: client-go falls back to LIST.
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"BadRequest","code":400}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	f.mu.Lock()
	f.lists++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[%s]}`, f.pods)
}

func pod(name, ip string) string {
	return fmt.Sprintf(`{"metadata":{"name":%q,"namespace":"default","uid":"uid-%s","labels":{"app":"web"}},
	  "spec":{"nodeName":"node-1","containers":[{"name":"app","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}]}]},
	  "status":{"podIP":%q,"phase":"Running","hostIP":"192.168.0.1"}}`, name, name, ip)
}

func start(t *testing.T, a Arguments) (*discovery.Component, *discoverytest.Recorder) {
	t.Helper()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "discovery.kubernetes.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	return c, rec
}

func podArgs(apiServer string) Arguments {
	var a Arguments
	a.SetToDefault()
	a.Role = "pod"
	a.APIServer = apiServer
	return a
}

func TestPodsFromAFakeAPIServerBecomeTargets(t *testing.T) {
	api := &fakeAPI{pods: pod("web-1", "10.1.0.1") + "," + pod("web-0", "10.1.0.0")}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close) // after the component has stopped watching

	a := podArgs(srv.URL)
	a.Selectors = []SelectorConfig{{Role: "pod", Label: "app=web"}}
	c, rec := start(t, a)
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	ts, _ := rec.Targets()
	if len(ts) != 2 {
		t.Fatalf("targets = %v, want the two pods", ts)
	}
	if ts[0]["__address__"] != "10.1.0.0:8080" || ts[0]["__meta_kubernetes_pod_name"] != "web-0" ||
		ts[0]["__meta_kubernetes_namespace"] != "default" || ts[0]["__meta_kubernetes_pod_label_app"] != "web" {
		t.Fatalf("first target = %v, want pod web-0 at 10.1.0.0:8080 with its meta labels", ts[0])
	}
	api.mu.Lock()
	sel := strings.Join(api.selectors, ";")
	api.mu.Unlock()
	if !strings.Contains(sel, "app=web") {
		t.Fatalf("the API server was asked with label selectors %q, want app=web", sel)
	}
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
}

func TestNoPodsIsReadyAndEmpty(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{})
	t.Cleanup(srv.Close)
	c, rec := start(t, podArgs(srv.URL))
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	if ts, ok := rec.Targets(); !ok || len(ts) != 0 {
		t.Fatalf("targets = %v (published %v), want an empty list", ts, ok)
	}
}

func TestDocExamplesValidate(t *testing.T) {
	// discovery.kubernetes-2..5.alloy, as decoded.
	ex2 := Arguments{Role: "pod", HTTPClientConfig: discovery.DefaultHTTPClientConfig}
	ex3 := ex2
	ex3.KubeConfig = "/etc/k8s/kubeconfig.yaml"
	ex4 := ex2
	ex4.Selectors = []SelectorConfig{{Role: "pod", Label: "app.kubernetes.io/name=prometheus-node-exporter"}}
	ex4.NamespaceDiscovery.Names = []string{"myapp"}
	ex5 := ex2
	ex5.Selectors = []SelectorConfig{{Role: "pod", Field: "spec.nodeName=node-a"}}
	for i, a := range []Arguments{ex2, ex3, ex4, ex5} {
		if err := a.Validate(); err != nil {
			t.Errorf("example %d: %v", i+2, err)
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"unknown role", func(a *Arguments) { a.Role = "deployment" }, `invalid role "deployment"`},
		{"api server and kubeconfig", func(a *Arguments) { a.APIServer = "https://k8s:6443"; a.KubeConfig = "/k" }, "cannot be used together"},
		{"client settings without api server", func(a *Arguments) { a.HTTPClientConfig.BearerToken = "t" }, "need api_server"},
		{"own namespace with api server", func(a *Arguments) {
			a.APIServer = "https://k8s:6443"
			a.NamespaceDiscovery.IncludeOwnNamespace = true
		}, "own_namespace cannot be used"},
		{"selector for another role", func(a *Arguments) { a.Selectors = []SelectorConfig{{Role: "service"}} }, "pod role supports only pod, node selectors"},
		{"duplicated selector", func(a *Arguments) { a.Selectors = []SelectorConfig{{Role: "pod"}, {Role: "pod"}} }, "duplicated selector role"},
		{"bad label selector", func(a *Arguments) { a.Selectors = []SelectorConfig{{Role: "pod", Label: "a=(b"}} }, "selector label"},
		{"bad api server", func(a *Arguments) { a.APIServer = "k8s:6443/x" }, "invalid api_server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := podArgs("")
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestOutsideAClusterWithoutAPIServerFailsToBuild(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	opts, _, _ := discoverytest.Options(t, "discovery.kubernetes.test")
	_, err := New(opts, podArgs(""))
	if err == nil || !strings.Contains(err.Error(), "kubernetes") {
		t.Fatalf("New = %v, want an in-cluster config error", err)
	}
}
