//go:build shoal_lean

package remotewrite

import (
	"errors"
	"strings"
	"testing"
)

// TestCloudAuthLeftOut: the default build (without the cloud packages)
// refuses sigv4, azuread and google_iam with a message naming the build
// tag, and still has round_robin_dns.
func TestCloudAuthLeftOut(t *testing.T) {
	for _, cfg := range []EndpointConfig{
		{URL: "http://127.0.0.1:1/w", SigV4: &SigV4Config{Region: "r"}},
		{URL: "http://127.0.0.1:1/w", AzureAD: &AzureADConfig{Cloud: "AzurePublic", SDK: &AzureSDK{}}},
		{URL: "http://127.0.0.1:1/w", GoogleIAM: &GoogleIAMConfig{}},
	} {
		if _, err := newHTTPClient(cfg, "test"); !errors.Is(err, errCloudAuthLeftOut) {
			t.Errorf("%+v: err %v", cfg, err)
		}
	}
	if ErrCloudAuthLeftOut() == nil || !strings.Contains(ErrCloudAuthLeftOut().Error(), "-tags shoal_lean") {
		t.Errorf("ErrCloudAuthLeftOut() = %v", ErrCloudAuthLeftOut())
	}
	if _, err := newHTTPClient(EndpointConfig{URL: "http://127.0.0.1:1/w", RoundRobinDNS: true}, "test"); err != nil {
		t.Errorf("round_robin_dns: %v", err)
	}
}
