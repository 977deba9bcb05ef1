package kubelet

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// A kubelet's GET /pods answer (a v1 PodList, trimmed to the fields the
// labels use), as the kubelet serves it on port 10250.
const podsJSON = `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
 {"metadata":{"name":"web-7d4b9c-x2k","namespace":"shop","uid":"0b1c2d3e-1111-2222-3333-444455556666",
   "labels":{"app.kubernetes.io/name":"web"},"annotations":{"prometheus.io/scrape":"true"},
   "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"aa","controller":true}]},
  "spec":{"nodeName":"node-1",
   "containers":[{"name":"app","image":"shop/web:1.2","ports":[{"name":"metrics","containerPort":9100,"protocol":"TCP"}]},
                 {"name":"sidecar","image":"envoy:1.30"}],
   "initContainers":[{"name":"migrate","image":"shop/migrate:1.2"}]},
  "status":{"phase":"Running","hostIP":"127.0.190.1","podIP":"127.0.191.1",
   "conditions":[{"type":"Ready","status":"True"}],
   "containerStatuses":[{"name":"app","containerID":"containerd://abc123","ready":true,"restartCount":0,"image":"shop/web:1.2","imageID":""}],
   "initContainerStatuses":[{"name":"migrate","containerID":"containerd://def456","ready":false,"restartCount":0,"image":"shop/migrate:1.2","imageID":""}]}},
 {"metadata":{"name":"coredns-5d78c9869d-abcde","namespace":"kube-system","uid":"u2"},
  "spec":{"nodeName":"node-1","containers":[{"name":"coredns","image":"coredns:1.11","ports":[{"name":"metrics","containerPort":9153,"protocol":"TCP"}]}]},
  "status":{"phase":"Running","podIP":"127.0.191.2"}},
 {"metadata":{"name":"pending-1","namespace":"shop","uid":"u3"},
  "spec":{"containers":[{"name":"app","image":"shop/web:1.2"}]},
  "status":{"phase":"Pending"}}
]}`

const emptyJSON = `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`

type fakeKubelet struct {
	mu    sync.Mutex
	body  string
	auths []string
	paths []string
	hits  atomic.Int64
}

func (f *fakeKubelet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.paths = append(f.paths, r.URL.Path)
	body := f.body
	f.mu.Unlock()
	f.hits.Add(1)
	if r.URL.Path != "/api/v1/nodes/node-1/proxy/pods" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

// TestPodsFromAKubelet reads pods from a local HTTPS kubelet (through the
// API server's node proxy path, as Alloy's docs show), trusting its CA and
// sending a bearer token; only the wanted namespace's pods become targets,
// one per container port and one per container without ports, and a pod
// that goes away is dropped.
func TestPodsFromAKubelet(t *testing.T) {
	fake := &fakeKubelet{body: podsJSON}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	src := `
discovery.kubelet "k" {
  url              = URL
  namespaces       = ["shop"]
  bearer_token     = "kubelet-token"
  refresh_interval = "100ms"
  tls_config {
    ca_pem = CA
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.kubelet", map[string]any{"URL": srv.URL + "/api/v1/nodes/node-1/proxy", "CA": ca}, &a); err != nil {
		t.Fatal(err)
	}
	c, rec := discoverytest.Start(t, "discovery.kubelet.k", 3, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health %+v", h)
	}
	ts, _ := rec.Targets()
	by := discoverytest.ByAddress(ts)
	pod := map[string]string{
		"__meta_kubernetes_namespace":                                  "shop",
		"__meta_kubernetes_pod_name":                                   "web-7d4b9c-x2k",
		"__meta_kubernetes_pod_ip":                                     "127.0.191.1",
		"__meta_kubernetes_pod_ready":                                  "true",
		"__meta_kubernetes_pod_phase":                                  "Running",
		"__meta_kubernetes_pod_node_name":                              "node-1",
		"__meta_kubernetes_pod_host_ip":                                "127.0.190.1",
		"__meta_kubernetes_pod_uid":                                    "0b1c2d3e-1111-2222-3333-444455556666",
		"__meta_kubernetes_pod_controller_kind":                        "ReplicaSet",
		"__meta_kubernetes_pod_controller_name":                        "web-7d4b9c",
		"__meta_kubernetes_pod_label_app_kubernetes_io_name":           "web",
		"__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name":    "true",
		"__meta_kubernetes_pod_annotation_prometheus_io_scrape":        "true",
		"__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape": "true",
	}
	port := map[string]string{
		"__meta_kubernetes_pod_container_name":          "app",
		"__meta_kubernetes_pod_container_id":            "containerd://abc123",
		"__meta_kubernetes_pod_container_image":         "shop/web:1.2",
		"__meta_kubernetes_pod_container_port_number":   "9100",
		"__meta_kubernetes_pod_container_port_name":     "metrics",
		"__meta_kubernetes_pod_container_port_protocol": "TCP",
		"__meta_kubernetes_pod_container_init":          "false",
	}
	discoverytest.ExpectLabels(t, "app port", by["127.0.191.1:9100"], pod)
	discoverytest.ExpectLabels(t, "app port", by["127.0.191.1:9100"], port)
	// The sidecar and the init container have no ports: one target each on
	// the pod IP alone (by address, the last one wins).
	var init, sidecar bool
	for _, tg := range ts {
		if tg["__address__"] != "127.0.191.1" {
			continue
		}
		switch tg["__meta_kubernetes_pod_container_name"] {
		case "sidecar":
			sidecar = tg["__meta_kubernetes_pod_container_init"] == "false"
		case "migrate":
			init = tg["__meta_kubernetes_pod_container_init"] == "true" && tg["__meta_kubernetes_pod_container_id"] == "containerd://def456"
		}
	}
	if !init || !sidecar {
		t.Errorf("port-less containers: init %v, sidecar %v in %v", init, sidecar, ts)
	}
	if _, ok := by["127.0.191.2:9153"]; ok {
		t.Errorf("kube-system's pod is outside namespaces but was found")
	}
	fake.mu.Lock()
	if fake.auths[0] != "Bearer kubelet-token" {
		t.Errorf("Authorization %q", fake.auths[0])
	}
	fake.body = emptyJSON
	fake.mu.Unlock()
	discoverytest.Eventually(t, 15*time.Second, func() bool {
		ts, _ := rec.Targets()
		return len(ts) == 0
	}, "the pods that went away stayed; last %v", rec.Last())
}

// TestAnErrorMakesItUnhealthy: a kubelet answering 401 marks the component
// unhealthy with the status.
func TestAnErrorMakesItUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	defer srv.Close()
	a := DefaultArguments
	a.URL = srv.URL
	c, _ := discoverytest.Start(t, "discovery.kubelet.bad", 0, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	discoverytest.Eventually(t, 15*time.Second, func() bool {
		h := c.CurrentHealth()
		return h.State == component.HealthUnhealthy && strings.Contains(h.Message, "401")
	}, "health %+v", c.CurrentHealth())
}

func TestDefaultsAndValidation(t *testing.T) {
	var a Arguments
	if err := discoverytest.Decode(t, "discovery.kubelet \"x\" {}\n", "discovery.kubelet", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.PodsURL != "https://localhost:10250/pods" || sd.RefreshInterval != 5*time.Second || !sd.HTTPClientConfig.EnableHTTP2 {
		t.Fatalf("defaults not Alloy's: %+v", sd)
	}
	for _, tc := range []struct {
		mod  func(*Arguments)
		want string
	}{
		{func(a *Arguments) { a.URL = "localhost:10250" }, "invalid url"},
		{func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{func(a *Arguments) { a.HTTPClientConfig.BearerToken, a.HTTPClientConfig.BearerTokenFile = "t", "/f" }, "bearer"},
	} {
		a := DefaultArguments
		tc.mod(&a)
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
}
