package kube

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	remotek8s "github.com/shoal-dev/shoal/internal/component/remote/kubernetes"
)

func remoteValue(rec *discoverytest.Recorder, key string) string {
	e, ok := rec.Last().(remotek8s.Exports)
	if !ok {
		return ""
	}
	return e.Data[key].Value
}

// TestRemoteKubernetes reads a Secret and a ConfigMap from the API server,
// follows a change of each, and turns unhealthy once the object is gone.
func TestRemoteKubernetes(t *testing.T) {
	ns := namespace(t, "remote")
	ctx := context.Background()
	secrets := server.Client.CoreV1().Secrets(ns)
	cms := server.Client.CoreV1().ConfigMaps(ns)
	s, err := secrets.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		Data: map[string][]byte{"token": []byte("one")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cfg"},
		Data: map[string]string{"job": "a"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := func(kind remotek8s.Kind, name string) (*remotek8s.Component, *discoverytest.Recorder) {
		opts, rec, _ := discoverytest.Options(t, "remote.kubernetes."+string(kind)+".test")
		a := remotek8s.DefaultArguments
		a.Namespace, a.Name = ns, name
		a.PollFrequency, a.PollTimeout = 200*time.Millisecond, 5*time.Second
		a.Client.KubeConfig = server.Kubeconfig
		c, err := remotek8s.New(opts, a, kind)
		if err != nil {
			t.Fatal(err)
		}
		discoverytest.Run(t, c)
		return c, rec
	}
	sc, srec := start(remotek8s.KindSecret, "creds")
	cc, crec := start(remotek8s.KindConfigMap, "cfg")
	eventually(t, watchBound, func() bool { return remoteValue(srec, "token") == "one" && remoteValue(crec, "job") == "a" }, "first read")
	if e := srec.Last().(remotek8s.Exports); !e.Data["token"].IsSecret {
		t.Error("a Secret's value is exported as plain text")
	}

	s.Data["token"] = []byte("two")
	if _, err := secrets.Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.Data["job"] = "b"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, watchBound, func() bool { return remoteValue(srec, "token") == "two" && remoteValue(crec, "job") == "b" }, "changed values: %q %q", remoteValue(srec, "token"), remoteValue(crec, "job"))

	if err := secrets.Delete(ctx, "creds", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "cfg", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, watchBound, func() bool {
		return sc.CurrentHealth().State == component.HealthUnhealthy && cc.CurrentHealth().State == component.HealthUnhealthy
	}, "unhealthy after deletion: %v %v", sc.CurrentHealth(), cc.CurrentHealth())
	if remoteValue(srec, "token") != "two" {
		t.Error("the last value read was not kept after the object went")
	}
}
