package uyuni

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// XML-RPC answers of Uyuni's /rpc/api, one per method.
var answers = map[string]string{
	"auth.login": `<string>5e7a31b0token</string>`,
	"system.listSystemGroupsForSystemsWithEntitlement": `<array><data>
  <value><struct>
    <member><name>id</name><value><int>1000010000</int></value></member>
    <member><name>system_groups</name><value><array><data>
      <value><struct>
        <member><name>id</name><value><int>5</int></value></member>
        <member><name>name</name><value><string>mygroup</string></value></member>
      </struct></value>
      <value><struct>
        <member><name>id</name><value><int>6</int></value></member>
        <member><name>name</name><value><string>web</string></value></member>
      </struct></value>
    </data></array></value></member>
  </struct></value>
</data></array>`,
	"system.monitoring.listEndpoints": `<array><data>
  <value><struct>
    <member><name>system_id</name><value><int>1000010000</int></value></member>
    <member><name>endpoint_name</name><value><string>node_exporter</string></value></member>
    <member><name>port</name><value><int>9100</int></value></member>
    <member><name>path</name><value><string>/metrics</string></value></member>
    <member><name>module</name><value><string></string></value></member>
    <member><name>exporter_name</name><value><string>node_exporter</string></value></member>
    <member><name>tls_enabled</name><value><boolean>0</boolean></value></member>
  </struct></value>
  <value><struct>
    <member><name>system_id</name><value><int>1000010000</int></value></member>
    <member><name>endpoint_name</name><value><string>apache</string></value></member>
    <member><name>port</name><value><int>9117</int></value></member>
    <member><name>path</name><value><string>/apache</string></value></member>
    <member><name>module</name><value><string>apache_exporter</string></value></member>
    <member><name>exporter_name</name><value><string>apache_exporter</string></value></member>
    <member><name>tls_enabled</name><value><boolean>1</boolean></value></member>
  </struct></value>
</data></array>`,
	"system.getNetworkForSystems": `<array><data>
  <value><struct>
    <member><name>system_id</name><value><int>1000010000</int></value></member>
    <member><name>hostname</name><value><string>minion1.example</string></value></member>
    <member><name>primary_fqdn</name><value><string>minion1.example.com</string></value></member>
    <member><name>ip</name><value><string>127.0.150.1</string></value></member>
  </struct></value>
</data></array>`,
}

var methodName = regexp.MustCompile(`<methodName>([^<]+)</methodName>`)

func TestEndpointsOverXMLRPC(t *testing.T) {
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m := methodName.FindSubmatch(body)
		if r.URL.Path != "/rpc/api" || m == nil || answers[string(m[1])] == "" {
			http.NotFound(w, r)
			return
		}
		method := string(m[1])
		mu.Lock()
		calls = append(calls, method+" "+string(body))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<?xml version="1.0"?><methodResponse><params><param><value>`+answers[method]+`</value></param></params></methodResponse>`)
	}))
	defer srv.Close()
	var a Arguments
	a.SetToDefault()
	a.Server, a.Username, a.Password = srv.URL, "admin", "s3cr3t"
	a.Separator = "|"
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.uyuni.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	discoverytest.ExpectLabels(t, "node", got["minion1.example:9100"], map[string]string{
		"__meta_uyuni_minion_hostname": "minion1.example",
		"__meta_uyuni_primary_fqdn":    "minion1.example.com",
		"__meta_uyuni_system_id":       "1000010000",
		"__meta_uyuni_groups":          "mygroup|web",
		"__meta_uyuni_endpoint_name":   "node_exporter",
		"__meta_uyuni_exporter":        "node_exporter",
		"__meta_uyuni_metrics_path":    "/metrics",
		"__meta_uyuni_scheme":          "http",
	})
	discoverytest.ExpectLabels(t, "apache", got["minion1.example:9117"], map[string]string{
		"__meta_uyuni_proxy_module": "apache_exporter",
		"__meta_uyuni_scheme":       "https",
	})
	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 4 || !strings.HasPrefix(calls[0], "auth.login") || !strings.Contains(calls[0], "<string>admin</string>") ||
		!strings.Contains(calls[1], "monitoring_entitled") || !strings.Contains(calls[1], "5e7a31b0token") {
		t.Fatalf("calls %q, want a login with the credentials, then the token and the entitlement", calls)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"no scheme", func(a *Arguments) { a.Server = "uyuni.example" }, "needs a scheme and a host"},
		{"no password", func(a *Arguments) { a.Password = "" }, "username and password"},
		{"zero interval", func(a *Arguments) { a.RefreshInterval = 0 }, "refresh_interval"},
		{"bad tls", func(a *Arguments) { a.TLSConfig.MinVersion = "TLS9" }, "unknown TLS version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Arguments
			a.SetToDefault()
			a.Server, a.Username, a.Password = "https://uyuni.example", "u", "p"
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
discovery.uyuni "example" {
    server   = "https://127.0.0.1/rpc/api"
    username = "user"
    password = "pass"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.uyuni", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Entitlement != "monitoring_entitled" || sd.Separator != "," || time.Duration(sd.RefreshInterval) != time.Minute ||
		!sd.HTTPClientConfig.FollowRedirects || !sd.HTTPClientConfig.EnableHTTP2 {
		t.Fatalf("converted %+v", sd)
	}
}
