//go:build shoal_nocloudauth

package remotewrite

import "net/http"

// wrapCloudAuth fails: this build leaves out the AWS, Azure and Google
// SDKs that sigv4, azuread and google_iam need.
func wrapCloudAuth(cfg EndpointConfig, next http.RoundTripper) (http.RoundTripper, error) {
	return nil, errCloudAuthLeftOut
}
