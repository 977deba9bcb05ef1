package docker

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

// Answers in the Docker Engine API's format (GET /containers/json and GET
// /networks): a bridged container publishing one TCP port, one on two
// networks exposing nothing, and one on the host network.
const containersJSON = `[
  {
    "Id": "8dfafdbc3a40",
    "Names": ["/web"],
    "Image": "nginx:1.27",
    "ImageID": "sha256:1111",
    "Command": "nginx -g 'daemon off;'",
    "Created": 1700000000,
    "Ports": [
      {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
      {"PrivatePort": 53, "Type": "udp"}
    ],
    "Labels": {"com.example.team": "web", "com.docker.compose.project": "shop"},
    "State": "running",
    "Status": "Up 2 hours",
    "HostConfig": {"NetworkMode": "bridge"},
    "NetworkSettings": {"Networks": {"bridge": {
      "NetworkID": "net-bridge", "EndpointID": "ep1", "Gateway": "127.0.10.1",
      "IPAddress": "127.0.10.2", "IPPrefixLen": 16, "MacAddress": "02:42:ac:11:00:02"
    }}},
    "Mounts": []
  },
  {
    "Id": "9c1e2f3a4b5c",
    "Names": ["/worker"],
    "Image": "busybox",
    "ImageID": "sha256:2222",
    "Command": "sleep 1d",
    "Created": 1700000001,
    "Ports": [],
    "Labels": {},
    "State": "running",
    "Status": "Up 1 hour",
    "HostConfig": {"NetworkMode": "backend"},
    "NetworkSettings": {"Networks": {
      "frontend": {"NetworkID": "net-front", "IPAddress": "127.0.20.3", "IPPrefixLen": 24},
      "backend": {"NetworkID": "net-back", "IPAddress": "127.0.30.3", "IPPrefixLen": 24}
    }},
    "Mounts": []
  },
  {
    "Id": "aa11bb22cc33",
    "Names": ["/node-exporter"],
    "Image": "prom/node-exporter",
    "ImageID": "sha256:3333",
    "Command": "/bin/node_exporter",
    "Created": 1700000002,
    "Ports": [],
    "Labels": {},
    "State": "running",
    "Status": "Up 3 hours",
    "HostConfig": {"NetworkMode": "host"},
    "NetworkSettings": {"Networks": {"host": {"NetworkID": "net-host"}}},
    "Mounts": []
  }
]`

const networksJSON = `[
  {"Name": "bridge", "Id": "net-bridge", "Scope": "local", "Driver": "bridge", "Internal": false, "Ingress": false,
   "Labels": {"com.docker.network.bridge.default_bridge": "true"}},
  {"Name": "frontend", "Id": "net-front", "Scope": "local", "Driver": "bridge", "Internal": false, "Labels": {}},
  {"Name": "backend", "Id": "net-back", "Scope": "local", "Driver": "bridge", "Internal": true, "Labels": {}},
  {"Name": "host", "Id": "net-host", "Scope": "local", "Driver": "host", "Labels": {}}
]`

// daemon is a fake Docker daemon on a unix socket.
type daemon struct {
	mu      sync.Mutex
	queries []string // the filters query of each container list
}

func (d *daemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.47")
	w.Header().Set("Content-Type", "application/json")
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/_ping"):
		_, _ = w.Write([]byte("OK"))
	case strings.HasSuffix(p, "/containers/json"):
		d.mu.Lock()
		d.queries = append(d.queries, r.URL.Query().Get("filters"))
		d.mu.Unlock()
		_, _ = w.Write([]byte(containersJSON))
	case strings.HasSuffix(p, "/networks"):
		_, _ = w.Write([]byte(networksJSON))
	default:
		http.NotFound(w, r)
	}
}

func serveUnix(t *testing.T, h http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "dock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "unix://" + sock
}

func byAddress(ts []discovery.Target) map[string]discovery.Target {
	m := map[string]discovery.Target{}
	for _, t := range ts {
		m[t["__address__"]] = t
	}
	return m
}

func TestContainersFromADaemonOnAUnixSocket(t *testing.T) {
	d := &daemon{}
	var a Arguments
	a.SetToDefault()
	a.Host = serveUnix(t, d)
	a.RefreshInterval = time.Hour
	a.Filters = []Filter{{Name: "label", Values: []string{"com.example.team"}}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	opts, rec, _ := discoverytest.Options(t, "discovery.docker.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := byAddress(ts)
	if len(got) != 3 {
		t.Fatalf("targets = %v, want 3 (web's tcp port, worker's first network, the host-networked one)", ts)
	}
	web := got["127.0.10.2:80"]
	for k, v := range map[string]string{
		"__meta_docker_container_id":                                           "8dfafdbc3a40",
		"__meta_docker_container_name":                                         "/web",
		"__meta_docker_container_network_mode":                                 "bridge",
		"__meta_docker_container_label_com_example_team":                       "web",
		"__meta_docker_container_label_com_docker_compose_project":             "shop",
		"__meta_docker_network_name":                                           "bridge",
		"__meta_docker_network_id":                                             "net-bridge",
		"__meta_docker_network_ip":                                             "127.0.10.2",
		"__meta_docker_network_label_com_docker_network_bridge_default_bridge": "true",
		"__meta_docker_port_private":                                           "80",
		"__meta_docker_port_public":                                            "8080",
		"__meta_docker_port_public_ip":                                         "0.0.0.0",
	} {
		if web[k] != v {
			t.Errorf("web: %s = %q, want %q (target %v)", k, web[k], v, web)
		}
	}
	// match_first_network (the default) keeps "backend", the first name.
	worker := got["127.0.30.3:80"]
	if worker["__meta_docker_network_name"] != "backend" || worker["__meta_docker_network_internal"] != "true" {
		t.Errorf("worker target = %v, want backend (internal) on the default port 80", worker)
	}
	if got["localhost"]["__meta_docker_container_name"] != "/node-exporter" {
		t.Errorf("host-networked target = %v, want address host_networking_host", got["localhost"])
	}
	d.mu.Lock()
	q := strings.Join(d.queries, " ")
	d.mu.Unlock()
	if !strings.Contains(q, `"label"`) || !strings.Contains(q, "com.example.team") {
		t.Errorf("container list filters = %q, want the label filter", q)
	}
}

func TestAllNetworksWithoutMatchFirstNetwork(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Host = serveUnix(t, &daemon{})
	a.RefreshInterval = time.Hour
	a.MatchFirstNetwork = false
	a.Port = 9100
	a.HostNetworkingHost = "node.local"
	opts, rec, _ := discoverytest.Options(t, "discovery.docker.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, wait, c.Ready, "never ready")
	ts, _ := rec.Targets()
	got := byAddress(ts)
	for _, addr := range []string{"127.0.10.2:80", "127.0.20.3:9100", "127.0.30.3:9100", "node.local"} {
		if _, ok := got[addr]; !ok {
			t.Errorf("no target %s in %v", addr, ts)
		}
	}
}

func TestUnreachableDaemonIsReadyButUnhealthy(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.Host = "unix://" + filepath.Join(t.TempDir(), "absent.sock")
	a.RefreshInterval = time.Hour
	opts, rec, _ := discoverytest.Options(t, "discovery.docker.test")
	c, err := New(opts, a)
	if err != nil {
		t.Fatal(err)
	}
	discoverytest.Run(t, c)
	discoverytest.Eventually(t, wait, c.Ready, "a failed first refresh must still count as complete")
	if h := c.CurrentHealth(); h.State != component.HealthUnhealthy {
		t.Fatalf("health = %+v, want unhealthy", h)
	}
	if ts, ok := rec.Targets(); !ok || len(ts) != 0 {
		t.Fatalf("targets = %v (published %v), want an empty list", ts, ok)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"missing host", func(a *Arguments) { a.Host = "" }, "host must be set"},
		{"bad scheme", func(a *Arguments) { a.Host = "ftp://x" }, "scheme must be"},
		{"no socket path", func(a *Arguments) { a.Host = "unix://" }, "socket path is missing"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"two auths", func(a *Arguments) {
			a.HTTPClientConfig.BearerToken = "t"
			a.HTTPClientConfig.BasicAuth = &discovery.BasicAuth{Username: "u"}
		}, "at most one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Host = "unix:///var/run/docker.sock"
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDocExampleDecodes(t *testing.T) {
	// Alloy's docs example for discovery.docker, with a filter block.
	src := `
discovery.docker "containers" {
  host = "unix:///var/run/docker.sock"
  filter {
    name   = "status"
    values = ["running"]
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.docker", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Host != "unix:///var/run/docker.sock" || sd.Port != 80 || sd.HostNetworkingHost != "localhost" ||
		!sd.MatchFirstNetwork || time.Duration(sd.RefreshInterval) != time.Minute ||
		len(sd.Filters) != 1 || sd.Filters[0].Name != "status" || sd.Filters[0].Values[0] != "running" {
		t.Fatalf("converted %+v", sd)
	}
}
