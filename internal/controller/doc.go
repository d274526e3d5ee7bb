// Package controller is `bluegreen controller`: it reconciles
// BlueGreenReleases (api/v1alpha1) through the same plan, engine, Lease and
// run records as the CLI, so that a release declared in Git and one typed
// at a terminal are one thing to every command.
package controller
