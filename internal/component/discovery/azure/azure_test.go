package azure

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// These tests check the mapping and build no discoverer, so no credential
// chain (the managed identity would ask 169.254.169.254) is ever
// consulted; azure_api_test.go runs one with the oauth block.

func TestArgumentsMapping(t *testing.T) {
	src := `
discovery.azure "example" {
  subscription_id  = "11111111-2222-3333-4444-555555555555"
  resource_group   = "shop"
  environment      = "AzureChinaCloud"
  port             = 9100
  refresh_interval = "1m"
  proxy_url        = "http://127.0.0.1:3128"
  enable_http2     = false
  http_headers     = { "X-Team" = ["ops"] }
  oauth {
    client_id     = "client"
    tenant_id     = "tenant"
    client_secret = "s3cret"
  }
  tls_config {
    insecure_skip_verify = true
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.azure", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.SubscriptionID != "11111111-2222-3333-4444-555555555555" || sd.ResourceGroup != "shop" || sd.Environment != "AzureChinaCloud" ||
		sd.Port != 9100 || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
	if sd.AuthenticationMethod != "OAuth" || sd.ClientID != "client" || sd.TenantID != "tenant" || string(sd.ClientSecret) != "s3cret" {
		t.Fatalf("oauth converted to %q %q %q", sd.AuthenticationMethod, sd.ClientID, sd.TenantID)
	}
	hc := sd.HTTPClientConfig
	if hc.ProxyURL.Host != "127.0.0.1:3128" || hc.EnableHTTP2 || !hc.FollowRedirects || !hc.TLSConfig.InsecureSkipVerify {
		t.Fatalf("client settings %+v", hc)
	}
	if hc.HTTPHeaders == nil || string(hc.HTTPHeaders.Headers["X-Team"].Secrets[0]) != "ops" {
		t.Fatalf("headers %+v", hc.HTTPHeaders)
	}
}

func TestEachAuthenticationBlock(t *testing.T) {
	for _, tc := range []struct {
		block, method, clientID, tenantID string
	}{
		{`managed_identity { client_id = "mi" }`, "ManagedIdentity", "mi", ""},
		{`sdk_auth { tenant_id = "t" }`, "SDK", "", "t"},
		{`workload_identity {}`, "WorkloadIdentity", "", ""},
	} {
		var a Arguments
		src := "discovery.azure \"x\" {\n  subscription_id = \"s\"\n  " + tc.block + "\n}\n"
		if err := discoverytest.Decode(t, src, "discovery.azure", nil, &a); err != nil {
			t.Fatalf("%s: %v", tc.block, err)
		}
		sd, err := a.SDConfig()
		if err != nil {
			t.Fatalf("%s: %v", tc.block, err)
		}
		if sd.AuthenticationMethod != tc.method || sd.ClientID != tc.clientID || sd.TenantID != tc.tenantID {
			t.Errorf("%s: converted to %q %q %q", tc.block, sd.AuthenticationMethod, sd.ClientID, sd.TenantID)
		}
		if sd.Environment != "AzurePublicCloud" || sd.Port != 80 || time.Duration(sd.RefreshInterval) != 5*time.Minute ||
			!sd.HTTPClientConfig.EnableHTTP2 || !sd.HTTPClientConfig.FollowRedirects {
			t.Errorf("%s: defaults not Alloy's: %+v", tc.block, sd)
		}
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no auth", func(a *Arguments) { a.OAuth = nil }, "exactly one of oauth"},
		{"two auths", func(a *Arguments) { a.ManagedIdentity = &ManagedIdentity{ClientID: "x"} }, "exactly one of oauth"},
		{"unknown cloud", func(a *Arguments) { a.Environment = "AzureMoonCloud" }, "environment"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"two proxies", func(a *Arguments) { a.ProxyURL, a.ProxyFromEnvironment = "http://p:1", true }, "proxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.OAuth = &OAuth{ClientID: "c", TenantID: "t", ClientSecret: "s"}
			tc.mod(&a)
			if err := a.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWorkloadIdentityTakesNoArguments(t *testing.T) {
	var a Arguments
	src := "discovery.azure \"x\" {\n  workload_identity {\n    client_id = \"c\"\n  }\n}\n"
	if err := discoverytest.Decode(t, src, "discovery.azure", nil, &a); err == nil || !strings.Contains(err.Error(), "client_id") {
		t.Fatalf("an argument inside workload_identity decoded: %v", err)
	}
}
