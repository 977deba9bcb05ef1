package triton

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// Answers of Triton Container Monitor's discovery endpoint.
const containersJSON = `{"containers": [
  {"groups": ["web", "prod"], "server_uuid": "44454c4c-5000-104d-8037-b7c04f5a5131",
   "vm_alias": "web-1", "vm_brand": "lx", "vm_image_uuid": "7b27a514-89d7-11e6-bee6-3f96f367bee7",
   "vm_uuid": "ad466fbf-46a2-4027-9b64-8d3cdb7e9072"},
  {"server_uuid": "44454c4c-5000-104d-8037-b7c04f5a5131", "vm_alias": "db-1", "vm_brand": "joyent",
   "vm_image_uuid": "a5f6e5c2-0000-0000-0000-000000000000", "vm_uuid": "b10ff2e8-2d2e-4a9f-9e3d-2c6f1c3b8e11"}
]}`

const cnsJSON = `{"cns": [{"server_uuid": "44454c4c-5000-104d-8037-b7c04f5a5131", "server_hostname": "cn-1"}]}`

func serve(t *testing.T) (host string, port int, caPEM string, paths func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/discover":
			_, _ = w.Write([]byte(containersJSON))
		case "/v1/gz/discover":
			_, _ = w.Write([]byte(cnsJSON))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port, _ = strconv.Atoi(u.Port())
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return u.Hostname(), port, string(ca), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func args(host string, port int, ca string) Arguments {
	var a Arguments
	a.SetToDefault()
	a.Account, a.DNSSuffix, a.Endpoint, a.Port = "acme", "triton.example", host, port
	a.RefreshInterval = time.Hour
	a.TLSConfig.CA = ca
	return a
}

func TestContainersOverTLS(t *testing.T) {
	host, port, ca, paths := serve(t)
	a := args(host, port, ca)
	a.Groups = []string{"web", "prod"}
	c, rec := discoverytest.Start(t, "discovery.triton.test", 2, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health = %+v", h)
	}
	ts, _ := rec.Targets()
	got := discoverytest.ByAddress(ts)
	addr := "ad466fbf-46a2-4027-9b64-8d3cdb7e9072.triton.example:" + strconv.Itoa(port)
	discoverytest.ExpectLabels(t, "web-1", got[addr], map[string]string{
		"__meta_triton_machine_id":    "ad466fbf-46a2-4027-9b64-8d3cdb7e9072",
		"__meta_triton_machine_alias": "web-1",
		"__meta_triton_machine_brand": "lx",
		"__meta_triton_machine_image": "7b27a514-89d7-11e6-bee6-3f96f367bee7",
		"__meta_triton_server_id":     "44454c4c-5000-104d-8037-b7c04f5a5131",
		"__meta_triton_groups":        ",web,prod,",
	})
	if p := strings.Join(paths(), " "); !strings.Contains(p, "/v1/discover?groups=web%2Cprod") {
		t.Fatalf("requests %s, want the groups query", p)
	}
}

func TestComputeNodes(t *testing.T) {
	host, port, ca, _ := serve(t)
	a := args(host, port, ca)
	a.Role = "cn"
	_, rec := discoverytest.Start(t, "discovery.triton.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "cn-1", ts[0], map[string]string{
		"__address__":                 "44454c4c-5000-104d-8037-b7c04f5a5131.triton.example:" + strconv.Itoa(port),
		"__meta_triton_machine_alias": "cn-1",
	})
}

func TestUntrustedCertificateIsUnhealthy(t *testing.T) {
	host, port, _, _ := serve(t)
	a := args(host, port, "")
	c, _ := discoverytest.Start(t, "discovery.triton.test", 0, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthUnhealthy || !strings.Contains(h.Message, "certificate") {
		t.Fatalf("health = %+v, want unhealthy for the unknown authority", h)
	}
}

func TestArgumentsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Arguments)
		want string
	}{
		{"bad role", func(a *Arguments) { a.Role = "vm" }, "invalid role"},
		{"no account", func(a *Arguments) { a.Account = "" }, "account must be set"},
		{"no suffix", func(a *Arguments) { a.DNSSuffix = "" }, "dns_suffix must be set"},
		{"no endpoint", func(a *Arguments) { a.Endpoint = "" }, "endpoint must be set"},
		{"bad tls", func(a *Arguments) { a.TLSConfig.MinVersion = "TLS9" }, "unknown TLS version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := args("triton.example", 9163, "")
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
discovery.triton "example" {
    account    = "<ACCOUNT>"
    dns_suffix = "<DNS_SUFFIX>"
    endpoint   = "<ENDPOINT>"
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.triton", nil, &a); err != nil {
		t.Fatal(err)
	}
	sd, err := a.SDConfig()
	if err != nil {
		t.Fatal(err)
	}
	if sd.Role != "container" || sd.Port != 9163 || sd.Version != 1 || time.Duration(sd.RefreshInterval) != time.Minute {
		t.Fatalf("converted %+v", sd)
	}
}
