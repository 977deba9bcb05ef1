// Package apiserver starts a real Kubernetes API server (kube-apiserver's
// own test server over an embedded etcd) inside the test process, once per
// test package, for shoal's Kubernetes tests.
//
// No controllers run beside it: tests write EndpointSlices and pod status
// themselves. The API server refuses loopback addresses in Endpoints and
// EndpointSlices, so targets that it must point at live in network
// namespaces that the tests create (internal/lab's Network), or carry
// documentation addresses that nothing dials. Package kube's TestMain is
// the user and the test of Start.
package apiserver

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	etcdserver "k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/cert"
	kubeapiservertesting "k8s.io/kubernetes/cmd/kube-apiserver/app/testing"
)

// Server is a running API server.
type Server struct {
	// Config reaches the server as cluster admin.
	Config *rest.Config
	// Client is a clientset built from Config.
	Client kubernetes.Interface
	// Kubeconfig is the path of a kubeconfig file that reaches the server
	// as cluster admin, for shoal processes and components.
	Kubeconfig string
	// Startup is how long etcd and the API server took to start and answer.
	Startup time.Duration

	tb *mainTB
}

// Stop stops the API server and etcd, and removes their files.
func (s *Server) Stop() { s.tb.cleanup() }

// Start starts etcd and the API server. It is meant for TestMain, where no
// testing.T exists: failures come back as an error.
func Start() (srv *Server, err error) {
	tb := &mainTB{name: "TestMain"}
	dir, err := os.MkdirTemp("", "shoal-apiserver-")
	if err != nil {
		return nil, err
	}
	tb.dir = dir
	tb.Cleanup(func() { os.RemoveAll(dir) })
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(tbFailed); !ok {
				panic(r)
			}
			tb.cleanup()
			err = fmt.Errorf("starting the API server: %s", tb.failure)
			srv = nil
		}
	}()
	start := time.Now()
	cfg := etcdserver.NewTestConfig(tb)
	etcdClient := etcdserver.RunEtcd(tb, cfg)
	storage := storagebackend.NewDefaultConfig(path.Join(uuid.New().String(), "registry"), nil)
	storage.Transport.ServerList = etcdClient.Endpoints()
	ts, err := kubeapiservertesting.StartTestServer(tb, nil, nil, storage)
	if err != nil {
		tb.cleanup()
		return nil, err
	}
	tb.Cleanup(ts.TearDownFn)
	srv = &Server{Config: ts.ClientConfig, tb: tb, Startup: time.Since(start)}
	srv.Client, err = kubernetes.NewForConfig(ts.ClientConfig)
	if err != nil {
		tb.cleanup()
		return nil, err
	}
	srv.Kubeconfig, err = writeKubeconfig(ts.ClientConfig, filepath.Join(dir, "kubeconfig"))
	if err != nil {
		tb.cleanup()
		return nil, err
	}
	return srv, nil
}

// writeKubeconfig writes a kubeconfig for other processes. The test server's
// own config names the loopback certificate's server name; other clients
// verify the serving certificate, so the file carries that instead.
func writeKubeconfig(c *rest.Config, file string) (string, error) {
	certs, _, err := cert.GetServingCertificatesForURL(c.Host, "")
	if err != nil {
		return "", err
	}
	ca, err := cert.EncodeCertificates(certs...)
	if err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["test"] = &clientcmdapi.Cluster{Server: c.Host, CertificateAuthorityData: ca}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: c.BearerToken}
	kc.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	kc.CurrentContext = "test"
	if err := clientcmd.WriteToFile(*kc, file); err != nil {
		return "", err
	}
	return file, nil
}

// tbFailed is what mainTB panics with on Fatal, so that Start can recover
// and return an error instead.
type tbFailed struct{}

// mainTB stands in for a *testing.T in TestMain. The embedded testing.TB is
// nil: it only supplies the unexported method; every method the API server's
// test helpers call is defined here.
type mainTB struct {
	testing.TB
	name     string
	dir      string
	mu       sync.Mutex
	cleanups []func()
	failed   bool
	failure  string
	tmp      int
}

func (t *mainTB) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func (t *mainTB) Attr(key, value string) {}
func (t *mainTB) Chdir(dir string)       { _ = os.Chdir(dir) }
func (t *mainTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}
func (t *mainTB) Error(args ...any) { t.fail(fmt.Sprint(args...)) }
func (t *mainTB) Errorf(format string, args ...any) {
	t.fail(fmt.Sprintf(format, args...))
}
func (t *mainTB) Fail() { t.fail("failed") }
func (t *mainTB) FailNow() {
	t.fail("failed")
	panic(tbFailed{})
}
func (t *mainTB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
func (t *mainTB) Fatal(args ...any) {
	t.fail(fmt.Sprint(args...))
	panic(tbFailed{})
}
func (t *mainTB) Fatalf(format string, args ...any) {
	t.fail(fmt.Sprintf(format, args...))
	panic(tbFailed{})
}
func (t *mainTB) Helper() {}
func (t *mainTB) Log(args ...any) {
	if testing.Verbose() {
		fmt.Fprintln(os.Stderr, args...)
	}
}
func (t *mainTB) Logf(format string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}
func (t *mainTB) Name() string                     { return t.name }
func (t *mainTB) Setenv(key, value string)         { os.Setenv(key, value) }
func (t *mainTB) Skip(args ...any)                 { t.Fatal(args...) }
func (t *mainTB) Skipf(format string, args ...any) { t.Fatalf(format, args...) }
func (t *mainTB) SkipNow()                         { t.FailNow() }
func (t *mainTB) Skipped() bool                    { return false }
func (t *mainTB) TempDir() string {
	t.mu.Lock()
	t.tmp++
	n := t.tmp
	t.mu.Unlock()
	d := filepath.Join(t.dir, fmt.Sprintf("tmp%d", n))
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}
func (t *mainTB) fail(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
	if t.failure == "" {
		t.failure = msg
	} else {
		t.failure += "; " + msg
	}
}
