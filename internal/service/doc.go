// Package service is the service scope: two Deployments <app>-blue and
// <app>-green behind an active and a preview Service. It reads the cluster
// into the planner's observed state, and provides the engine actions that
// carry out the planned steps, each with its before-state and undo.
package service
