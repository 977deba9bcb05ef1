// Package realconfigs checks shoal against the real Alloy configs kept in
// testdata/ (copied from ../shared/alloy-real-configs, see
// testdata/README.md): every config whose components shoal all has must
// pass `shoal validate`, and `shoal run` must start it with every component
// healthy once its inputs exist. A config is in scope when every component
// it names is registered (internal/component/all), so a config joins the
// test by itself the day its last component lands; the others are checked
// to be refused naming a missing component.
//
// The inputs are faked around an unchanged config, except for one edit:
// each prometheus.remote_write endpoint's literal url points at a local
// receiver. `shoal run` starts in a private mount namespace (unshare -m,
// so it needs root) in which /etc/hosts maps the configs' host names
// (prometheus, redis, python, ...) to loopback, /etc/resolv.conf names a
// loopback DNS server of the test that answers the SRV names, and /run
// holds a Kubernetes service account whose in-cluster API server is a
// local fake serving empty lists. Nothing outside loopback is contacted.
package realconfigs

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/shoal-dev/shoal/internal/alloycatalog"
	"github.com/shoal-dev/shoal/internal/component/all"
	"github.com/shoal-dev/shoal/internal/lab"
	"github.com/shoal-dev/shoal/internal/syntax/ast"
	"github.com/shoal-dev/shoal/internal/syntax/parser"
)

var shoalBin string

// TestMain builds shoal once (unless $SHOAL_BIN names a binary).
func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	bin, err := lab.ShoalBinary(ctx)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "realconfigs: cannot build shoal: %v\n", err)
		os.Exit(1)
	}
	shoalBin = bin
	os.Exit(m.Run())
}

// realConfig is one config of testdata/ with the components it names.
type realConfig struct {
	name       string
	path       string
	src        []byte
	components []string // every Alloy component named, sorted, unique
	missing    []string // those shoal does not register
}

// loadConfigs parses every testdata/*.alloy and sorts its components.
func loadConfigs(t *testing.T) []realConfig {
	t.Helper()
	files, _ := filepath.Glob("testdata/*.alloy")
	if len(files) < 18 {
		t.Fatalf("found %d real configs in testdata, want the 18 of shared/alloy-real-configs", len(files))
	}
	reg := all.Registry()
	var out []realConfig
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(f, src)
		if err != nil {
			t.Fatalf("%s does not parse: %v", f, err)
		}
		c := realConfig{name: strings.TrimSuffix(filepath.Base(f), ".alloy"), path: f, src: src}
		seen := map[string]bool{}
		var walk func(body ast.Body)
		walk = func(body ast.Body) {
			for _, st := range body {
				b, ok := st.(*ast.BlockStmt)
				if !ok {
					continue
				}
				name := b.GetBlockName()
				if _, isComponent := alloycatalog.Component(name); isComponent && !seen[name] {
					seen[name] = true
					c.components = append(c.components, name)
					if _, ok := reg.Get(name); !ok {
						c.missing = append(c.missing, name)
					}
				}
				walk(b.Body)
			}
		}
		walk(file.Body)
		slices.Sort(c.components)
		slices.Sort(c.missing)
		out = append(out, c)
	}
	return out
}

// TestRealConfigs validates and runs every in-scope real config, and
// checks that every other one is refused naming a component it lacks.
func TestRealConfigs(t *testing.T) {
	configs := loadConfigs(t)
	var inScope, refused []string
	for _, c := range configs {
		if len(c.missing) == 0 {
			inScope = append(inScope, c.name)
		} else {
			refused = append(refused, c.name+": "+strings.Join(c.missing, ", "))
		}
	}
	t.Logf("in scope (%d): %s", len(inScope), strings.Join(inScope, " "))
	t.Logf("refused (%d):\n  %s", len(refused), strings.Join(refused, "\n  "))
	if len(inScope) == 0 {
		t.Fatal("no real config is in scope")
	}
	env := startWorld(t)
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			if len(c.missing) > 0 {
				checkRefused(t, c)
				return
			}
			path := env.prepare(t, c)
			validate(t, path)
			if usage, ok := moduleUsage[c.name]; ok {
				// A module declares components and runs none: run the
				// instances its documentation shows, importing it.
				c.src = []byte(strings.NewReplacer("MODULE", strconv.Quote(path), "RECEIVER", strconv.Quote(env.receiver.URL())).Replace(usage))
				path = filepath.Join(t.TempDir(), "use-module.alloy")
				must(t, os.WriteFile(path, c.src, 0o644))
				c.path = path
				validate(t, path)
			}
			env.run(t, c, path)
		})
	}
}

// moduleUsage is how the documentation of each module config (a file of
// declare blocks only) uses it; MODULE is the module's path and RECEIVER
// the remote write URL.
var moduleUsage = map[string]string{
	// alloy-modules' README for modules/kubernetes/annotations.
	"grafana-alloy-modules--modules-kubernetes-annotations-metrics": `
import.file "metric_annotations" {
  filename = MODULE
}

metric_annotations.kubernetes "targets" {
  role       = "endpoints"
  annotation = "metrics.grafana.com"
}

metric_annotations.metrics "default" {
  targets    = metric_annotations.kubernetes.targets.output
  forward_to = [prometheus.remote_write.default.receiver]
}

prometheus.remote_write "default" {
  endpoint {
    url = RECEIVER
  }
}
`,
}

// checkRefused runs `shoal validate` on a config shoal cannot run: it
// must fail, naming one of the components it lacks.
func checkRefused(t *testing.T, c realConfig) {
	out, err := exec.Command(shoalBin, "validate", c.path).CombinedOutput()
	if err == nil {
		t.Fatalf("shoal validate accepted %s, which uses %v that shoal lacks:\n%s", c.name, c.missing, out)
	}
	for _, m := range c.missing {
		if strings.Contains(string(out), m) {
			return
		}
	}
	t.Fatalf("shoal validate refused %s without naming any of %v:\n%s", c.name, c.missing, out)
}

func validate(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(shoalBin, "validate", path).CombinedOutput()
	if err != nil {
		t.Fatalf("shoal validate: %v\n%s", err, out)
	}
}

// world is what the configs' inputs stand on: a receiver, a DNS server, a
// fake Kubernetes API server and a service account, the hosts file and
// the environment.
type world struct {
	receiver *lab.Receiver
	dir      string // hosts, resolv.conf, serviceaccount/
	k8sHost  string
	k8sPort  string
	env      []string
}

// hostNames are the hosts the real configs' targets and exporters name
// (docker-compose services and in-cluster names); they all resolve to
// 127.0.0.1 inside the mount namespace.
var hostNames = []string{
	"prometheus", "redis", "python", "node", "go", "java", "csharp", "mimir", "loki", "tempo", "pyroscope",
	"remote-write-url1", "rabbitmq", "alloy", "localhost.localdomain",
	"prometheus.prometheus.svc", "prometheus-server.meta.svc.cluster.local",
}

// srvNames are the SRV names the configs' discovery.dns blocks look up.
var srvNames = []string{"_metrics._tcp.demo.local."}

func startWorld(t *testing.T) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "not root: `shoal run` starts in a private mount namespace (unshare -m)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		skipOrFail(t, "no unshare (util-linux)")
	}
	w := &world{dir: t.TempDir()}
	r, err := lab.StartReceiver()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	w.receiver = r

	dnsAddr := startDNS(t)
	hosts := "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + strings.Join(hostNames, " ") + "\n"
	resolv := "nameserver " + dnsAddr + "\noptions timeout:1 attempts:2\n"
	must(t, os.WriteFile(filepath.Join(w.dir, "hosts"), []byte(hosts), 0o644))
	must(t, os.WriteFile(filepath.Join(w.dir, "resolv.conf"), []byte(resolv), 0o644))

	api := httptest.NewTLSServer(http.HandlerFunc(fakeKubernetes))
	t.Cleanup(api.Close)
	host, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	w.k8sHost, w.k8sPort = host, port
	sa := filepath.Join(w.dir, "serviceaccount")
	must(t, os.MkdirAll(sa, 0o755))
	ca := pemCert(api.Certificate().Raw)
	must(t, os.WriteFile(filepath.Join(sa, "ca.crt"), ca, 0o644))
	must(t, os.WriteFile(filepath.Join(sa, "token"), []byte("realconfigs-test-token"), 0o600))
	must(t, os.WriteFile(filepath.Join(sa, "namespace"), []byte("default"), 0o644))

	w.env = []string{
		"KUBERNETES_SERVICE_HOST=" + host,
		"KUBERNETES_SERVICE_PORT=" + port,
		// The docker-compose example builds its URLs from these.
		"REMOTE_WRITE_HOST=" + r.Addr(),
		"LOKI_HOST=127.0.0.1:1", "TEMPO_HOST=127.0.0.1:1", "PYROSCOPE_HOST=127.0.0.1:1",
		// Never a cloud credential chain or a proxy.
		"AWS_EC2_METADATA_DISABLED=true", "NO_PROXY=*", "HTTP_PROXY=", "HTTPS_PROXY=",
	}
	return w
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip("skipping: " + msg)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startDNS serves the SRV names on UDP port 53 of a loopback address of
// its own (resolv.conf cannot name a port), pointing at 127.0.0.1.
func startDNS(t *testing.T) string {
	t.Helper()
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(rw dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, qq := range q.Question {
			if qq.Qtype == dns.TypeSRV && slices.Contains(srvNames, strings.ToLower(qq.Name)) {
				m.Answer = append(m.Answer, &dns.SRV{
					Hdr:    dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 5},
					Target: "target.demo.local.", Port: 9100, Priority: 1, Weight: 1,
				})
				m.Extra = append(m.Extra, &dns.A{
					Hdr: dns.RR_Header{Name: "target.demo.local.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
					A:   net.IPv4(127, 0, 0, 1),
				})
			} else if qq.Qtype == dns.TypeA && strings.EqualFold(qq.Name, "target.demo.local.") {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
					A:   net.IPv4(127, 0, 0, 1),
				})
			} else if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeNameError
			}
		}
		_ = rw.WriteMsg(m)
	})
	// A loopback address chosen from the test's pid keeps parallel runs
	// apart; port 53 is the only one a resolv.conf can name.
	pid := os.Getpid()
	for i := range 20 {
		addr := fmt.Sprintf("127.53.%d.%d", (pid>>8+i)%250+1, (pid+i*7)%250+1)
		pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, "53"))
		if err != nil {
			continue
		}
		srv := &dns.Server{PacketConn: pc, Handler: mux}
		go func() { _ = srv.ActivateAndServe() }()
		t.Cleanup(func() { _ = srv.Shutdown() })
		return addr
	}
	t.Fatal("no loopback address free for the test's DNS server on port 53")
	return ""
}

// fakeKubernetes answers every list with an empty list of the right kind
// and holds every watch open: an API server of a cluster with nothing in
// it, enough for informers to sync.
func fakeKubernetes(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1" {
		w.WriteHeader(http.StatusOK)
		if r.URL.Query().Get("sendInitialEvents") == "true" {
			// A streaming list (client-go's WatchList): the initial
			// state, here nothing, ends with a bookmark saying so.
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "BOOKMARK", "object": map[string]any{
				"metadata": map[string]any{"resourceVersion": "1",
					"annotations": map[string]string{"k8s.io/initial-events-end": "true"}},
			}})
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Minute):
		}
		return
	}
	var apiVersion string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		apiVersion = parts[1]
	case len(parts) >= 3 && parts[0] == "apis":
		apiVersion = parts[1] + "/" + parts[2]
	default:
		http.NotFound(w, r)
		return
	}
	resource := parts[len(parts)-1]
	kinds := map[string]string{
		"pods": "Pod", "services": "Service", "endpoints": "Endpoints", "nodes": "Node",
		"endpointslices": "EndpointSlice", "ingresses": "Ingress", "secrets": "Secret",
		"configmaps": "ConfigMap", "namespaces": "Namespace",
		// The Prometheus Operator's resources, for the
		// prometheus.operator.* components.
		"servicemonitors": "ServiceMonitor", "podmonitors": "PodMonitor",
		"probes": "Probe", "scrapeconfigs": "ScrapeConfig",
	}
	kind, ok := kinds[resource]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"apiVersion": apiVersion, "kind": kind + "List",
		"metadata": map[string]any{"resourceVersion": "1"}, "items": []any{},
	})
}

// remoteWriteURL matches a literal url attribute.
var remoteWriteURL = regexp.MustCompile(`^(\s*url\s*=\s*)"[^"]*"`)

// prepare writes the config with its remote_write endpoints' literal urls
// pointed at the receiver, and the files it reads.
func (w *world) prepare(t *testing.T, c realConfig) string {
	t.Helper()
	lines := strings.Split(string(c.src), "\n")
	depth, inRW := 0, false
	for i, l := range lines {
		trimmed := strings.TrimSpace(l)
		if depth == 0 {
			inRW = strings.HasPrefix(trimmed, "prometheus.remote_write ")
		}
		if inRW && depth > 0 {
			lines[i] = remoteWriteURL.ReplaceAllString(l, `${1}"`+w.receiver.URL()+`"`)
		}
		depth += strings.Count(stripStrings(l), "{") - strings.Count(stripStrings(l), "}")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, c.name+".alloy")
	must(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644))
	return path
}

var stringLit = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|//.*$`)

func stripStrings(l string) string { return stringLit.ReplaceAllString(l, "") }

type componentInfo struct {
	LocalID          string   `json:"localID"`
	ModuleID         string   `json:"moduleID"`
	CreatedModuleIDs []string `json:"createdModuleIDs"`
	Health           struct {
		State   string `json:"state"`
		Message string `json:"message"`
	} `json:"health"`
}

// run starts the config with `shoal run` in the mount namespace and waits
// until every component reports healthy.
func (w *world) run(t *testing.T, c realConfig, path string) {
	t.Helper()
	port, err := lab.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	storage := t.TempDir()
	logPath := filepath.Join(t.TempDir(), "shoal.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// Inside the namespace: the hosts and resolver files over the host's,
	// and a /run of its own holding the service account, at the path the
	// in-cluster client reads (/var/run is /run on Debian).
	script := `set -e
mount --bind "$D/hosts" /etc/hosts
mount --bind "$D/resolv.conf" /etc/resolv.conf
mount -t tmpfs tmpfs /run
mkdir -p /run/secrets/kubernetes.io
cp -r "$D/serviceaccount" /run/secrets/kubernetes.io/serviceaccount
[ -e /var/run/secrets/kubernetes.io/serviceaccount/token ]
exec "$@"`
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
		shoalBin, "run", path, "--server.http.listen-addr="+addr, "--storage.path="+storage)
	cmd.Env = append(append(os.Environ(), "D="+w.dir), w.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cancel()
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("shoal log:\n%s", tail(string(b), 60))
		}
	}()

	deadline := time.Now().Add(90 * time.Second)
	var last []componentInfo
	var lastErr error
	for {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("shoal run exited: %v", err)
		default:
		}
		last, lastErr = components(addr)
		if lastErr == nil && len(last) > 0 && allHealthy(last) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every component healthy within 90s (err %v):\n%s", lastErr, describe(last))
		}
		time.Sleep(250 * time.Millisecond)
	}
	// Every component of the config's top level runs: as many as it
	// declares (modules' own components come on top).
	top := 0
	for _, ci := range last {
		if ci.ModuleID == "" {
			top++
		}
	}
	if want := topLevelComponents(t, c); top < want || want == 0 {
		t.Fatalf("%d top-level components running, the config has %d:\n%s", top, want, describe(last))
	}
	t.Logf("%d components healthy:\n%s", len(last), describe(last))
}

// topLevelComponents counts the top-level blocks of c that are
// components or instances of a declared custom component.
func topLevelComponents(t *testing.T, c realConfig) int {
	f, err := parser.ParseFile(c.path, c.src)
	if err != nil {
		t.Fatal(err)
	}
	declared, imported := map[string]bool{}, map[string]bool{}
	for _, st := range f.Body {
		if b, ok := st.(*ast.BlockStmt); ok && b.GetBlockName() == "declare" {
			declared[b.Label] = true
		} else if ok && strings.HasPrefix(b.GetBlockName(), "import.") {
			imported[b.Label] = true
		}
	}
	n := 0
	for _, st := range f.Body {
		b, ok := st.(*ast.BlockStmt)
		if !ok {
			continue
		}
		name := b.GetBlockName()
		if _, ok := alloycatalog.Component(name); ok || declared[name] || imported[strings.SplitN(name, ".", 2)[0]] {
			n++
		}
	}
	return n
}

// components lists every component, those of the modules the config's
// custom components and imports run included.
func components(addr string) ([]componentInfo, error) {
	var all []componentInfo
	queue := []string{"/api/v0/web/components"}
	for len(queue) > 0 && len(all) < 10000 {
		path := queue[0]
		queue = queue[1:]
		cs, err := getComponents(addr, path)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			for _, m := range c.CreatedModuleIDs {
				queue = append(queue, "/api/v0/web/modules/"+m+"/components")
			}
		}
		all = append(all, cs...)
	}
	return all, nil
}

func getComponents(addr, path string) ([]componentInfo, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	var cs []componentInfo
	if err := json.NewDecoder(resp.Body).Decode(&cs); err != nil {
		return nil, err
	}
	return cs, nil
}

func allHealthy(cs []componentInfo) bool {
	for _, c := range cs {
		if c.Health.State != "healthy" {
			return false
		}
	}
	return true
}

func describe(cs []componentInfo) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "  %s %s: %s %s\n", c.ModuleID, c.LocalID, c.Health.State, c.Health.Message)
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
