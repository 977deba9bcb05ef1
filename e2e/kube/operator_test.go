package kube

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/shoal-dev/shoal/internal/component/common/relabel"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/prometheus/operator"
	"github.com/shoal-dev/shoal/internal/sample"
)

var (
	smGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	pmGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "podmonitors"}
)

// collector keeps the job and instance labels of the samples it receives.
type collector struct {
	mu   sync.Mutex
	seen map[string]bool // "job|k8s_address"
}

func (c *collector) Receive(_ context.Context, b *sample.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	for _, s := range b.Samples {
		c.seen[s.Labels.Get("job")+"|"+s.Labels.Get("k8s_address")] = true
	}
	return nil
}

func (c *collector) has(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[key]
}

// metricsServer serves a fixed exposition on loopback.
func metricsServer(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE synthetic_value gauge\nsynthetic_value 1")
	}))
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	return "127.0.0.1:" + port
}

// startOperator runs a prometheus.operator.* component whose rule blocks
// keep the address the API server holds in k8s_address and scrape a
// loopback listener in its place.
func startOperator(t *testing.T, kind operator.Kind, ns, listen string, out sample.Receiver) *operator.Component {
	t.Helper()
	opts, _, _ := discoverytest.Options(t, "prometheus.operator."+string(kind)+".test")
	var a operator.Arguments
	a.SetToDefault()
	a.KubernetesRole = operator.RoleEndpointSlice
	a.Client.KubeConfig = server.Kubeconfig
	a.Namespaces = []string{ns}
	a.ForwardTo = []sample.Receiver{out}
	a.Scrape.DefaultScrapeInterval = time.Second
	a.Scrape.DefaultScrapeTimeout = 500 * time.Millisecond
	var keep, move relabel.Config
	keep.SetToDefault()
	keep.SourceLabels, keep.TargetLabel = []string{"__address__"}, "k8s_address"
	move.SetToDefault()
	move.TargetLabel, move.Replacement = "__address__", listen
	a.Rules = []relabel.Config{keep, move}
	c, err := operator.New(opts, kind, a, false)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	eventually(t, 30*time.Second, c.Ready, "component never ready")
	return c
}

// addresses lists the k8s_address of the component's targets, sorted.
func addresses(c *operator.Component) []string {
	var out []string
	for _, tg := range c.ClusterTargets() {
		out = append(out, tg.Labels["k8s_address"])
	}
	sort.Strings(out)
	return out
}

func waitAddresses(t *testing.T, c *operator.Component, what string, want ...string) {
	t.Helper()
	sort.Strings(want)
	eventually(t, watchBound, func() bool { return fmt.Sprint(addresses(c)) == fmt.Sprint(want) },
		"%s: targets %v, want %v", what, func() any { return addresses(c) }(), want)
}

func createCR(t *testing.T, gvr schema.GroupVersionResource, ns string, obj map[string]any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	got, err := dyn.Resource(gvr).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestServiceMonitorWatch follows a ServiceMonitor and the EndpointSlice
// of its Service through watch updates: each change reaches the target
// set within 5 s of the API write, and the targets are scraped with the
// labels the operator's relabeling gives them.
func TestServiceMonitorWatch(t *testing.T) {
	ns := namespace(t, "sm-watch")
	ctx := context.Background()
	listen := metricsServer(t)
	out := &collector{}
	c := startOperator(t, operator.KindServiceMonitor, ns, listen, out)

	if _, err := server.Client.CoreV1().Services(ns).Create(ctx, serviceObject(ns, "web", map[string]string{"app": "web"}, 9100), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	slices := server.Client.DiscoveryV1().EndpointSlices(ns)
	slice, err := slices.Create(ctx, sliceObject(ns, "web", 9100,
		sliceEndpoint{ip: "192.0.2.41", pod: "web-1", ready: true},
		sliceEndpoint{ip: "192.0.2.42", pod: "web-2", ready: true}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Not ready endpoints are left out by the resource's own relabeling.
	sm := createCR(t, smGVR, ns, map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
		"metadata": map[string]any{"name": "web", "namespace": ns},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"endpoints": []any{map[string]any{
				"port": "metrics", "interval": "1s",
				"relabelings": []any{map[string]any{
					"action": "keep", "sourceLabels": []any{"__meta_kubernetes_endpointslice_endpoint_conditions_ready"}, "regex": "true",
				}},
			}},
		},
	})
	waitAddresses(t, c, "ServiceMonitor added", "192.0.2.41:9100", "192.0.2.42:9100")
	eventually(t, 10*time.Second, func() bool { return out.has("web|192.0.2.41:9100") && out.has("web|192.0.2.42:9100") },
		"no samples with job=web from both targets")

	// An endpoint goes not ready.
	f := false
	slice.Endpoints[1].Conditions.Ready = &f
	if slice, err = slices.Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "endpoint not ready", "192.0.2.41:9100")

	// The ServiceMonitor changes: jobLabel picks the job from a service
	// label, and not-ready endpoints are kept again.
	svc, err := server.Client.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Labels["team"] = "shop"
	if _, err := server.Client.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(sm.Object, "team", "spec", "jobLabel"); err != nil {
		t.Fatal(err)
	}
	eps, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	delete(eps[0].(map[string]any), "relabelings")
	if err := unstructured.SetNestedSlice(sm.Object, eps, "spec", "endpoints"); err != nil {
		t.Fatal(err)
	}
	if sm, err = dyn.Resource(smGVR).Namespace(ns).Update(ctx, sm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "ServiceMonitor changed", "192.0.2.41:9100", "192.0.2.42:9100")
	eventually(t, 10*time.Second, func() bool { return out.has("shop|192.0.2.42:9100") },
		"no samples with job=shop after the edit")

	// An endpoint is added.
	slice.Endpoints = append(slice.Endpoints, slice.Endpoints[0])
	slice.Endpoints[2].Addresses = []string{"192.0.2.43"}
	slice.Endpoints[2].TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "web-3"}
	if _, err = slices.Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "endpoint added", "192.0.2.41:9100", "192.0.2.42:9100", "192.0.2.43:9100")

	// The ServiceMonitor is deleted.
	if err := dyn.Resource(smGVR).Namespace(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "ServiceMonitor deleted")
}

// TestPodMonitorWatch follows a PodMonitor through a pod that starts, goes
// not ready, and is deleted.
func TestPodMonitorWatch(t *testing.T) {
	ns := namespace(t, "pm-watch")
	ctx := context.Background()
	listen := metricsServer(t)
	out := &collector{}
	c := startOperator(t, operator.KindPodMonitor, ns, listen, out)
	createCR(t, pmGVR, ns, map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
		"metadata": map[string]any{"name": "pods", "namespace": ns},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"app": "api"}},
			"podMetricsEndpoints": []any{map[string]any{
				"port": "metrics", "interval": "1s",
				"relabelings": []any{map[string]any{
					"action": "keep", "sourceLabels": []any{"__meta_kubernetes_pod_ready"}, "regex": "true",
				}},
			}},
		},
	})
	pods := server.Client.CoreV1().Pods(ns)
	p, err := pods.Create(ctx, podObject(ns, "api-1", map[string]string{"app": "api"}, 8080), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Create(ctx, podObject(ns, "other", map[string]string{"app": "other"}, 8080), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	podRunning(p, "192.0.2.51", true)
	if p, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "pod running", "192.0.2.51:8080")
	eventually(t, 10*time.Second, func() bool { return out.has(ns + "/pods|192.0.2.51:8080") }, "no samples with job=%s/pods", ns)
	podRunning(p, "192.0.2.51", false)
	if _, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "pod not ready")
	if err := pods.Delete(ctx, "api-1", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	waitAddresses(t, c, "pod deleted")
}
