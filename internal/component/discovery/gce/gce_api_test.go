package gce

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
	"github.com/shoal-dev/shoal/internal/component/discovery"
	"github.com/shoal-dev/shoal/internal/component/discovery/discoverytest"
)

// An instances.list answer of the Compute Engine API (v1), trimmed to the
// fields the discoverer reads.
const instancesJSON = `{
 "kind": "compute#instanceList",
 "id": "projects/shop-prod/zones/europe-west1-b/instances",
 "items": [{
  "kind": "compute#instance", "id": "4567890123456789012", "name": "web-1", "status": "RUNNING",
  "zone": "https://www.googleapis.com/compute/v1/projects/shop-prod/zones/europe-west1-b",
  "machineType": "https://www.googleapis.com/compute/v1/projects/shop-prod/zones/europe-west1-b/machineTypes/e2-medium",
  "tags": {"items": ["http-server", "prod"]},
  "labels": {"team": "shop"},
  "metadata": {"kind": "compute#metadata", "items": [{"key": "role", "value": "web"}]},
  "networkInterfaces": [{
   "name": "nic0", "networkIP": "127.0.200.1",
   "network": "https://www.googleapis.com/compute/v1/projects/shop-prod/global/networks/default",
   "subnetwork": "https://www.googleapis.com/compute/v1/projects/shop-prod/regions/europe-west1/subnetworks/default",
   "accessConfigs": [{"kind": "compute#accessConfig", "type": "ONE_TO_ONE_NAT", "name": "External NAT", "natIP": "127.0.201.1"}]
  }]
 }]
}`

// TestInstancesFromTheComputeAPI runs the discoverer with Application
// Default Credentials from a service-account key file whose token_uri is a
// local token endpoint, and reaches compute.googleapis.com through a
// loopback proxy that answers for it with a test CA. The metadata server is
// never asked: the key file comes first, and GCE_METADATA_HOST points at a
// closed loopback port in case anything looked.
func TestInstancesFromTheComputeAPI(t *testing.T) {
	var mu sync.Mutex
	var auths, queries []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		queries = append(queries, r.Host+r.URL.Path+"?"+r.URL.Query().Get("filter"))
		mu.Unlock()
		if r.URL.Path != "/compute/v1/projects/shop-prod/zones/europe-west1-b/instances" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(instancesJSON))
	})
	proxy := discoverytest.NewTLSProxy(t, api)
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.PostForm.Get("assertion") == "" {
			http.Error(w, "want a JWT bearer grant", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ya29.test-token","token_type":"Bearer","expires_in":3600}`))
	}))
	defer tokens.Close()

	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sa, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "shop-prod",
		"private_key_id": "0123456789abcdef",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "shoal@shop-prod.iam.gserviceaccount.com",
		"client_id":      "123456789",
		"token_uri":      tokens.URL + "/token",
	})
	saPath := filepath.Join(dir, "sa.json")
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(saPath, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caPath, []byte(proxy.CAPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	// The Compute client uses Go's default transport: its proxy and roots
	// come from the environment, read once, before this test's first use.
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", saPath)
	t.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("SSL_CERT_FILE", caPath)

	a := DefaultArguments
	a.Project, a.Zone, a.Filter, a.Port = "shop-prod", "europe-west1-b", "labels.team = shop", 9100
	a.RefreshInterval = time.Hour
	c, rec := discoverytest.Start(t, "discovery.gce.test", 1, func(o component.Options) (*discovery.Component, error) {
		return New(o, a)
	})
	if h := c.CurrentHealth(); h.State != component.HealthHealthy {
		t.Fatalf("health %+v", h)
	}
	ts, _ := rec.Targets()
	discoverytest.ExpectLabels(t, "web-1", ts[0], map[string]string{
		"__address__":                    "127.0.200.1:9100",
		"__meta_gce_project":             "shop-prod",
		"__meta_gce_instance_id":         "4567890123456789012",
		"__meta_gce_instance_name":       "web-1",
		"__meta_gce_instance_status":     "RUNNING",
		"__meta_gce_private_ip":          "127.0.200.1",
		"__meta_gce_public_ip":           "127.0.201.1",
		"__meta_gce_interface_ipv4_nic0": "127.0.200.1",
		"__meta_gce_tags":                ",http-server,prod,",
		"__meta_gce_label_team":          "shop",
		"__meta_gce_metadata_role":       "web",
	})
	mu.Lock()
	defer mu.Unlock()
	if len(auths) == 0 || auths[0] != "Bearer ya29.test-token" {
		t.Errorf("API calls authorised with %q, want the token from the key file's token_uri", auths)
	}
	if !strings.Contains(queries[0], "compute.googleapis.com") || !strings.HasSuffix(queries[0], "?labels.team = shop") {
		t.Errorf("queries %q", queries)
	}
	for _, h := range proxy.Hosts() {
		if !strings.HasPrefix(h, "compute.googleapis.com:") {
			t.Errorf("the proxy was asked for %s", h)
		}
	}
}
