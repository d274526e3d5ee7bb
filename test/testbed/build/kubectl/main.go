//go:build kubectl

// Command kubectl is the upstream kubectl at the test bed's Kubernetes
// release, built from its Go module as upstream's own main does, so that
// the benchmark can time a bare `kubectl patch` as a user would run it. It
// builds only with -tags kubectl (`hack/testbed.sh --kubectl`): the test
// bed's own build does not pay for it.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// The client auth plugins, as in upstream's binary.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	// Verbosity first, as upstream does, so that command construction logs
	// at the level asked for.
	_, _ = logs.GlogSetter(cmd.GetLogVerbosity(os.Args))
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		util.CheckErr(err)
	}
}
