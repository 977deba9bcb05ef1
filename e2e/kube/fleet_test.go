package kube

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/shoal-dev/shoal/internal/lab"
)

// forwardAPI listens at the lab network's world address and forwards each
// connection to the API server on this process's loopback, so that nodes
// in their namespaces reach it. It returns a kubeconfig for them.
func forwardAPI(t *testing.T, nw *lab.Network) string {
	t.Helper()
	ln, err := nw.Listen("tcp", lab.WorldIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	target := server.Config.Host
	if u, err := urlHost(target); err == nil {
		target = u
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["lab"] = &clientcmdapi.Cluster{Server: "https://" + ln.Addr().String(), InsecureSkipTLSVerify: true}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: server.Config.BearerToken}
	kc.Contexts["lab"] = &clientcmdapi.Context{Cluster: "lab", AuthInfo: "admin"}
	kc.CurrentContext = "lab"
	file := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, file); err != nil {
		t.Fatal(err)
	}
	return file
}

func urlHost(u string) (string, error) {
	h, p, err := net.SplitHostPort(u[len("https://"):])
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(h, p), nil
}

// TestFleetSplitsOperatorTargets runs three real shoal processes, each in
// its own network namespace, that discover through the API server the
// targets of a ServiceMonitor (EndpointSlices) and of a PodMonitor (pods),
// backed by the lab's synthetic targets, and split them: no tick is missed
// or scraped twice across an edit of the ServiceMonitor and a node restart.
func TestFleetSplitsOperatorTargets(t *testing.T) {
	if err := lab.NetworkAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs network namespaces: %v", err)
		}
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "shoal")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/shoal")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building shoal: %v\n%s", err, out)
	}
	const interval = 2 * time.Second
	var (
		once       sync.Once
		kubeconfig string
	)
	rig, err := lab.NewRig(ctx, lab.ScenarioOptions{
		Nodes: 3, Targets: 12, Series: 5, Interval: interval, Binary: bin, Partitioned: true,
		Config: func(r *lab.Rig, node string) string {
			once.Do(func() { kubeconfig = forwardAPI(t, r.Network) })
			return fmt.Sprintf(`prometheus.operator.servicemonitors "k8s" {
  forward_to      = [prometheus.remote_write.rx.receiver]
  namespaces      = ["fleet"]
  kubernetes_role = "endpointslice"
  client {
    kubeconfig_file = %[1]q
  }
  clustering {
    enabled = true
  }
}

prometheus.operator.podmonitors "k8s" {
  forward_to = [prometheus.remote_write.rx.receiver]
  namespaces = ["fleet"]
  client {
    kubeconfig_file = %[1]q
  }
  clustering {
    enabled = true
  }
}

prometheus.remote_write "rx" {
  endpoint {
    url = %[2]q
  }
}
`, kubeconfig, r.Receiver.URL())
		},
	}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()

	// Half the targets behind a Service, half as pods.
	ns := namespace(t, "fleet")
	addrs := rig.Targets.Addrs()
	if _, err := server.Client.CoreV1().Services(ns).Create(ctx, serviceObject(ns, "synth", map[string]string{"app": "synth"}, 80), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, a := range addrs {
		host, portText, _ := net.SplitHostPort(a)
		port, _ := strconv.Atoi(portText)
		if i%2 == 0 {
			s := sliceObject(ns, "synth", int32(port), sliceEndpoint{ip: host, ready: true})
			s.Name = fmt.Sprintf("synth-%d", i)
			if _, err := server.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		p, err := server.Client.CoreV1().Pods(ns).Create(ctx, podObject(ns, fmt.Sprintf("synth-%d", i), map[string]string{"app": "synth-pod"}, int32(port)), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		podRunning(p, host, true)
		if _, err := server.Client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	sm := createCR(t, smGVR, ns, map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
		"metadata": map[string]any{"name": "synth", "namespace": ns},
		"spec": map[string]any{
			"selector":  map[string]any{"matchLabels": map[string]any{"app": "synth"}},
			"endpoints": []any{map[string]any{"port": "metrics", "interval": "2s", "scrapeTimeout": "1s"}},
		},
	})
	createCR(t, pmGVR, ns, map[string]any{
		"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
		"metadata": map[string]any{"name": "synth", "namespace": ns},
		"spec": map[string]any{
			"selector":            map[string]any{"matchLabels": map[string]any{"app": "synth-pod"}},
			"podMetricsEndpoints": []any{map[string]any{"port": "metrics", "interval": "2s", "scrapeTimeout": "1s"}},
		},
	})
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatalf("fleet not ready: %v\n%s", err, rig.Fleet.Logs(40))
	}
	// Every target delivered for a few intervals before measuring.
	eventually(t, 90*time.Second, func() bool {
		by := rig.Receiver.ByInstance()
		for _, a := range addrs {
			if len(by[a].UpTimes) < 3 {
				return false
			}
		}
		return true
	}, "not every target delivered; logs:\n%s", rig.Fleet.Logs(30))

	from := time.Now().Truncate(interval).Add(interval)
	time.Sleep(time.Until(from) + 3*interval)
	// An edit that keeps the targets: a metric relabeling.
	eps, _, _ := unstructuredSlice(sm.Object, "spec", "endpoints")
	eps[0].(map[string]any)["metricRelabelings"] = []any{map[string]any{
		"sourceLabels": []any{"__name__"}, "regex": "nothing_matches_this", "action": "drop",
	}}
	if err := setUnstructuredSlice(sm.Object, eps, "spec", "endpoints"); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(smGVR).Namespace(ns).Update(ctx, sm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * interval)
	if err := rig.Fleet.Nodes()[1].Restart(ctx); err != nil {
		t.Fatalf("restart: %v\n%s", err, rig.Fleet.Logs(30))
	}
	if err := rig.Fleet.WaitReady(ctx); err != nil {
		t.Fatalf("fleet not ready after the restart: %v", err)
	}
	time.Sleep(6 * interval)
	to := time.Now().Truncate(interval)
	rig.WaitDelivered(ctx, to)
	rep := rig.Report(ctx, "operator targets across an edit and a restart", from, to)
	t.Logf("%+v", rep)
	if rep.Expected == 0 || rep.Targets != len(addrs) {
		t.Fatalf("nothing measured: %+v", rep)
	}
	if rep.Missed != 0 || rep.Doubled != 0 {
		t.Errorf("missed %d, doubled %d ticks of %d (report %+v)\n%s", rep.Missed, rep.Doubled, rep.Expected, rep, rig.Fleet.Logs(40))
	}
}

var _ = corev1.PodRunning
