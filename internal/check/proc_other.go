//go:build !unix

package check

import (
	"os"
	"os/exec"
)

// setProcessGroup is a no-op where process groups are not available.
func setProcessGroup(*exec.Cmd) {}

// signalGroup kills p itself where process groups are not available.
func signalGroup(p *os.Process, _ bool) error { return p.Kill() }
