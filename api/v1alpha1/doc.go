// Package v1alpha1 is bluegreen's API for controller mode: a
// BlueGreenRelease declares the release of one app (its image, checks,
// approval and scale-down), and `bluegreen controller` carries it out
// through the same plan, engine and run records as the CLI.
//
// +kubebuilder:object:generate=true
// +groupName=bluegreen.dev
package v1alpha1
