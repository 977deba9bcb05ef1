package operator

import (
	"context"
	"fmt"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/internal/component/discovery"
)

type fakeSecrets map[string]string

func (f fakeSecrets) Secret(_ context.Context, ns string, s corev1.SecretKeySelector) (string, error) {
	v, ok := f[ns+"/"+s.Name+"/"+s.Key]
	if !ok {
		return "", fmt.Errorf("no secret %s/%s key %s", ns, s.Name, s.Key)
	}
	return v, nil
}

func (f fakeSecrets) ConfigMap(_ context.Context, ns string, s corev1.ConfigMapKeySelector) (string, error) {
	v, ok := f[ns+"/"+s.Name+"/"+s.Key]
	if !ok {
		return "", fmt.Errorf("no configmap %s/%s key %s", ns, s.Name, s.Key)
	}
	return v, nil
}

func sel(name, key string) corev1.SecretKeySelector {
	return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
}

// TestServiceMonitorJob follows one ServiceMonitor endpoint from its fields
// to the scrape settings and to the labels of a discovered endpoint.
func TestServiceMonitorJob(t *testing.T) {
	limit := int64(500)
	sm := &monitoringv1.ServiceMonitor{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector:     metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			TargetLabels: []string{"team"},
			SampleLimit:  &limit,
			Endpoints: []monitoringv1.Endpoint{{
				Port:        "metrics",
				Interval:    "15s",
				HonorLabels: true,
				Path:        "/m",
				RelabelConfigs: []monitoringv1.RelabelConfig{{
					SourceLabels: []monitoringv1.LabelName{"__meta_kubernetes_pod_node_name"}, TargetLabel: "host",
				}},
				MetricRelabelConfigs: []monitoringv1.RelabelConfig{{
					SourceLabels: []monitoringv1.LabelName{"__name__"}, Regex: "go_.*", Action: "drop",
				}},
			}},
		},
	}
	sm.Spec.Endpoints[0].BasicAuth = &monitoringv1.BasicAuth{Username: sel("creds", "user"), Password: sel("creds", "pass")}
	g := &Generator{Secrets: fakeSecrets{"shop/creds/user": "alice", "shop/creds/pass": "s3cret"}, Role: RoleEndpoints}
	jobs, err := g.ServiceMonitor(context.Background(), sm)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("got %d jobs, want 1", len(jobs))
	}
	j := jobs[0]
	if j.Name != "serviceMonitor/shop/web/0" {
		t.Errorf("job name %q", j.Name)
	}
	if j.Scrape.Interval != 15*time.Second || j.Scrape.MetricsPath != "/m" || !j.Scrape.HonorLabels || j.Scrape.SampleLimit != 500 {
		t.Errorf("scrape settings: interval %v path %q honor %v sample limit %d", j.Scrape.Interval, j.Scrape.MetricsPath, j.Scrape.HonorLabels, j.Scrape.SampleLimit)
	}
	if ba := j.Scrape.HTTPClient.BasicAuth; ba == nil || ba.Username != "alice" || string(ba.Password) != "s3cret" {
		t.Errorf("basic auth %+v", ba)
	}
	if len(j.Scrape.MetricRelabel) != 1 {
		t.Errorf("%d metric relabel rules, want 1", len(j.Scrape.MetricRelabel))
	}
	if got := j.SD.NamespaceDiscovery.Names; len(got) != 1 || got[0] != "shop" {
		t.Errorf("namespaces %v", got)
	}

	base := discovery.Target{
		"__address__":                         "10.0.0.1:8080",
		"__meta_kubernetes_namespace":         "shop",
		"__meta_kubernetes_service_name":      "web-svc",
		"__meta_kubernetes_service_label_app": "web", "__meta_kubernetes_service_labelpresent_app": "true",
		"__meta_kubernetes_service_label_team":           "blue",
		"__meta_kubernetes_endpoint_port_name":           "metrics",
		"__meta_kubernetes_endpoint_address_target_kind": "Pod",
		"__meta_kubernetes_endpoint_address_target_name": "web-1",
		"__meta_kubernetes_pod_name":                     "web-1",
		"__meta_kubernetes_pod_container_name":           "app",
		"__meta_kubernetes_pod_node_name":                "n1",
		"__meta_kubernetes_pod_phase":                    "Running",
	}
	other := discovery.Target{}
	for k, v := range base {
		other[k] = v
	}
	other["__meta_kubernetes_endpoint_port_name"] = "http"
	failed := discovery.Target{}
	for k, v := range base {
		failed[k] = v
	}
	failed["__meta_kubernetes_pod_phase"] = "Failed"
	failed["__address__"] = "10.0.0.2:8080"

	out := relabelTargets([]discovery.Target{base, other, failed}, &j)
	if len(out) != 1 {
		t.Fatalf("got %d targets, want 1 (wrong port and failed pod dropped): %v", len(out), out)
	}
	want := map[string]string{
		"job": "web-svc", "namespace": "shop", "service": "web-svc", "pod": "web-1", "container": "app",
		"endpoint": "metrics", "team": "blue", "host": "n1", "__metrics_path__": "/m",
		"__tmp_prometheus_job_name": "serviceMonitor/shop/web/0", "__scrape_interval__": "15s",
	}
	for k, v := range want {
		if got := out[0].Get(k); got != v {
			t.Errorf("label %s = %q, want %q", k, got, v)
		}
	}
	if out[0].Has("__meta_kubernetes_pod_name") {
		t.Error("meta labels are left on the target")
	}
}

// TestPodMonitorJob checks the PodMonitor's own rules: the job label is
// namespace/name and the port is matched on the container's port name.
func TestPodMonitorJob(t *testing.T) {
	port := "metrics"
	pm := &monitoringv1.PodMonitor{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "pods"},
		Spec: monitoringv1.PodMonitorSpec{
			Selector:            metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			PodMetricsEndpoints: []monitoringv1.PodMetricsEndpoint{{Port: &port}},
		},
	}
	g := &Generator{Secrets: fakeSecrets{}}
	jobs, err := g.PodMonitor(context.Background(), pm)
	if err != nil {
		t.Fatal(err)
	}
	tg := discovery.Target{
		"__address__": "10.0.0.1:9000", "__meta_kubernetes_namespace": "shop",
		"__meta_kubernetes_pod_label_app": "web", "__meta_kubernetes_pod_labelpresent_app": "true",
		"__meta_kubernetes_pod_container_port_name": "metrics", "__meta_kubernetes_pod_name": "web-1",
		"__meta_kubernetes_pod_phase": "Running",
	}
	out := relabelTargets([]discovery.Target{tg}, &jobs[0])
	if len(out) != 1 || out[0].Get("job") != "shop/pods" || out[0].Get("endpoint") != "metrics" {
		t.Fatalf("targets %v", out)
	}
	tg["__meta_kubernetes_pod_label_app"] = "api"
	if out := relabelTargets([]discovery.Target{tg}, &jobs[0]); len(out) != 0 {
		t.Fatalf("a pod the selector does not match was kept: %v", out)
	}
}

// TestArbitraryFileAccess refuses file fields unless allowed, as Alloy.
func TestArbitraryFileAccess(t *testing.T) {
	sm := &monitoringv1.ServiceMonitor{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"},
		Spec:       monitoringv1.ServiceMonitorSpec{Endpoints: []monitoringv1.Endpoint{{Port: "m", BearerTokenFile: "/etc/passwd"}}},
	}
	g := &Generator{Secrets: fakeSecrets{}, Role: RoleEndpoints}
	if _, err := g.ServiceMonitor(context.Background(), sm); err == nil {
		t.Fatal("bearerTokenFile accepted without allow_arbitrary_file_access")
	}
	g.AllowArbitraryFileAccess = true
	jobs, err := g.ServiceMonitor(context.Background(), sm)
	if err != nil {
		t.Fatal(err)
	}
	// Prometheus' validation turns bearer_token_file into authorization's
	// credentials_file.
	hc := jobs[0].Scrape.HTTPClient
	if hc.BearerTokenFile != "/etc/passwd" && (hc.Authorization == nil || hc.Authorization.CredentialsFile != "/etc/passwd") {
		t.Fatal("bearerTokenFile not applied")
	}
}

// TestMissingSecret names the field whose Secret is missing.
func TestMissingSecret(t *testing.T) {
	s := sel("nope", "token")
	sm := &monitoringv1.ServiceMonitor{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"},
		Spec:       monitoringv1.ServiceMonitorSpec{Endpoints: []monitoringv1.Endpoint{{Port: "m"}}},
	}
	sm.Spec.Endpoints[0].BearerTokenSecret = &s
	g := &Generator{Secrets: fakeSecrets{}, Role: RoleEndpoints}
	_, err := g.ServiceMonitor(context.Background(), sm)
	if err == nil || !contains(err.Error(), "bearerTokenSecret") {
		t.Fatalf("err = %v, want one naming bearerTokenSecret", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestProbeStatic turns static probe targets into target parameters of
// the prober's address.
func TestProbeStatic(t *testing.T) {
	p := &monitoringv1.Probe{
		ObjectMeta: metav1.ObjectMeta{Namespace: "mon", Name: "sites"},
		Spec: monitoringv1.ProbeSpec{
			Module:     "http_2xx",
			ProberSpec: monitoringv1.ProberSpec{URL: "blackbox:9115"},
			Targets:    monitoringv1.ProbeTargets{StaticConfig: &monitoringv1.ProbeTargetStaticConfig{Targets: []string{"https://example.org"}}},
		},
	}
	g := &Generator{Secrets: fakeSecrets{}}
	jobs, err := g.Probe(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	j := jobs[0]
	out := relabelTargets(j.Static, &j)
	if len(out) != 1 {
		t.Fatalf("targets %v", out)
	}
	l := out[0]
	if l.Get("__address__") != "blackbox:9115" || l.Get("__param_target") != "https://example.org" ||
		l.Get("instance") != "https://example.org" || l.Get("namespace") != "mon" || l.Get("__param_module") != "http_2xx" {
		t.Fatalf("labels %v", l)
	}
	if j.Scrape.MetricsPath != "/probe" {
		t.Fatalf("metrics path %q", j.Scrape.MetricsPath)
	}
}
