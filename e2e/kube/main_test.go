// Package kube holds shoal's tests against a real Kubernetes API server
// (kube-apiserver over an embedded etcd, started once for the package in
// TestMain): discovery.kubernetes in every role, remote.kubernetes.secret
// and configmap, and the prometheus.operator.* components followed through
// watch updates. It is a Go module of its own so that k8s.io/kubernetes
// never enters shoal's go.mod.
//
// No controllers run: the tests write EndpointSlices and pod status
// themselves. The API server refuses loopback addresses in EndpointSlices,
// so the objects carry documentation addresses (192.0.2.0/24, never
// dialled), and the operator tests' rule blocks rewrite __address__ to a
// listener on loopback before anything is scraped.
package kube

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	"github.com/shoal-dev/shoal/e2e/kube/apiserver"
)

var (
	server *apiserver.Server
	dyn    *dynamic.DynamicClient
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The API server logs a great deal; keep it out of the test output.
	klog.LogToStderr(false)
	klog.SetOutput(discard{})
	s, err := apiserver.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start the API server:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "API server started in %v\n", s.Startup.Round(time.Millisecond))
	server = s
	code := func() int {
		if err := setup(); err != nil {
			fmt.Fprintln(os.Stderr, "setup:", err)
			return 1
		}
		return m.Run()
	}()
	s.Stop()
	os.Exit(code)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// setup installs the Prometheus Operator's CRDs (from its v0.85.0 release)
// and waits until they are served.
func setup() error {
	var err error
	if dyn, err = dynamic.NewForConfig(server.Config); err != nil {
		return err
	}
	ext, err := apiextclient.NewForConfig(server.Config)
	if err != nil {
		return err
	}
	files, err := filepath.Glob("testdata/crds/*.yaml")
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in testdata/crds: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(b, &crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for {
			got, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err == nil && established(got) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("CRD %s never established", crd.Name)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func established(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// eventually waits for cond with a deadline; it asserts no timing beyond
// that bound.
func eventually(t testing.TB, within time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: "+format, append([]any{within}, args...)...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// namespace creates a namespace for one test.
func namespace(t testing.TB, name string) string {
	t.Helper()
	_, err := server.Client.CoreV1().Namespaces().Create(context.Background(), nsObject(name), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No controller creates the default service account that pods need.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "default"}}
	if _, err := server.Client.CoreV1().ServiceAccounts(name).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return name
}
