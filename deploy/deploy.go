// Package deploy holds the manifests users install, embedded so that
// bluegreen can install them itself and tests check what ships.
package deploy

import "embed"

// CRDs holds crds/*.yaml.
//
//go:embed crds/*.yaml
var CRDs embed.FS

// RBAC holds rbac/*.yaml: least-privilege roles per scope.
//
//go:embed rbac/*.yaml
var RBAC embed.FS
