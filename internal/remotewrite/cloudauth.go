//go:build !shoal_lean

package remotewrite

import (
	"net/http"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/storage/remote/azuread"
	"github.com/prometheus/prometheus/storage/remote/googleiam"
	"github.com/prometheus/sigv4"
)

const cloudAuthBuilt = true

// wrapCloudAuth wraps next with the signer or token source of sigv4,
// azuread or google_iam, with Prometheus' own packages. Building it may
// load credentials (sigv4 retrieves them once, as Prometheus does), so it
// runs when an endpoint starts, never while a config is validated.
func wrapCloudAuth(cfg EndpointConfig, next http.RoundTripper) (http.RoundTripper, error) {
	switch {
	case cfg.SigV4 != nil:
		return sigv4.NewSigV4RoundTripper(promSigV4(cfg.SigV4), next)
	case cfg.AzureAD != nil:
		ac := promAzureAD(cfg.AzureAD)
		if err := ac.Validate(); err != nil {
			return nil, err
		}
		return azuread.NewAzureADRoundTripper(ac, next)
	case cfg.GoogleIAM != nil:
		return googleiam.NewRoundTripper(&googleiam.Config{CredentialsFile: cfg.GoogleIAM.CredentialsFile}, next)
	}
	return next, nil
}

func promSigV4(s *SigV4Config) *sigv4.SigV4Config {
	return &sigv4.SigV4Config{
		Region:             s.Region,
		AccessKey:          s.AccessKey,
		SecretKey:          commoncfg.Secret(s.SecretKey),
		Profile:            s.Profile,
		RoleARN:            s.RoleARN,
		ExternalID:         s.ExternalID,
		UseFIPSSTSEndpoint: s.UseFIPSSTSEndpoint,
		ServiceName:        s.ServiceName,
	}
}

func promAzureAD(a *AzureADConfig) *azuread.AzureADConfig {
	c := &azuread.AzureADConfig{Cloud: a.Cloud, Scope: a.Scope}
	if m := a.ManagedIdentity; m != nil {
		c.ManagedIdentity = &azuread.ManagedIdentityConfig{ClientID: m.ClientID}
	}
	if w := a.WorkloadIdentity; w != nil {
		p := w.TokenFilePath
		if p == "" {
			p = azuread.DefaultWorkloadIdentityTokenPath
		}
		c.WorkloadIdentity = &azuread.WorkloadIdentityConfig{ClientID: w.ClientID, TenantID: w.TenantID, TokenFilePath: p}
	}
	if o := a.OAuth; o != nil {
		c.OAuth = &azuread.OAuthConfig{ClientID: o.ClientID, ClientSecret: commoncfg.Secret(o.ClientSecret), TenantID: o.TenantID}
	}
	if s := a.SDK; s != nil {
		c.SDK = &azuread.SDKConfig{TenantID: s.TenantID}
	}
	return c
}
