//go:build shoal_lean

package remotewrite

import (
	"strings"
	"testing"
)

// TestCloudAuthNeedsTag: the default build refuses sigv4, azuread and
// google_iam at the endpoint's file:line:col, naming the build tag that
// has them; bearer_token and round_robin_dns need no tag.
func TestCloudAuthNeedsTag(t *testing.T) {
	for _, body := range []string{`sigv4 { region = "r" }`, `azuread { sdk { } }`, `google_iam { }`} {
		src := "prometheus.remote_write \"x\" {\n  endpoint {\n    url = \"http://127.0.0.1:1/w\"\n    " + body + "\n  }\n}\n"
		_, err := decode(t, "x.alloy", src)
		if err == nil || !strings.Contains(err.Error(), "x.alloy:2:3") || !strings.Contains(err.Error(), "-tags shoal_lean") {
			t.Errorf("%s: err %v", body, err)
		}
	}
	for _, body := range []string{`bearer_token = "t"`, `round_robin_dns = true`} {
		src := "prometheus.remote_write \"x\" {\n  endpoint {\n    url = \"http://127.0.0.1:1/w\"\n    " + body + "\n  }\n}\n"
		a, err := decode(t, "x.alloy", src)
		if err == nil {
			err = a.Validate()
		}
		if err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}
