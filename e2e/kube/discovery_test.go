package kube

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/component/discovery/kubernetes"
)

// watchBound is how soon after an API write the targets must show it.
const watchBound = 5 * time.Second

// startDiscovery runs discovery.kubernetes in role over namespace ns.
func startDiscovery(t *testing.T, role, ns string) *discoverytest.Recorder {
	t.Helper()
	args := kubernetes.Arguments{}
	args.SetToDefault()
	args.Role = role
	args.KubeConfig = server.Kubeconfig
	if role != "node" {
		args.NamespaceDiscovery.Names = []string{ns}
	}
	_, rec := discoverytest.Start(t, "discovery.kubernetes."+role, -1, func(o component.Options) (*discovery.Component, error) {
		return kubernetes.New(o, args)
	})
	return rec
}

// waitTarget waits until some target satisfies match (or, with absent,
// until none does).
func waitTarget(t *testing.T, rec *discoverytest.Recorder, what string, absent bool, match func(discovery.Target) bool) {
	t.Helper()
	eventually(t, watchBound, func() bool {
		ts, _ := rec.Targets()
		for _, tg := range ts {
			if match(tg) {
				return !absent
			}
		}
		return absent
	}, "%s (absent=%v); last targets %v", what, absent, func() any { ts, _ := rec.Targets(); return ts }())
}

func has(k, v string) func(discovery.Target) bool {
	return func(t discovery.Target) bool { return t[k] == v }
}

func both(a, b func(discovery.Target) bool) func(discovery.Target) bool {
	return func(t discovery.Target) bool { return a(t) && b(t) }
}

// TestDiscoveryPodRole follows a pod from creation through running, not
// ready and deletion.
func TestDiscoveryPodRole(t *testing.T) {
	ns := namespace(t, "disc-pod")
	rec := startDiscovery(t, "pod", ns)
	ctx := context.Background()
	pods := server.Client.CoreV1().Pods(ns)
	p, err := pods.Create(ctx, podObject(ns, "web-1", map[string]string{"app": "web"}, 8080), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	podRunning(p, "192.0.2.10", true)
	if p, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "running pod", false, both(has("__address__", "192.0.2.10:8080"), has("__meta_kubernetes_pod_ready", "true")))
	podRunning(p, "192.0.2.10", false)
	if _, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "pod not ready", false, both(has("__address__", "192.0.2.10:8080"), has("__meta_kubernetes_pod_ready", "false")))
	if err := pods.Delete(ctx, "web-1", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "deleted pod", true, has("__meta_kubernetes_pod_name", "web-1"))
}

// TestDiscoveryServiceRole follows a service's label change and deletion.
func TestDiscoveryServiceRole(t *testing.T) {
	ns := namespace(t, "disc-svc")
	rec := startDiscovery(t, "service", ns)
	ctx := context.Background()
	svcs := server.Client.CoreV1().Services(ns)
	s, err := svcs.Create(ctx, serviceObject(ns, "web", map[string]string{"tier": "a"}, 80), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := "web." + ns + ".svc:80"
	waitTarget(t, rec, "service", false, both(has("__address__", addr), has("__meta_kubernetes_service_label_tier", "a")))
	s.Labels["tier"] = "b"
	if _, err := svcs.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "relabelled service", false, both(has("__address__", addr), has("__meta_kubernetes_service_label_tier", "b")))
	if err := svcs.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "deleted service", true, has("__address__", addr))
}

// TestDiscoveryEndpointsRole writes an Endpoints object as the endpoints
// controller would, then moves its address to not ready, then deletes it.
func TestDiscoveryEndpointsRole(t *testing.T) {
	ns := namespace(t, "disc-ep")
	rec := startDiscovery(t, "endpoints", ns)
	ctx := context.Background()
	if _, err := server.Client.CoreV1().Services(ns).Create(ctx, serviceObject(ns, "web", nil, 80), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eps := server.Client.CoreV1().Endpoints(ns) //nolint:staticcheck // the endpoints role reads this API
	e := &corev1.Endpoints{                     //nolint:staticcheck
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck
			Addresses: []corev1.EndpointAddress{{IP: "192.0.2.20"}},
			Ports:     []corev1.EndpointPort{{Name: "metrics", Port: 9100}}, //nolint:staticcheck
		}},
	}
	e, err := eps.Create(ctx, e, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "endpoint", false, both(has("__address__", "192.0.2.20:9100"), has("__meta_kubernetes_endpoint_ready", "true")))
	e.Subsets[0].NotReadyAddresses, e.Subsets[0].Addresses = e.Subsets[0].Addresses, nil
	if _, err := eps.Update(ctx, e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "endpoint not ready", false, both(has("__address__", "192.0.2.20:9100"), has("__meta_kubernetes_endpoint_ready", "false")))
	if err := eps.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "deleted endpoints", true, has("__address__", "192.0.2.20:9100"))
}

// TestDiscoveryEndpointSliceRole writes an EndpointSlice as the
// EndpointSlice controller would, then its endpoint goes not ready, then
// it is deleted.
func TestDiscoveryEndpointSliceRole(t *testing.T) {
	ns := namespace(t, "disc-eps")
	rec := startDiscovery(t, "endpointslice", ns)
	ctx := context.Background()
	if _, err := server.Client.CoreV1().Services(ns).Create(ctx, serviceObject(ns, "web", nil, 80), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	slices := server.Client.DiscoveryV1().EndpointSlices(ns)
	s, err := slices.Create(ctx, sliceObject(ns, "web", 9100, sliceEndpoint{ip: "192.0.2.21", ready: true}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "endpoint", false, both(has("__address__", "192.0.2.21:9100"), has("__meta_kubernetes_endpointslice_endpoint_conditions_ready", "true")))
	f := false
	s.Endpoints[0].Conditions.Ready = &f
	if _, err := slices.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "endpoint not ready", false, both(has("__address__", "192.0.2.21:9100"), has("__meta_kubernetes_endpointslice_endpoint_conditions_ready", "false")))
	if err := slices.Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "deleted slice", true, has("__address__", "192.0.2.21:9100"))
}

// TestDiscoveryNodeRole registers a node as a kubelet would.
func TestDiscoveryNodeRole(t *testing.T) {
	rec := startDiscovery(t, "node", "")
	ctx := context.Background()
	nodes := server.Client.CoreV1().Nodes()
	n, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"zone": "z1"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.30"}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = 10250
	if n, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "node", false, both(has("__address__", "192.0.2.30:10250"), has("__meta_kubernetes_node_label_zone", "z1")))
	n.Labels["zone"] = "z2"
	if _, err := nodes.Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "relabelled node", false, has("__meta_kubernetes_node_label_zone", "z2"))
	if err := nodes.Delete(ctx, "node-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "deleted node", true, has("__meta_kubernetes_node_name", "node-a"))
}

// TestDiscoveryIngressRole follows an ingress's host change and deletion.
func TestDiscoveryIngressRole(t *testing.T) {
	ns := namespace(t, "disc-ing")
	rec := startDiscovery(t, "ingress", ns)
	ctx := context.Background()
	ings := server.Client.NetworkingV1().Ingresses(ns)
	in, err := ings.Create(ctx, ingressObject(ns, "web", "a.example.org"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "ingress", false, has("__address__", "a.example.org"))
	in.Spec.Rules[0].Host = "b.example.org"
	if _, err := ings.Update(ctx, in, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "changed ingress", false, has("__address__", "b.example.org"))
	waitTarget(t, rec, "old host", true, has("__address__", "a.example.org"))
	if err := ings.Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitTarget(t, rec, "deleted ingress", true, has("__meta_kubernetes_ingress_name", "web"))
}
