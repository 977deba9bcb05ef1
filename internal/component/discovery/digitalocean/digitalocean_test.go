package digitalocean

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// The DigitalOcean API's address is fixed in the discoverer and these
// arguments have no tls_config to trust a stand-in, so only the mapping is
// tested: the discoverer never runs here.

func TestArgumentsMapping(t *testing.T) {
	src := `
discovery.digitalocean "example" {
  bearer_token     = "do-token"
  port             = 9100
  refresh_interval = "2m"
  proxy_url        = "http://127.0.0.1:3128"
  no_proxy         = "localhost"
  enable_http2     = false
  http_headers     = { "X-Team" = ["ops"] }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.digitalocean", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	hc := sd.HTTPClientConfig
	if sd.Port != 9100 || time.Duration(sd.RefreshInterval) != 2*time.Minute {
		t.Fatalf("converted %+v", sd)
	}
	if hc.Authorization == nil || string(hc.Authorization.Credentials) != "do-token" || hc.Authorization.Type != "Bearer" {
		t.Fatalf("token not converted to bearer authorization: %+v", hc.Authorization)
	}
	if hc.ProxyURL.Host != "127.0.0.1:3128" || hc.NoProxy != "localhost" || hc.EnableHTTP2 || !hc.FollowRedirects {
		t.Fatalf("client settings %+v", hc)
	}
	if hc.HTTPHeaders == nil || string(hc.HTTPHeaders.Headers["X-Team"].Secrets[0]) != "ops" {
		t.Fatalf("headers %+v", hc.HTTPHeaders)
	}
}

func TestDefaults(t *testing.T) {
	var a Arguments
	a.SetToDefault()
	a.BearerTokenFile = "/etc/do-token"
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Port != 80 || time.Duration(sd.RefreshInterval) != time.Minute || !sd.HTTPClientConfig.EnableHTTP2 ||
		sd.HTTPClientConfig.Authorization.CredentialsFile != "/etc/do-token" {
		t.Fatalf("converted %+v", sd)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no token", func(a *Arguments) {}, "exactly one of bearer_token or bearer_token_file"},
		{"two tokens", func(a *Arguments) { a.BearerToken, a.BearerTokenFile = "t", "/f" }, "exactly one of"},
		{"zero interval", func(a *Arguments) { a.BearerToken, a.RefreshInterval = "t", 0 }, "refresh_interval"},
		{"bad proxy", func(a *Arguments) {
			a.BearerToken, a.ProxyFromEnvironment, a.ProxyURL = types.Secret("t"), true, "http://p:1"
		}, "proxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			tc.mod(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
