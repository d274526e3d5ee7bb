// Package e2e holds bluegreen's end-to-end scenarios: the real CLI binary
// against real Kubernetes API servers of the local test bed, with real HTTP
// endpoints for the checks. Each scenario reads Given / When / Then.
package e2e
