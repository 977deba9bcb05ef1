package discovery

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/common/config"

	"github.com/shoal-dev/shoal/internal/syntax/types"
)

// http_headers reach the server on every request made with the converted
// client, as in Alloy.
func TestHTTPHeadersAreSentWithEveryRequest(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Scope-OrgID")
	}))
	defer srv.Close()

	h := DefaultHTTPClientConfig
	h.HTTPHeaders = map[string][]types.Secret{"X-Scope-OrgID": {"tenant-1"}}
	pc, err := h.Prometheus()
	if err != nil {
		t.Fatal(err)
	}
	client, err := config.NewClientFromConfig(pc, "test")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := <-got; v != "tenant-1" {
		t.Fatalf("X-Scope-OrgID = %q, want tenant-1", v)
	}
}

// A proxy_connect_header without a proxy is refused, as prometheus does.
func TestProxyConnectHeaderNeedsAProxy(t *testing.T) {
	h := DefaultHTTPClientConfig
	h.ProxyConnectHeader = map[string][]types.Secret{"Proxy-Authorization": {"x"}}
	if _, err := h.Prometheus(); err == nil {
		t.Fatal("want an error for proxy_connect_header without proxy_url")
	}
}
