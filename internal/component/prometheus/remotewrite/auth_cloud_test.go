//go:build !shoal_lean

package remotewrite

import (
	"reflect"
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

// TestOneAuthIsFine: one authentication of each kind validates.
func TestOneAuthIsFine(t *testing.T) {
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
