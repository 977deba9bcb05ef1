package http

import (
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
	"github.com/shoal-dev/shoal/internal/syntax/types"
)

func TestDocExampleDecodes(t *testing.T) {
	// From Alloy's docs, discovery.http-2.alloy.
	src := `
discovery.http "dynamic_targets" {
  url = "https://example.com/scrape_targets"
  refresh_interval = "15s"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.http", nil, &a); err != nil {
		t.Fatal(err)
	}
	if a.URL != "https://example.com/scrape_targets" || a.RefreshInterval != 15*time.Second ||
		!a.HTTPClientConfig.FollowRedirects || !a.HTTPClientConfig.EnableHTTP2 {
		t.Fatalf("decoded %+v", a)
	}
}

func TestHTTPClientBlocksDecode(t *testing.T) {
	src := `
discovery.http "x" {
  url = "https://sd.example.com/targets"
  basic_auth {
    username = "u"
    password = "p"
  }
  tls_config {
    ca_file     = "/etc/ca.pem"
    min_version = "TLS12"
  }
  proxy_url        = "http://proxy:3128"
  follow_redirects = false
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.http", nil, &a); err != nil {
		t.Fatal(err)
	}
	h := a.HTTPClientConfig
	if h.BasicAuth == nil || h.BasicAuth.Password != types.Secret("p") || h.TLSConfig.CAFile != "/etc/ca.pem" ||
		h.ProxyURL != "http://proxy:3128" || h.FollowRedirects || !h.EnableHTTP2 {
		t.Fatalf("decoded %+v", h)
	}
	pc, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if pc.HTTPClientConfig.BasicAuth.Username != "u" || pc.HTTPClientConfig.ProxyURL.Host != "proxy:3128" {
		t.Fatalf("converted %+v", pc.HTTPClientConfig)
	}
}
