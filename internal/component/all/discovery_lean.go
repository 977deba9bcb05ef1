//go:build shoal_lean

package all

import "github.com/shoal-dev/shoal/internal/component"

// heavyDiscovery is empty in the lean build (-tags shoal_lean).
var heavyDiscovery []component.Registration
