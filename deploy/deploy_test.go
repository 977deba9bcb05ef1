package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/shoal-dev/shoal/internal/agent"
	"github.com/shoal-dev/shoal/internal/cluster"
	"github.com/shoal-dev/shoal/internal/configfile"
	"github.com/shoal-dev/shoal/internal/syntax/printer"
)

// runFlags parses a `shoal run` command line (without the binary) with the
// very flags `shoal run` registers, and checks the cluster settings as a
// node does at start-up.
func runFlags(args []string) (agent.Config, cluster.Config, error) {
	if len(args) < 2 || args[0] != "run" {
		return agent.Config{}, cluster.Config{}, fmt.Errorf("want run CONFIG_FILE [flags], got %q", args)
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var errb bytes.Buffer
	fs.SetOutput(&errb)
	fs.Usage = func() {}
	var cfg agent.Config
	cfg.RegisterFlags(fs)
	cc := cluster.DefaultConfig()
	cc.RegisterFlags(fs)
	var pos []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return cfg, cc, err
		}
		if rest = fs.Args(); len(rest) == 0 {
			break
		}
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	if len(pos) != 1 {
		return cfg, cc, fmt.Errorf("want exactly one CONFIG_FILE, got %q", pos)
	}
	cfg.ConfigFile = pos[0]
	cfg.Cluster = cc
	return cfg, cc, cc.Validate()
}

// validConfig runs `shoal validate` on src.
func validConfig(t *testing.T, name, src string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := configfile.Validate(p, &out, &errb); code != 0 {
		t.Errorf("shoal validate %s fails:\n%s", name, errb.String())
	}
	// Users copy these configs: they should already be in shoal fmt's
	// layout.
	if f, err := printer.Format(name, []byte(src)); err != nil || string(f) != src {
		t.Errorf("%s is not in shoal fmt's layout (%v); shoal fmt prints:\n%s", name, err, f)
	}
}

// object is one Kubernetes manifest document.
type object struct {
	file string
	m    map[string]any
}

func (o object) kind() string { return str(o.m, "kind") }
func (o object) name() string { return str(o.m, "metadata", "name") }
func (o object) String() string {
	return fmt.Sprintf("%s %s (%s)", o.kind(), o.name(), o.file)
}

// at walks maps by key and lists by index ("0").
func at(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, keys ...string) string {
	s, _ := at(v, keys...).(string)
	return s
}

func list(v any, keys ...string) []any {
	l, _ := at(v, keys...).([]any)
	return l
}

func strMap(v any, keys ...string) map[string]string {
	out := map[string]string{}
	m, _ := at(v, keys...).(map[string]any)
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

// subset reports whether every pair of sel is in labels (and sel is not
// empty, which would select everything).
func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func loadManifests(t *testing.T) []object {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	var objs []object
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var m map[string]any
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if m != nil {
				objs = append(objs, object{file: f, m: m})
			}
		}
	}
	return objs
}

// apiVersions are the kinds the manifests may use, with the apiVersion
// current clusters serve them under.
var apiVersions = map[string]string{
	"Namespace":           "v1",
	"ServiceAccount":      "v1",
	"ConfigMap":           "v1",
	"Service":             "v1",
	"ClusterRole":         "rbac.authorization.k8s.io/v1",
	"ClusterRoleBinding":  "rbac.authorization.k8s.io/v1",
	"StatefulSet":         "apps/v1",
	"PodDisruptionBudget": "policy/v1",
}

var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true}

// typed returns an empty object of the Kubernetes API type of kind.
func typed(kind string) any {
	switch kind {
	case "Namespace":
		return &corev1.Namespace{}
	case "ServiceAccount":
		return &corev1.ServiceAccount{}
	case "ConfigMap":
		return &corev1.ConfigMap{}
	case "Service":
		return &corev1.Service{}
	case "ClusterRole":
		return &rbacv1.ClusterRole{}
	case "ClusterRoleBinding":
		return &rbacv1.ClusterRoleBinding{}
	case "StatefulSet":
		return &appsv1.StatefulSet{}
	case "PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}
	}
	return nil
}

// TestKubernetesManifestsUseOnlyRealFields decodes every object into its
// API type and refuses unknown fields, as `kubectl apply` with server-side
// validation would: a misspelt field is otherwise silently dropped.
func TestKubernetesManifestsUseOnlyRealFields(t *testing.T) {
	for _, o := range loadManifests(t) {
		v := typed(o.kind())
		if v == nil {
			t.Errorf("%s: no API type known", o)
			continue
		}
		b, err := json.Marshal(o.m)
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			t.Errorf("%s: %v", o, err)
		}
	}
}

func TestKubernetesManifestsFitTogether(t *testing.T) {
	objs := loadManifests(t)
	byKind := map[string][]object{}
	for _, o := range objs {
		want, known := apiVersions[o.kind()]
		switch {
		case !known:
			t.Errorf("%s: unexpected kind", o)
		case str(o.m, "apiVersion") != want:
			t.Errorf("%s: apiVersion %q, want %q", o, str(o.m, "apiVersion"), want)
		}
		if o.name() == "" {
			t.Errorf("%s: no metadata.name", o)
		}
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	one := func(kind string) object {
		t.Helper()
		if len(byKind[kind]) != 1 {
			t.Fatalf("want one %s, found %d", kind, len(byKind[kind]))
		}
		return byKind[kind][0]
	}
	ns := one("Namespace").name()
	for _, o := range objs {
		if got := str(o.m, "metadata", "namespace"); clusterScoped[o.kind()] && got != "" || !clusterScoped[o.kind()] && got != ns {
			t.Errorf("%s: namespace %q, want %q", o, got, map[bool]string{true: "", false: ns}[clusterScoped[o.kind()]])
		}
	}

	sts := one("StatefulSet")
	svc := one("Service")
	pod := at(sts.m, "spec", "template")
	podLabels := strMap(pod, "metadata", "labels")

	t.Run("peer discovery", func(t *testing.T) {
		if got := str(sts.m, "spec", "serviceName"); got != svc.name() {
			t.Errorf("StatefulSet serviceName %q, want the headless Service %q", got, svc.name())
		}
		if str(svc.m, "spec", "clusterIP") != "None" {
			t.Errorf("%s is not headless (clusterIP: None)", svc)
		}
		if at(svc.m, "spec", "publishNotReadyAddresses") != true {
			t.Errorf("%s must publish not-ready addresses: pods become ready only after joining", svc)
		}
		if got := str(sts.m, "spec", "podManagementPolicy"); got != "Parallel" {
			t.Errorf("podManagementPolicy %q, want Parallel", got)
		}
	})

	t.Run("selectors", func(t *testing.T) {
		if sel := strMap(sts.m, "spec", "selector", "matchLabels"); !subset(sel, podLabels) {
			t.Errorf("StatefulSet selector %v does not match the pod labels %v", sel, podLabels)
		}
		if sel := strMap(svc.m, "spec", "selector"); !subset(sel, podLabels) {
			t.Errorf("Service selector %v does not match the pod labels %v", sel, podLabels)
		}
		pdb := one("PodDisruptionBudget")
		if sel := strMap(pdb.m, "spec", "selector", "matchLabels"); !subset(sel, podLabels) {
			t.Errorf("PodDisruptionBudget selector %v does not match the pod labels %v", sel, podLabels)
		}
	})

	t.Run("rbac", func(t *testing.T) {
		sa := one("ServiceAccount")
		if got := str(pod, "spec", "serviceAccountName"); got != sa.name() {
			t.Errorf("pods run as service account %q, want %q", got, sa.name())
		}
		crb, cr := one("ClusterRoleBinding"), one("ClusterRole")
		if str(crb.m, "roleRef", "kind") != "ClusterRole" || str(crb.m, "roleRef", "name") != cr.name() {
			t.Errorf("%s binds %v, want ClusterRole %s", crb, at(crb.m, "roleRef"), cr.name())
		}
		bound := false
		for _, s := range list(crb.m, "subjects") {
			if str(s, "kind") == "ServiceAccount" && str(s, "name") == sa.name() && str(s, "namespace") == ns {
				bound = true
			}
		}
		if !bound {
			t.Errorf("%s does not bind ServiceAccount %s/%s", crb, ns, sa.name())
		}
		granted := map[string]bool{}
		for _, r := range list(cr.m, "rules") {
			verbs := map[string]bool{}
			for _, v := range list(r, "verbs") {
				verbs[fmt.Sprint(v)] = true
			}
			if !verbs["get"] || !verbs["list"] || !verbs["watch"] {
				continue
			}
			for _, g := range list(r, "apiGroups") {
				for _, res := range list(r, "resources") {
					granted[fmt.Sprintf("%v/%v", g, res)] = true
				}
			}
		}
		for _, want := range []string{"/pods", "/nodes", "/services", "/endpoints", "discovery.k8s.io/endpointslices"} {
			if !granted[want] {
				t.Errorf("%s does not grant get, list and watch on %s", cr, want)
			}
		}
	})

	t.Run("container", func(t *testing.T) {
		containers := list(pod, "spec", "containers")
		if len(containers) != 1 {
			t.Fatalf("want one container, found %d", len(containers))
		}
		c := containers[0]
		env := map[string]string{}
		for _, e := range list(c, "env") {
			v := str(e, "value")
			if fp := str(e, "valueFrom", "fieldRef", "fieldPath"); fp != "" {
				v = map[string]string{"metadata.name": "shoal-0", "status.podIP": "10.1.2.3"}[fp]
				if v == "" {
					t.Errorf("env %s: unexpected fieldPath %q", str(e, "name"), fp)
				}
			}
			env[str(e, "name")] = v
		}
		var args []string
		ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
		for _, a := range list(c, "args") {
			s := fmt.Sprint(a)
			s = ref.ReplaceAllStringFunc(s, func(m string) string {
				name := ref.FindStringSubmatch(m)[1]
				v, ok := env[name]
				if !ok {
					t.Errorf("argument %q refers to $(%s), which the container does not define", a, name)
				}
				return v
			})
			args = append(args, s)
		}
		cfg, cc, err := runFlags(args)
		if err != nil {
			t.Fatalf("container args %q: %v", args, err)
		}
		if !cc.Enabled {
			t.Errorf("clustering is not enabled")
		}
		if cc.NodeName != "shoal-0" {
			t.Errorf("node name %q, want the pod's name", cc.NodeName)
		}
		if !slices.ContainsFunc(cc.JoinAddresses, func(a string) bool { return strings.Contains(a, svc.name()) }) {
			t.Errorf("join addresses %q do not name the headless Service %s", cc.JoinAddresses, svc.name())
		}

		// Ports: the listen port is the container's http port, which the
		// Service, the advertise address and the probes use.
		ports := map[string]int{}
		for _, p := range list(c, "ports") {
			n, _ := at(p, "containerPort").(int)
			ports[str(p, "name")] = n
		}
		_, lport, _ := strings.Cut(cfg.ListenAddr, ":")
		if strconv.Itoa(ports["http"]) != lport {
			t.Errorf("--server.http.listen-addr %s does not listen on the http containerPort %d", cfg.ListenAddr, ports["http"])
		}
		if !strings.HasSuffix(cc.AdvertiseAddress, ":"+lport) {
			t.Errorf("--cluster.advertise-address %s is not at the listen port %s", cc.AdvertiseAddress, lport)
		}
		if tp := str(svc.m, "spec", "ports", "0", "targetPort"); ports[tp] == 0 {
			t.Errorf("Service targetPort %q is no named container port", tp)
		}
		if got := str(c, "readinessProbe", "httpGet", "path"); got != "/-/ready" {
			t.Errorf("readiness probe path %q, want /-/ready (ready once a participant)", got)
		}
		if p := str(c, "readinessProbe", "httpGet", "port"); ports[p] == 0 {
			t.Errorf("readiness probe port %q is no named container port", p)
		}
		if got := str(c, "livenessProbe", "httpGet", "path"); got == "/-/healthy" {
			t.Errorf("liveness probe on /-/healthy restarts pods whenever a component is unhealthy")
		}

		// Volumes: the config file comes from the ConfigMap, the storage
		// path from the volume claim.
		mounts := map[string]string{} // mountPath → volume
		for _, m := range list(c, "volumeMounts") {
			mounts[str(m, "mountPath")] = str(m, "name")
		}
		volumeOf := func(p string) string {
			for mp, v := range mounts {
				if p == mp || strings.HasPrefix(p, strings.TrimSuffix(mp, "/")+"/") {
					return v
				}
			}
			return ""
		}
		claims := map[string]bool{}
		for _, vc := range list(sts.m, "spec", "volumeClaimTemplates") {
			claims[str(vc, "metadata", "name")] = true
		}
		if v := volumeOf(cfg.StoragePath); !claims[v] {
			t.Errorf("--storage.path %s is not on a volumeClaimTemplate (it is on %q)", cfg.StoragePath, v)
		}
		cmName := ""
		for _, v := range list(pod, "spec", "volumes") {
			if str(v, "name") == volumeOf(cfg.ConfigFile) {
				cmName = str(v, "configMap", "name")
			}
		}
		var cm object
		for _, o := range byKind["ConfigMap"] {
			if o.name() == cmName {
				cm = o
			}
		}
		if cm.m == nil {
			t.Fatalf("config file %s is not mounted from a ConfigMap of the manifests", cfg.ConfigFile)
		}
		src := str(cm.m, "data", path.Base(cfg.ConfigFile))
		if src == "" {
			t.Fatalf("%s has no key %s", cm, path.Base(cfg.ConfigFile))
		}
		validConfig(t, path.Base(cfg.ConfigFile), src)
		if !strings.Contains(src, "discovery.kubernetes") || !regexp.MustCompile(`clustering\s*\{\s*enabled\s*=\s*true`).MatchString(src) {
			t.Errorf("the ConfigMap's config does not use discovery.kubernetes with clustering")
		}

		// A SIGTERMed pod hands off and flushes within --shutdown.timeout;
		// the kubelet must not SIGKILL it before.
		grace, _ := at(pod, "spec", "terminationGracePeriodSeconds").(int)
		if need := cfg.ShutdownTimeout + 5*time.Second; time.Duration(grace)*time.Second < need {
			t.Errorf("terminationGracePeriodSeconds %d does not cover --shutdown.timeout %s and a margin", grace, cfg.ShutdownTimeout)
		}
		if cfg.ShutdownTimeout < cc.HandoffDelay+10*time.Second {
			t.Errorf("--shutdown.timeout %s leaves little after the handoff delay %s to flush", cfg.ShutdownTimeout, cc.HandoffDelay)
		}
	})
}

// dockerfile reads a Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T, name string) [][2]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		instr, rest, _ := strings.Cut(cur.String(), " ")
		out = append(out, [2]string{strings.ToUpper(instr), strings.TrimSpace(rest)})
		cur.Reset()
	}
	return out
}

func TestDockerfileBuildsAStaticBinaryOnAMinimalBase(t *testing.T) {
	var froms []string
	var runs, copies []string
	var entrypoint, cmd []string
	for _, in := range dockerfile(t, "Dockerfile") {
		switch in[0] {
		case "FROM":
			froms = append(froms, in[1])
		case "RUN":
			runs = append(runs, in[1])
		case "COPY":
			copies = append(copies, in[1])
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in[1]), &entrypoint); err != nil {
				t.Errorf("ENTRYPOINT is not an exec-form JSON array: %v", err)
			}
		case "CMD":
			if err := json.Unmarshal([]byte(in[1]), &cmd); err != nil {
				t.Errorf("CMD is not an exec-form JSON array: %v", err)
			}
		}
	}
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build, found FROM %q", froms)
	}
	if !strings.Contains(froms[0], "golang:1.26") {
		t.Errorf("the build stage is %q, want golang:1.26", froms[0])
	}
	final := froms[len(froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && !strings.HasPrefix(final, "scratch") {
		t.Errorf("the final stage is %q, want distroless static or scratch", final)
	}
	build := strings.Join(runs, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "go build", "./cmd/shoal"} {
		if !strings.Contains(build, want) {
			t.Errorf("no RUN holds %q", want)
		}
	}
	if _, err := os.Stat("../cmd/shoal"); err != nil {
		t.Errorf("the Dockerfile builds ./cmd/shoal: %v", err)
	}
	if len(entrypoint) != 1 || !slices.ContainsFunc(copies, func(c string) bool { return strings.HasSuffix(c, " "+entrypoint[0]) }) {
		t.Errorf("ENTRYPOINT %q is not the binary copied into the image (COPY %q)", entrypoint, copies)
	}
	cfg, _, err := runFlags(cmd)
	if err != nil {
		t.Fatalf("CMD %q: %v", cmd, err)
	}
	if !strings.HasPrefix(cfg.ListenAddr, "0.0.0.0:") {
		t.Errorf("CMD listens on %s; a container must listen on every interface", cfg.ListenAddr)
	}
	dataDir := path.Dir(path.Clean(cfg.StoragePath))
	if !slices.ContainsFunc(copies, func(c string) bool { return strings.Contains(c, "--chown=") && strings.HasSuffix(c, " "+dataDir) }) {
		t.Errorf("nothing makes %s (for --storage.path %s) writable by the image's user", dataDir, cfg.StoragePath)
	}
}

// unit reads a systemd unit's Key=Value lines (the last of a key wins).
func unit(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: not Key=Value: %q", name, line)
			continue
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

// envFile reads KEY="value" lines as systemd's EnvironmentFile does.
func envFile(t *testing.T, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range unit(t, name) {
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		}
		out[k] = v
	}
	return out
}

// expandExec expands an ExecStart line as systemd does: a word that is
// exactly $NAME becomes the value split on whitespace, ${NAME} anywhere is
// replaced by the value as one word.
func expandExec(line string, env map[string]string) ([]string, error) {
	var out []string
	braced := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	for _, w := range strings.Fields(line) {
		if name, ok := strings.CutPrefix(w, "$"); ok && !strings.HasPrefix(name, "{") {
			v, ok := env[name]
			if !ok {
				return nil, fmt.Errorf("$%s is not in the environment file", name)
			}
			out = append(out, strings.Fields(v)...)
			continue
		}
		var err error
		w = braced.ReplaceAllStringFunc(w, func(m string) string {
			name := braced.FindStringSubmatch(m)[1]
			v, ok := env[name]
			if !ok {
				err = fmt.Errorf("${%s} is not in the environment file", name)
			}
			return v
		})
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func TestSystemdUnitRunsAValidNode(t *testing.T) {
	u := unit(t, "systemd/shoal.service")
	env := envFile(t, "systemd/shoal.env")
	if u["EnvironmentFile"] != "/etc/default/shoal" {
		t.Errorf("EnvironmentFile %q, want /etc/default/shoal (where the unit's comment installs shoal.env)", u["EnvironmentFile"])
	}
	argv, err := expandExec(u["ExecStart"], env)
	if err != nil {
		t.Fatalf("ExecStart: %v", err)
	}
	if argv[0] != "/usr/local/bin/shoal" {
		t.Errorf("ExecStart runs %s, want /usr/local/bin/shoal", argv[0])
	}
	cfg, cc, err := runFlags(argv[1:])
	if err != nil {
		t.Fatalf("ExecStart %q: %v", argv, err)
	}
	if !cc.Enabled || len(cc.JoinAddresses) < 2 {
		t.Errorf("the example does not cluster its machines (enabled %v, join %q)", cc.Enabled, cc.JoinAddresses)
	}
	if cfg.ConfigFile != "/etc/shoal/config.alloy" {
		t.Errorf("CONFIG_FILE %s, want /etc/shoal/config.alloy, where the example config is installed", cfg.ConfigFile)
	}
	if state := "/var/lib/" + u["StateDirectory"]; u["StateDirectory"] == "" || !strings.HasPrefix(cfg.StoragePath, state+"/") {
		t.Errorf("--storage.path %s is not in the StateDirectory %s", cfg.StoragePath, state)
	}
	stopSec := u["TimeoutStopSec"]
	if _, err := strconv.Atoi(stopSec); err == nil {
		stopSec += "s" // systemd reads a bare number as seconds
	}
	stop, err := time.ParseDuration(stopSec)
	if err != nil {
		t.Fatalf("TimeoutStopSec %q: %v", u["TimeoutStopSec"], err)
	}
	if stop < cfg.ShutdownTimeout+5*time.Second {
		t.Errorf("TimeoutStopSec %s does not cover --shutdown.timeout %s and a margin", stop, cfg.ShutdownTimeout)
	}
	src, err := os.ReadFile("systemd/config.alloy")
	if err != nil {
		t.Fatal(err)
	}
	validConfig(t, "config.alloy", string(src))
}

func TestExpandExecFollowsSystemd(t *testing.T) {
	got, err := expandExec("/bin/x ${A} --f=${A} $B", map[string]string{"A": "a b", "B": "c  d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/x", "a b", "--f=a b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := expandExec("/bin/x $MISSING", nil); err == nil {
		t.Error("an undefined variable expanded silently")
	}
}
