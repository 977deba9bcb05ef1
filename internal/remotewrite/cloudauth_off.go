//go:build shoal_lean

package remotewrite

import "net/http"

const cloudAuthBuilt = false

// wrapCloudAuth fails: this build leaves out the AWS, Azure and Google
// SDKs that sigv4, azuread and google_iam need (see CloudAuthTag).
func wrapCloudAuth(cfg EndpointConfig, next http.RoundTripper) (http.RoundTripper, error) {
	return nil, errCloudAuthLeftOut
}
