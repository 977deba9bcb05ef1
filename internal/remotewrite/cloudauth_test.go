//go:build !shoal_lean

package remotewrite

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/storage/remote/azuread"
)

// TestSigV4SignsRequests: a sigv4 endpoint with static credentials signs
// every request; the receiver's copy, signed again with the same
// credentials, region, service and time (X-Amz-Date), has the same
// Authorization header, so the signature covers the body and the signed
// headers exactly as they arrived.
func TestSigV4SignsRequests(t *testing.T) {
	noCloudChains(t)
	rcv := newAuthReceiver(t)
	ep := authEndpoint(rcv.srv.URL + "/workspaces/ws-1/api/v1/remote_write")
	ep.HTTPClient = config.DefaultHTTPClientConfig
	ep.Headers = map[string]string{"X-Scope-OrgID": "tenant-1"}
	ep.SigV4 = &SigV4Config{Region: "eu-west-1", AccessKey: "AKIDEXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(1, 3, 1000))
	got := rcv.first(t)

	auth := got.header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/aps/aws4_request") {
		t.Fatalf("Authorization %q", auth)
	}
	signed := ""
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		if v, ok := strings.CutPrefix(part, "SignedHeaders="); ok {
			signed = v
		}
	}
	for _, h := range []string{"host", "x-amz-date", "content-encoding", "content-type", "x-scope-orgid", "x-prometheus-remote-write-version"} {
		if !strings.Contains(";"+signed+";", ";"+h+";") {
			t.Errorf("SignedHeaders %q lacks %s", signed, h)
		}
	}
	when, err := time.Parse("20060102T150405Z", got.header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	resign := func(body []byte) string {
		req, _ := http.NewRequest(got.method, "http://"+got.host+got.path, nil)
		req.ContentLength = int64(len(body)) // Go's server keeps Content-Length out of the header map
		for _, h := range strings.Split(signed, ";") {
			if h != "host" && h != "x-amz-date" {
				req.Header[http.CanonicalHeaderKey(h)] = got.header.Values(h)
			}
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
		if err := signer.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "aps", "eu-west-1", when); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	if again := resign(got.body); again != auth {
		t.Errorf("signature does not verify:\n got  %s\n want %s", auth, again)
	}
	if other := resign(append([]byte{0}, got.body...)); other == auth {
		t.Error("the signature does not depend on the body")
	}
}

// TestSigV4NeedsRegion: without a region (and no AWS environment) the
// endpoint fails to start with Prometheus' message, instead of asking a
// metadata service.
func TestSigV4NeedsRegion(t *testing.T) {
	noCloudChains(t)
	cfg := authEndpoint("http://127.0.0.1:1/w")
	cfg.SigV4 = &SigV4Config{AccessKey: "a", SecretKey: "b"}
	_, err := newHTTPClient(cfg, "test")
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("err %v, want one about the region", err)
	}
}

// TestGoogleIAMServiceAccount: google_iam with a service-account
// credentials file whose token_uri is a loopback token endpoint: the
// endpoint exchanges a signed JWT (the jwt-bearer grant) for a token, and
// the remote-write request carries it.
func TestGoogleIAMServiceAccount(t *testing.T) {
	noCloudChains(t)
	ts := newTokenServer(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", "tok-google")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	sa, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "shoal-test",
		"private_key_id": "k1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "writer@shoal-test.iam.gserviceaccount.com",
		"client_id":      "1",
		"token_uri":      ts.srv.URL + "/token",
	})
	file := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(file, sa, 0o600); err != nil {
		t.Fatal(err)
	}
	rcv := newAuthReceiver(t)
	ep := authEndpoint(rcv.srv.URL + "/api/v1/write")
	ep.HTTPClient = config.DefaultHTTPClientConfig
	ep.GoogleIAM = &GoogleIAMConfig{CredentialsFile: file}
	r := start(t, t.TempDir(), Options{}, Config{Endpoints: []EndpointConfig{ep}})
	r.receive(t, makeBatches(1, 3, 1000))
	got := rcv.first(t)
	if a := got.header.Get("Authorization"); a != "Bearer tok-google" {
		t.Errorf("Authorization %q, want Bearer tok-google", a)
	}
	forms, _ := ts.calls()
	if len(forms) == 0 || forms[0]["grant_type"] != "urn:ietf:params:oauth:grant-type:jwt-bearer" || forms[0]["assertion"] == "" {
		t.Fatalf("token requests %v", forms)
	}
}

// TestAzureADMapping: azuread's settings reach Prometheus' config as Alloy
// maps them (workload identity's default token path), and the round
// tripper builds without fetching a token. Azure's token endpoint (the
// cloud's login host) cannot be pointed at a loopback server through
// Prometheus' package, so no token is fetched here.
func TestAzureADMapping(t *testing.T) {
	noCloudChains(t)
	for _, tc := range []struct {
		in   AzureADConfig
		want azuread.AzureADConfig
	}{
		{AzureADConfig{Cloud: "AzurePublic", OAuth: &AzureOAuth{ClientID: "00000000-0000-0000-0000-000000000001", ClientSecret: "s", TenantID: "t"}},
			azuread.AzureADConfig{Cloud: "AzurePublic", OAuth: &azuread.OAuthConfig{ClientID: "00000000-0000-0000-0000-000000000001", ClientSecret: "s", TenantID: "t"}}},
		{AzureADConfig{Cloud: "AzureChina", Scope: "x/.default", WorkloadIdentity: &AzureWorkloadIdentity{ClientID: "c", TenantID: "t"}},
			azuread.AzureADConfig{Cloud: "AzureChina", Scope: "x/.default", WorkloadIdentity: &azuread.WorkloadIdentityConfig{ClientID: "c", TenantID: "t", TokenFilePath: azuread.DefaultWorkloadIdentityTokenPath}}},
		{AzureADConfig{Cloud: "AzureGovernment", ManagedIdentity: &AzureManagedIdentity{ClientID: "m"}},
			azuread.AzureADConfig{Cloud: "AzureGovernment", ManagedIdentity: &azuread.ManagedIdentityConfig{ClientID: "m"}}},
		{AzureADConfig{Cloud: "AzurePublic", SDK: &AzureSDK{TenantID: "t"}},
			azuread.AzureADConfig{Cloud: "AzurePublic", SDK: &azuread.SDKConfig{TenantID: "t"}}},
	} {
		if got := promAzureAD(&tc.in); !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("promAzureAD(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	cfg := authEndpoint("http://127.0.0.1:1/w")
	cfg.AzureAD = &AzureADConfig{Cloud: "AzurePublic", OAuth: &AzureOAuth{ClientID: "00000000-0000-0000-0000-000000000001", ClientSecret: "s", TenantID: "00000000-0000-0000-0000-000000000002"}}
	hc, err := newHTTPClient(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	if hc.Transport == nil {
		t.Fatal("no transport")
	}
	cfg.AzureAD.Cloud = "Mars"
	if _, err := newHTTPClient(cfg, "test"); err == nil {
		t.Error("an unknown cloud was accepted")
	}
}

// TestSigV4Mapping: every sigv4 setting reaches Prometheus' config.
func TestSigV4Mapping(t *testing.T) {
	in := SigV4Config{Region: "r", AccessKey: "a", SecretKey: "s", Profile: "p", RoleARN: "arn", ExternalID: "e", UseFIPSSTSEndpoint: true, ServiceName: "svc"}
	got := promSigV4(&in)
	if got.Region != "r" || got.AccessKey != "a" || string(got.SecretKey) != "s" || got.Profile != "p" || got.RoleARN != "arn" ||
		got.ExternalID != "e" || !got.UseFIPSSTSEndpoint || got.ServiceName != "svc" {
		t.Errorf("promSigV4 = %+v", got)
	}
}

// TestCloudAuthBuilt: this build has sigv4, azuread and google_iam.
func TestCloudAuthBuilt(t *testing.T) {
	if err := ErrCloudAuthLeftOut(); err != nil {
		t.Fatal(err)
	}
}
