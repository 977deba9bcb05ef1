package kubernetes

import (
	"os"
	"testing"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

func TestDocExamplesDecode(t *testing.T) {
	// From Alloy's docs, discovery.kubernetes-2..5.alloy.
	for name, src := range map[string]string{
		"2": `discovery.kubernetes "k8s_pods" {
  role = "pod"
}`,
		"3": `discovery.kubernetes "k8s_pods" {
  role = "pod"
  kubeconfig_file = "/etc/k8s/kubeconfig.yaml"
}`,
		"4": `discovery.kubernetes "k8s_pods" {
  role = "pod"

  selectors {
    role = "pod"
    label = "app.kubernetes.io/name=prometheus-node-exporter"
  }

  namespaces {
    names = ["myapp"]
  }
}`,
		"5": `discovery.kubernetes "k8s_pods" {
  role = "pod"
  selectors {
    role = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}`,
	} {
		t.Run("example-"+name, func(t *testing.T) {
			var a Arguments
			if err := discoverytest.Decode(t, src, "discovery.kubernetes", nil, &a); err != nil {
				t.Fatal(err)
			}
			if a.Role != "pod" {
				t.Fatalf("decoded %+v", a)
			}
			switch name {
			case "4":
				if len(a.Selectors) != 1 || a.Selectors[0].Label != "app.kubernetes.io/name=prometheus-node-exporter" || a.NamespaceDiscovery.Names[0] != "myapp" {
					t.Fatalf("decoded %+v", a)
				}
			case "5":
				host, _ := os.Hostname()
				if env := os.Getenv("HOSTNAME"); env != "" {
					host = env
				}
				if len(a.Selectors) != 1 || a.Selectors[0].Field != "spec.nodeName="+host {
					t.Fatalf("decoded field selector %q, want spec.nodeName=%s", a.Selectors[0].Field, host)
				}
			}
		})
	}
}
