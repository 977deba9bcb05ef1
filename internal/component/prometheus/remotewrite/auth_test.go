package remotewrite

import (
	"regexp"
	"strings"
	"testing"
)

// TestAuthValidation: Alloy's rules, each error at the block's
// file:line:col.
func TestAuthValidation(t *testing.T) {
	for _, tc := range []struct {
		name, body, msg, pos string
	}{
		{"sigv4+basic", `sigv4 { region = "us-east-1" }
    basic_auth { username = "u"
      password = "p" }`, "at most one of sigv4, azuread, google_iam, basic_auth, oauth2, bearer_token & bearer_token_file", "x.alloy:2:3"},
		{"azuread+google", `azuread { sdk { } }
    google_iam { }`, "at most one of", "x.alloy:2:3"},
		{"sigv4+bearer", `sigv4 { }
    bearer_token = "t"`, "at most one of", "x.alloy:2:3"},
		{"google+oauth2", `google_iam { }
    oauth2 { client_id = "c"
      token_url = "http://127.0.0.1:1/t" }`, "at most one of", "x.alloy:2:3"},
		{"sigv4 key only", `sigv4 { access_key = "a" }`, "must provide an AWS SigV4 access key and secret key", "x.alloy:4:5"},
		{"sigv4 external_id", `sigv4 { external_id = "e" }`, "external_id can only be used with role_arn", "x.alloy:4:5"},
		{"azuread none", `azuread { }`, "must provide an Azure Managed Identity, Azure Workload Identity, Azure OAuth or Azure SDK", "x.alloy:4:5"},
		{"azuread two", `azuread {
      sdk { }
      managed_identity { client_id = "00000000-0000-0000-0000-000000000001" }
    }`, "cannot provide multiple authentication methods", "x.alloy:4:5"},
		{"azuread cloud", `azuread {
      cloud = "Mars"
      sdk { }
    }`, "must provide a cloud", "x.alloy:4:5"},
		{"azuread mi id", `azuread {
      managed_identity { client_id = "nope" }
    }`, "Managed Identity client_id is invalid", "x.alloy:4:5"},
		{"azuread oauth tenant", `azuread {
      oauth {
        client_id = "00000000-0000-0000-0000-000000000001"
        client_secret = "s"
        tenant_id = "a b"
      }
    }`, "OAuth tenant_id is invalid", "x.alloy:4:5"},
		{"azuread scope", `azuread {
      scope = "a;b"
      sdk { }
    }`, "scope contains invalid characters", "x.alloy:4:5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "prometheus.remote_write \"x\" {\n  endpoint {\n    url = \"http://127.0.0.1:1/w\"\n    " + tc.body + "\n  }\n}\n"
			_, err := decode(t, "x.alloy", src)
			if err == nil {
				t.Fatalf("no error for\n%s", src)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.pos) {
				t.Errorf("error %q: want %q at %s", err, tc.msg, tc.pos)
			}
			if !regexp.MustCompile(`x\.alloy:\d+:\d+`).MatchString(err.Error()) {
				t.Errorf("error %q names no file:line:col", err)
			}
		})
	}
}
