// Package deploy holds the manifests users install, embedded so that
// bluegreen can install them itself and tests check what ships.
package deploy

import "embed"

// CRDs holds crds/*.yaml.
//
//go:embed crds/*.yaml
var CRDs embed.FS
