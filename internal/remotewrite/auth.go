package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/common/config"
)

// SigV4Config signs every request with AWS Signature Version 4
// (Prometheus' github.com/prometheus/sigv4). Empty AccessKey and
// SecretKey mean the AWS default credential chain (environment, shared
// files, the instance's role); RoleARN assumes a role on top.
type SigV4Config struct {
	Region             string
	AccessKey          string
	SecretKey          string
	Profile            string
	RoleARN            string
	ExternalID         string
	UseFIPSSTSEndpoint bool
	ServiceName        string
}

// AzureADConfig adds an Azure AD (Entra ID) access token to every request
// (Prometheus' storage/remote/azuread). Exactly one of ManagedIdentity,
// WorkloadIdentity, OAuth and SDK is set.
type AzureADConfig struct {
	// Cloud is AzurePublic, AzureChina or AzureGovernment.
	Cloud string
	// Scope replaces the cloud's default token audience when set.
	Scope            string
	ManagedIdentity  *AzureManagedIdentity
	WorkloadIdentity *AzureWorkloadIdentity
	OAuth            *AzureOAuth
	SDK              *AzureSDK
}

// AzureManagedIdentity is a user-assigned managed identity.
type AzureManagedIdentity struct{ ClientID string }

// AzureWorkloadIdentity is a Kubernetes workload identity; TokenFilePath
// empty means Azure's default projected token path.
type AzureWorkloadIdentity struct{ ClientID, TenantID, TokenFilePath string }

// AzureOAuth is an application's client credentials.
type AzureOAuth struct{ ClientID, ClientSecret, TenantID string }

// AzureSDK is the Azure SDK's default credential chain.
type AzureSDK struct{ TenantID string }

// GoogleIAMConfig adds a Google Cloud access token (scope
// monitoring.write) to every request (Prometheus'
// storage/remote/googleiam). An empty CredentialsFile means Google's
// application default credentials.
type GoogleIAMConfig struct{ CredentialsFile string }

// CloudAuthTag is the build tag of the lean build that leaves out sigv4,
// azuread and google_iam (Prometheus' packages and, through them, the AWS,
// Azure and Google SDKs). The default build links them, so that Alloy
// configs using them run unchanged; their package initialisation alone
// adds about 1 MiB of anonymous memory (+17 %) and 7 MiB of mapped file to
// every idle node, and 11 MB to the binary, which the lean build saves
// (docs/operations.md, "Builds with cloud authentication").
const CloudAuthTag = "shoal_lean"

// errCloudAuthLeftOut is what a build without the cloud authentication
// packages says for sigv4, azuread or google_iam.
var errCloudAuthLeftOut = errors.New("sigv4, azuread and google_iam need the default build, with the cloud SDKs; this one was built with -tags " + CloudAuthTag)

// ErrCloudAuthLeftOut returns the error of a build without sigv4,
// azuread and google_iam, nil in a build with them.
func ErrCloudAuthLeftOut() error {
	if cloudAuthBuilt {
		return nil
	}
	return errCloudAuthLeftOut
}

// cloudAuth reports whether the endpoint uses sigv4, azuread or
// google_iam.
func (c *EndpointConfig) cloudAuth() bool {
	return c.SigV4 != nil || c.AzureAD != nil || c.GoogleIAM != nil
}

// newHTTPClient builds an endpoint's HTTP client: Prometheus' client for
// the HTTP settings (basic_auth, authorization, oauth2, TLS, proxy),
// dialing through a round-robin resolver when RoundRobinDNS, and signing
// or adding a cloud token last (so that the signature covers every header
// the client sets).
func newHTTPClient(cfg EndpointConfig, userAgent string) (*http.Client, error) {
	opts := []config.HTTPClientOption{config.WithUserAgent(userAgent)}
	if cfg.RoundRobinDNS {
		d := &roundRobinDialer{lookup: lookupHost}
		opts = append(opts, config.WithDialContextFunc(d.DialContext))
	}
	hc, err := config.NewClientFromConfig(cfg.HTTPClient, "remote_write", opts...)
	if err != nil {
		return nil, err
	}
	if cfg.cloudAuth() {
		if hc.Transport, err = wrapCloudAuth(cfg, hc.Transport); err != nil {
			return nil, err
		}
	}
	return hc, nil
}

// lookupHost resolves a host name for round_robin_dns; tests replace it.
var lookupHost = net.DefaultResolver.LookupHost

// roundRobinDialer dials a host name's addresses in turn, one new
// connection after the other, so that the connections of an endpoint's
// shards (and their requests) spread across every A (and AAAA) record of
// the receiver's name instead of going to the first one. A dial that
// fails tries the next address. Like Prometheus' round_robin_dns, it
// acts at connection time: a kept-alive connection stays on its address.
type roundRobinDialer struct {
	lookup func(ctx context.Context, host string) ([]string, error)
	d      net.Dialer
	next   atomic.Uint64
}

// DialContext dials addr ("host:port").
func (r *roundRobinDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(host) != nil {
		return r.d.DialContext(ctx, network, addr)
	}
	ips, err := r.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("round_robin_dns: no address for %s", host)
	}
	start := r.next.Add(1) - 1
	var firstErr error
	for i := range ips {
		ip := ips[(start+uint64(i))%uint64(len(ips))]
		c, err := r.d.DialContext(ctx, network, net.JoinHostPort(ip, port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}
