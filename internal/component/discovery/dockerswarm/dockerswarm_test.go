package dockerswarm

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const wait = 15 * time.Second

// Answers in the Docker Engine API's format for a swarm manager: GET
// /nodes, /services and /networks.
const nodesJSON = `[
  {
    "ID": "n1",
    "Version": {"Index": 9},
    "Spec": {"Role": "manager", "Availability": "active", "Labels": {"zone": "a"}},
    "Description": {
      "Hostname": "mgr-1",
      "Platform": {"Architecture": "x86_64", "OS": "linux"},
      "Engine": {"EngineVersion": "27.3.1"}
    },
    "Status": {"State": "ready", "Addr": "127.0.40.1"},
    "ManagerStatus": {"Leader": true, "Reachability": "reachable", "Addr": "127.0.40.1:2377"}
  },
  {
    "ID": "n2",
    "Version": {"Index": 10},
    "Spec": {"Role": "worker", "Availability": "drain"},
    "Description": {
      "Hostname": "wrk-1",
      "Platform": {"Architecture": "aarch64", "OS": "linux"},
      "Engine": {"EngineVersion": "27.3.1"}
    },
    "Status": {"State": "down", "Addr": "127.0.40.2"}
  }
]`

const servicesJSON = `[
  {
    "ID": "svc1",
    "Version": {"Index": 20},
    "Spec": {
      "Name": "api",
      "Labels": {"com.example.tier": "front"},
      "TaskTemplate": {"ContainerSpec": {"Image": "example/api:1.0", "Hostname": "api-host"}},
      "Mode": {"Replicated": {"Replicas": 2}}
    },
    "Endpoint": {
      "Ports": [{"Name": "http", "Protocol": "tcp", "TargetPort": 8080, "PublishedPort": 30080, "PublishMode": "ingress"}],
      "VirtualIPs": [{"NetworkID": "ingress-net", "Addr": "127.0.50.5/24"}]
    }
  },
  {
    "ID": "svc2",
    "Version": {"Index": 21},
    "Spec": {
      "Name": "agent",
      "TaskTemplate": {"ContainerSpec": {"Image": "example/agent:2"}},
      "Mode": {"Global": {}}
    },
    "Endpoint": {"VirtualIPs": [{"NetworkID": "overlay-net", "Addr": "127.0.60.7/24"}]}
  }
]`

const networksJSON = `[
  {"Name": "ingress", "Id": "ingress-net", "Scope": "swarm", "Driver": "overlay", "Internal": false, "Ingress": true, "Labels": {}},
  {"Name": "mon", "Id": "overlay-net", "Scope": "swarm", "Driver": "overlay", "Internal": false, "Ingress": false,
   "Labels": {"com.example.purpose": "monitoring"}}
]`

// tasksJSON answers GET /tasks: one replica of "agent" attached to the
// "mon" overlay network on node n2.
const tasksJSON = `[
  {
    "ID": "task-1",
    "Version": {"Index": 30},
    "Spec": {"ContainerSpec": {"Image": "example/agent:2", "Labels": {"com.example.role": "collector"}}},
    "ServiceID": "svc2",
    "Slot": 1,
    "NodeID": "n2",
    "Status": {"State": "running", "Message": "started",
      "ContainerStatus": {"ContainerID": "c0ffee", "PID": 4242, "ExitCode": 0},
      "PortStatus": {}},
    "DesiredState": "running",
    "NetworksAttachments": [
      {"Network": {"ID": "overlay-net", "Spec": {"Name": "mon"}}, "Addresses": ["127.0.60.21/24"]}
    ]
  }
]`

func manager(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.47")
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case strings.HasSuffix(p, "/_ping"):
			_, _ = w.Write([]byte("OK"))
		case strings.HasSuffix(p, "/nodes"):
			_, _ = w.Write([]byte(nodesJSON))
		case strings.HasSuffix(p, "/services"):
			_, _ = w.Write([]byte(servicesJSON))
		case strings.HasSuffix(p, "/networks"):
			_, _ = w.Write([]byte(networksJSON))
		case strings.HasSuffix(p, "/tasks"):
			_, _ = w.Write([]byte(tasksJSON))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func discover(t *testing.T, role string) map[string]discovery.Target {
	t.Helper()
	var a Arguments
	a.SetToDefault()
	a.Host = manager(t).URL
	a.Role = role
	a.Port = 9323
	a.RefreshInterval = time.Hour
	opts, rec, _ := discoverytest.Options(t, "discovery.dockerswarm.test")
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
	m := map[string]discovery.Target{}
	for _, t := range ts {
		m[t["__address__"]] = t
	}
	return m
}

func expect(t *testing.T, what string, got discovery.Target, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q (target %v)", what, k, got[k], v, got)
		}
	}
}

func TestNodesRole(t *testing.T) {
	got := discover(t, "nodes")
	if len(got) != 2 {
		t.Fatalf("targets = %v, want 2 nodes", got)
	}
	expect(t, "manager", got["127.0.40.1:9323"], map[string]string{
		"__meta_dockerswarm_node_id":                    "n1",
		"__meta_dockerswarm_node_role":                  "manager",
		"__meta_dockerswarm_node_hostname":              "mgr-1",
		"__meta_dockerswarm_node_platform_architecture": "x86_64",
		"__meta_dockerswarm_node_engine_version":        "27.3.1",
		"__meta_dockerswarm_node_status":                "ready",
		"__meta_dockerswarm_node_manager_leader":        "true",
		"__meta_dockerswarm_node_manager_address":       "127.0.40.1:2377",
		"__meta_dockerswarm_node_label_zone":            "a",
	})
	expect(t, "worker", got["127.0.40.2:9323"], map[string]string{
		"__meta_dockerswarm_node_availability": "drain",
		"__meta_dockerswarm_node_status":       "down",
	})
}

func TestServicesRole(t *testing.T) {
	got := discover(t, "services")
	if len(got) != 2 {
		t.Fatalf("targets = %v, want 2 services", got)
	}
	expect(t, "api", got["127.0.50.5:30080"], map[string]string{
		"__meta_dockerswarm_service_name":                       "api",
		"__meta_dockerswarm_service_mode":                       "replicated",
		"__meta_dockerswarm_service_task_container_image":       "example/api:1.0",
		"__meta_dockerswarm_service_endpoint_port_name":         "http",
		"__meta_dockerswarm_service_endpoint_port_publish_mode": "ingress",
		"__meta_dockerswarm_service_label_com_example_tier":     "front",
		"__meta_dockerswarm_network_ingress":                    "true",
	})
	// No published port: the port argument.
	expect(t, "agent", got["127.0.60.7:9323"], map[string]string{
		"__meta_dockerswarm_service_mode":                      "global",
		"__meta_dockerswarm_network_name":                      "mon",
		"__meta_dockerswarm_network_label_com_example_purpose": "monitoring",
	})
}

func TestTasksRole(t *testing.T) {
	got := discover(t, "tasks")
	if len(got) != 1 {
		t.Fatalf("targets = %v, want the one task", got)
	}
	expect(t, "task", got["127.0.60.21:9323"], map[string]string{
		"__meta_dockerswarm_task_id":                          "task-1",
		"__meta_dockerswarm_task_container_id":                "c0ffee",
		"__meta_dockerswarm_task_desired_state":               "running",
		"__meta_dockerswarm_task_state":                       "running",
		"__meta_dockerswarm_task_slot":                        "1",
		"__meta_dockerswarm_container_label_com_example_role": "collector",
		"__meta_dockerswarm_service_name":                     "agent",
		"__meta_dockerswarm_service_mode":                     "global",
		"__meta_dockerswarm_node_hostname":                    "wrk-1",
		"__meta_dockerswarm_network_name":                     "mon",
	})
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"bad role", func(a *Arguments) { a.Role = "containers" }, "invalid role"},
		{"missing host", func(a *Arguments) { a.Host = "" }, "host must be set"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Host, a.Role = "unix:///var/run/docker.sock", "tasks"
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDocExampleDecodes(t *testing.T) {
	src := `
discovery.dockerswarm "example" {
  host = "unix:///var/run/docker.sock"
  role = "nodes"
  filter {
    name   = "role"
    values = ["manager"]
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.dockerswarm", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Role != "nodes" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute ||
		len(sd.Filters) != 1 || sd.Filters[0].Values[0] != "manager" {
		t.Fatalf("converted %+v", sd)
	}
}
