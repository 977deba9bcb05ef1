package remotewrite

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	engine "github.com/shoal-dev/shoal/internal/remotewrite"
)

// TestAuthBlocksDecode maps sigv4, azuread, google_iam and round_robin_dns
// onto the engine's config with Alloy's names and defaults.
func TestAuthBlocksDecode(t *testing.T) {
	a, err := decode(t, "auth.alloy", `prometheus.remote_write "a" {
  endpoint {
    url = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write"
    round_robin_dns = true
    sigv4 {
      region = "eu-west-1"
      access_key = "AKID"
      secret_key = "SECRET"
      role_arn = "arn:aws:iam::123456789012:role/writer"
      external_id = "ext"
      use_fips_sts_endpoint = true
      service_name = "aps"
      profile = "p"
    }
  }
  endpoint {
    url = "https://example.com/az"
    azuread {
      oauth {
        client_id = "00000000-0000-0000-0000-000000000001"
        client_secret = "s3cret"
        tenant_id = "contoso.onmicrosoft.com"
      }
    }
  }
  endpoint {
    url = "https://example.com/az2"
    azuread {
      cloud = "AzureChina"
      scope = "https://monitor.azure.cn//.default"
      workload_identity {
        client_id = "00000000-0000-0000-0000-000000000002"
        tenant_id = "00000000-0000-0000-0000-000000000003"
      }
    }
  }
  endpoint {
    url = "https://example.com/g"
    google_iam {
      credentials_file = "/etc/sa.json"
    }
  }
}`)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.config()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		sig *engine.SigV4Config
		az  *engine.AzureADConfig
		g   *engine.GoogleIAMConfig
		rr  bool
	}{
		{sig: &engine.SigV4Config{Region: "eu-west-1", AccessKey: "AKID", SecretKey: "SECRET", Profile: "p", RoleARN: "arn:aws:iam::123456789012:role/writer", ExternalID: "ext", UseFIPSSTSEndpoint: true, ServiceName: "aps"}, rr: true},
		{az: &engine.AzureADConfig{Cloud: "AzurePublic", OAuth: &engine.AzureOAuth{ClientID: "00000000-0000-0000-0000-000000000001", ClientSecret: "s3cret", TenantID: "contoso.onmicrosoft.com"}}},
		{az: &engine.AzureADConfig{Cloud: "AzureChina", Scope: "https://monitor.azure.cn//.default", WorkloadIdentity: &engine.AzureWorkloadIdentity{ClientID: "00000000-0000-0000-0000-000000000002", TenantID: "00000000-0000-0000-0000-000000000003"}}},
		{g: &engine.GoogleIAMConfig{CredentialsFile: "/etc/sa.json"}},
	}
	if len(cfg.Endpoints) != len(want) {
		t.Fatalf("%d endpoints", len(cfg.Endpoints))
	}
	for i, w := range want {
		e := cfg.Endpoints[i]
		if !reflect.DeepEqual(e.SigV4, w.sig) || !reflect.DeepEqual(e.AzureAD, w.az) || !reflect.DeepEqual(e.GoogleIAM, w.g) || e.RoundRobinDNS != w.rr {
			t.Errorf("endpoint %d: sigv4 %+v azuread %+v google_iam %+v round_robin_dns %v", i+1, e.SigV4, e.AzureAD, e.GoogleIAM, e.RoundRobinDNS)
		}
	}
	// Defaults: no authentication, round_robin_dns off.
	d, err := decode(t, "d.alloy", `prometheus.remote_write "d" {
  endpoint { url = "http://127.0.0.1:1/w" }
}`)
	if err != nil {
		t.Fatal(err)
	}
	if e := d.Endpoints[0]; e.SigV4 != nil || e.AzureAD != nil || e.GoogleIAM != nil || e.RoundRobinDNS {
		t.Errorf("defaults: %+v", e)
	}
}

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
	// One authentication is fine, for each kind.
	for _, body := range []string{`sigv4 { region = "r" }`, `azuread { sdk { } }`, `google_iam { }`, `bearer_token = "t"`,
		`azuread {
      managed_identity { client_id = "{00000000-0000-0000-0000-000000000001}" }
    }`} {
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
