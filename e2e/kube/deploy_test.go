package kube

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/shoal-dev/shoal/internal/configfile"
)

// TestDeployExample creates every object of deploy/kubernetes/servicemonitors
// in the API server, with the operator's CRDs installed: the server checks
// each against its schema (the ServiceMonitor against the CRD's). The
// ConfigMap's config passes `shoal validate`.
func TestDeployExample(t *testing.T) {
	files, err := filepath.Glob("../../deploy/kubernetes/servicemonitors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example manifests: %v", err)
	}
	ctx := context.Background()
	if _, err := server.Client.CoreV1().Namespaces().Create(ctx, nsObject("shoal"), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if _, err := server.Client.CoreV1().Namespaces().Create(ctx, nsObject("default"), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	resources := map[string]string{
		"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings", "ConfigMap": "configmaps",
		"Secret": "secrets", "Service": "services", "ServiceMonitor": "servicemonitors",
	}
	created := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
		for {
			var u unstructured.Unstructured
			if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
			if err != nil {
				t.Fatal(err)
			}
			res, ok := resources[u.GetKind()]
			if !ok {
				t.Fatalf("%s: kind %s not known to the test", f, u.GetKind())
			}
			ri := dyn.Resource(gv.WithResource(res))
			var got *unstructured.Unstructured
			if u.GetNamespace() != "" {
				got, err = ri.Namespace(u.GetNamespace()).Create(ctx, &u, metav1.CreateOptions{FieldValidation: "Strict"})
			} else {
				got, err = ri.Create(ctx, &u, metav1.CreateOptions{FieldValidation: "Strict"})
			}
			if err != nil {
				t.Fatalf("%s: %s %s: %v", f, u.GetKind(), u.GetName(), err)
			}
			created++
			if u.GetKind() == "ConfigMap" {
				var cm corev1.ConfigMap
				data, _, _ := unstructured.NestedStringMap(got.Object, "data")
				cm.Data = data
				src := cm.Data["config.alloy"]
				if !strings.Contains(src, "prometheus.operator.servicemonitors") {
					t.Errorf("the example's config does not use prometheus.operator.servicemonitors")
				}
				p := filepath.Join(t.TempDir(), "config.alloy")
				if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				var out, errb bytes.Buffer
				if code := configfile.Validate(p, &out, &errb); code != 0 {
					t.Errorf("shoal validate fails on the example's config:\n%s", errb.String())
				}
			}
		}
	}
	if created < 6 {
		t.Fatalf("created %d objects, want at least 6", created)
	}
}
