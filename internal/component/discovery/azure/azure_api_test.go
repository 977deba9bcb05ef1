package azure

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

const (
	tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	sub    = "11111111-2222-3333-4444-555555555555"
	vmID   = "/subscriptions/" + sub + "/resourceGroups/shop/providers/Microsoft.Compute/virtualMachines/web-1"
	nicID  = "/subscriptions/" + sub + "/resourceGroups/shop/providers/Microsoft.Network/networkInterfaces/web-1-nic"
)

// Answers of Microsoft Entra ID (instance discovery, OpenID metadata,
// token) and Azure Resource Manager (virtual machines, scale sets, network
// interfaces), trimmed to the fields the clients read.
var answers = map[string]string{
	"login.microsoftonline.com/common/discovery/instance": `{"tenant_discovery_endpoint":"https://login.microsoftonline.com/` + tenant +
		`/v2.0/.well-known/openid-configuration","api-version":"1.1","metadata":[{"preferred_network":"login.microsoftonline.com","preferred_cache":"login.windows.net","aliases":["login.microsoftonline.com","login.windows.net"]}]}`,
	"login.microsoftonline.com/" + tenant + "/v2.0/.well-known/openid-configuration": `{"token_endpoint":"https://login.microsoftonline.com/` + tenant +
		`/oauth2/v2.0/token","authorization_endpoint":"https://login.microsoftonline.com/` + tenant + `/oauth2/v2.0/authorize","issuer":"https://login.microsoftonline.com/` + tenant + `/v2.0"}`,
	"login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token": `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"azure-test-token"}`,
	"management.azure.com/subscriptions/" + sub + "/resourceGroups/shop/providers/Microsoft.Compute/virtualMachines": `{"value":[{
  "id":"` + vmID + `","name":"web-1","type":"Microsoft.Compute/virtualMachines","location":"westeurope","tags":{"team":"shop"},
  "properties":{"hardwareProfile":{"vmSize":"Standard_B2s"},"storageProfile":{"osDisk":{"osType":"Linux"}},"osProfile":{"computerName":"web-1-host"},
   "networkProfile":{"networkInterfaces":[{"id":"` + nicID + `","properties":{"primary":true}}]}}}]}`,
	"management.azure.com/subscriptions/" + sub + "/resourceGroups/shop/providers/Microsoft.Compute/virtualMachineScaleSets": `{"value":[]}`,
	"management.azure.com" + nicID: `{"id":"` + nicID + `","name":"web-1-nic","properties":{"primary":true,"virtualMachine":{"id":"` + vmID + `"},
  "ipConfigurations":[{"name":"ipconfig1","properties":{"primary":true,"privateIPAddress":"127.0.210.1"}}]}}`,
}

// TestVirtualMachinesFromResourceManager authenticates with the oauth
// block's client secret and lists a resource group's machines. Entra ID
// and Resource Manager are served by a loopback proxy with a test CA: the
// token requests reach it through HTTPS_PROXY (the Azure SDK's own
// client), the Resource Manager requests through proxy_url and tls_config.
// No managed identity or metadata service is involved.
func TestVirtualMachinesFromResourceManager(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := discoverytest.NewTLSProxy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Host + r.URL.Path
		mu.Lock()
		seen = append(seen, r.Method+" "+key+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		body, ok := answers[key]
		if !ok {
			http.Error(w, `{"error":{"code":"NotFound","message":"no answer for `+key+`"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caPath, []byte(proxy.CAPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("SSL_CERT_FILE", caPath)
	t.Setenv("AZURE_CLIENT_ID", "")
	t.Setenv("IDENTITY_ENDPOINT", "")
	t.Setenv("MSI_ENDPOINT", "")

	src := `
discovery.azure "vms" {
  subscription_id  = SUB
  resource_group   = "shop"
  port             = 9100
  refresh_interval = "1h"
  proxy_url        = PROXY
  oauth {
    client_id     = "00000000-0000-0000-0000-00000000c11e"
    tenant_id     = TENANT
    client_secret = "s3cret"
  }
  tls_config {
    ca_pem = CA
  }
}
`
	var a Arguments
	if err := discoverytest.Decode(t, src, "discovery.azure", map[string]any{"SUB": sub, "TENANT": tenant, "PROXY": proxy.URL, "CA": proxy.CAPEM}, &a); err != nil {
		t.Fatal(err)
	}
	c, rec := discoverytest.Start(t, "discovery.azure.vms", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		mu.Lock()
		t.Fatalf("health %+v; requests %q", h, seen)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "web-1", ts[0], map[string]string{
		"__address__":                         "127.0.210.1:9100",
		"__meta_azure_subscription_id":        sub,
		"__meta_azure_tenant_id":              tenant,
		"__meta_azure_machine_id":             vmID,
		"__meta_azure_machine_name":           "web-1",
		"__meta_azure_machine_computer_name":  "web-1-host",
		"__meta_azure_machine_os_type":        "Linux",
		"__meta_azure_machine_location":       "westeurope",
		"__meta_azure_machine_resource_group": "shop",
		"__meta_azure_machine_size":           "Standard_B2s",
		"__meta_azure_machine_private_ip":     "127.0.210.1",
		"__meta_azure_machine_tag_team":       "shop",
	})
	mu.Lock()
	defer mu.Unlock()
	var token, listed bool
	for _, s := range seen {
		if strings.HasPrefix(s, "POST login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token") {
			token = true
		}
		if strings.Contains(s, "/virtualMachines ") && strings.HasSuffix(s, "Bearer azure-test-token") {
			listed = true
		}
		if !strings.Contains(s, "login.microsoftonline.com") && !strings.Contains(s, "management.azure.com") {
			t.Errorf("unexpected request %s", s)
		}
	}
	if !token || !listed {
		t.Errorf("token fetched %v, machines listed with it %v: %q", token, listed, seen)
	}
}
